// The long-running process: pidfile, log files (outputs), signals and the
// capture (capture.ts: tcpdump under its supervisor, or a capture file read
// here), wired together, with the last resort for what nothing caught.

import { acquirePidfile, releasePidfile } from './pidfile.js';
import { isPfasciilogd, setDaemonTitle } from './process-identity.js';
import { installLastResort } from './last-resort.js';
import { fileCapture, readsItself, tcpdumpCapture } from './capture.js';
import { RepeatFilter, summaryText } from '../dedupe/repeat-filter.js';
import { daemonOutputs, type DaemonOptions } from '../cli/options.js';
import { stampNow } from '../format/timestamp.js';
import { escapeText } from '../format/escape.js';
import { CLOSE_DEADLINE_MS, Outputs } from '../sink/outputs.js';
import { EX_CANTCREAT, EX_CONFIG, EX_OK, ExitError } from '../util/sysexits.js';
import { heapProblem } from './heap.js';

export interface DaemonHooks {
  /** one-line problems for the admin (stderr; syslog under daemon(8)) */
  warn(message: string): void;
}

function eventLine(message: string): Buffer {
  return Buffer.from(`${stampNow()} pfasciilogd: ${escapeText(message)}\n`, 'latin1');
}

export async function runDaemon(opts: DaemonOptions, hooks: DaemonHooks): Promise<number> {
  // before anything is created: a --dedupe table the heap cannot hold is a configuration error
  const heap = heapProblem(opts);
  if (heap !== null) throw new ExitError(heap, EX_CONFIG);
  // A TERM or INT that comes once the pidfile exists but before the handlers
  // below are in place is held and then acted on: the daemon still stops
  // cleanly and removes its pidfile, instead of dying by the default action.
  let held: NodeJS.Signals | null = null;
  const holdTerm = () => (held ??= 'SIGTERM');
  const holdInt = () => (held ??= 'SIGINT');
  process.on('SIGTERM', holdTerm);
  process.on('SIGINT', holdInt);
  // Another start reads the pidfile and counts it "running" only if this
  // process shows as pfasciilogd (process-identity.ts).
  setDaemonTitle();
  if (!isPfasciilogd(process.pid)) {
    hooks.warn(`this process does not show as pfasciilogd in ps; a second instance started with pidfile ${opts.pidFile} would take it for stale`);
  }
  acquirePidfile(opts.pidFile);
  let log: Outputs;
  try {
    log = new Outputs(daemonOutputs(opts), { warn: hooks.warn, stamp: stampNow });
  } catch (err) {
    releasePidfile(opts.pidFile);
    throw new ExitError(`cannot open log: ${(err as Error).message}`, EX_CANTCREAT);
  }
  log.onReopened = () => eventLine('log reopened');
  // The daemon's own lines are the same text line in every output, whatever
  // its format: a filterlog or JSON consumer skips a line it cannot parse.
  const event = (message: string) => log.writeAll(eventLine(message));

  const repeats = opts.dedupe > 0 ? new RepeatFilter({ windowSeconds: opts.dedupe, max: opts.dedupeMax }) : null;
  const reportRepeats = () => {
    const s = repeats?.takeSummary();
    if (s) event(summaryText(s));
  };
  const capture = readsItself(opts) ? fileCapture(opts, log, event, repeats) : tcpdumpCapture(opts, log, event, hooks.warn, repeats);
  const removeLastResort = installLastResort({
    warn: hooks.warn,
    logNow: (message) => log.writeNowSync(eventLine(message)),
    childPid: () => capture.childPid(),
    releaseChild: () => capture.releaseChild(),
    releasePidfile: () => releasePidfile(opts.pidFile),
  });

  let stopSignal: NodeJS.Signals | null = null;
  const reopen = () => log.reopen();
  const stop = (signal: NodeJS.Signals) => {
    if (stopSignal !== null) return;
    stopSignal = signal;
    event(`caught signal ${signal}`);
    capture.stop();
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  // OpenBSD's rc.subr may SIGALRM the children of a backgrounded (rc_bg) start
  // script once its own wait is over; Node's default for SIGALRM is to die.
  const ignore = () => {};
  process.on('SIGALRM', ignore);
  process.on('SIGHUP', reopen);
  process.on('SIGUSR1', reopen);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.off('SIGTERM', holdTerm);
  process.off('SIGINT', holdInt);

  if (held === null) capture.start();
  else stop(held);
  // What --dedupe held back, once a window (and at exit): a line the filter cannot match.
  const repeatsTimer = repeats !== null ? setInterval(reportRepeats, opts.dedupe * 1000) : null;
  const failure = await capture.finished;
  if (repeatsTimer) clearInterval(repeatsTimer);
  reportRepeats();

  // A start-up failure is said where the admin looks (stderr: the terminal,
  // or syslog under daemon(8)), not only in the log fail2ban reads.
  if (failure !== null && stopSignal === null) {
    if (!failure.logged) event(failure.message);
    hooks.warn(failure.message);
  }
  event('exiting');
  const unwritten = await log.close();
  if (unwritten.length > 0) hooks.warn(`exiting without all lines written: ${unwritten.map(escapeText).join(', ')} did not take them within ${CLOSE_DEADLINE_MS / 1000} s`);
  releasePidfile(opts.pidFile);
  process.off('SIGALRM', ignore);
  process.off('SIGHUP', reopen);
  process.off('SIGUSR1', reopen);
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  removeLastResort();
  if (stopSignal !== null || failure === null) return EX_OK;
  return failure.code;
}
