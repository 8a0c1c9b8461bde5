// The long-running process: pidfile, log file, signals, and the capture
// supervisor, wired together. With the native decoder tcpdump writes a pcap
// stream that we decode; in text-relay mode it prints each packet and we
// stamp its lines. Its stderr is always relayed as text, through a stamper of
// its own, so a partial line from one stream never mixes with the other.

import { acquirePidfile, releasePidfile } from './pidfile.js';
import { Supervisor, type ExitInfo } from './supervisor.js';
import { Reaper } from './reaper.js';
import { captureArgv, IMMEDIATE_MODE, textRelayArgv } from '../capture/tcpdump-command.js';
import { ImmediateModeFallback } from './immediate-fallback.js';
import { PacketLines } from '../format/packet-lines.js';
import { RepeatFilter, summaryText } from '../dedupe/repeat-filter.js';
import { hostInterfaceNames } from '../capture/interface-names.js';
import type { DaemonOptions } from '../cli/options.js';
import { LineStamper } from '../format/stamp-lines.js';
import { stampNow } from '../format/timestamp.js';
import { escapeText } from '../format/escape.js';
import { LogFile } from '../sink/log-file.js';
import { EX_CANTCREAT, EX_NOINPUT, EX_OK, EX_UNAVAILABLE, ExitError } from '../util/sysexits.js';

export interface DaemonHooks {
  /** one-line problems for the admin (stderr; syslog under daemon(8)) */
  warn(message: string): void;
}

function stampBytes(): Buffer {
  return Buffer.from(stampNow() + ' ', 'latin1');
}

function eventLine(message: string): Buffer {
  return Buffer.from(`${stampNow()} pfasciilogd: ${escapeText(message)}\n`, 'latin1');
}

/** Exit status when the capture file given with -r has been read (or not). */
function readFileExitCode(info: ExitInfo): number {
  if (info.spawnError !== null) return EX_UNAVAILABLE;
  return info.code === 0 ? EX_OK : EX_NOINPUT;
}

/** What turns the child's stdout into log lines: tcpdump's text, stamped, or a pcap stream, decoded. */
interface StdoutLines {
  push(chunk: Buffer, stamp: Buffer): Buffer | null;
  end(stamp: Buffer): Buffer | null;
  /** a new run of the child begins: a new stream */
  reset(): void;
  /** a buffer from push/end has been consumed */
  release?(lines: Buffer): void;
}

/**
 * The native decoder for the daemon: each tcpdump run is a new pcap stream.
 * Lines carry the packet's capture time. Corrupt records are reported in the
 * log; a stream that is not pcap at all is reported once per run.
 */
function nativeLines(opts: DaemonOptions, event: (message: string) => void, repeats: RepeatFilter | null): StdoutLines {
  const names = hostInterfaceNames();
  // one repeat filter for all runs: a restart of tcpdump is not a new window
  const make = () => new PacketLines(opts.format, (m) => event(`capture stream: ${m}`), names, repeats);
  let lines = make();
  let reportedFatal = false;
  return {
    push(chunk) {
      const out = lines.push(chunk);
      if (lines.fatal !== null && !reportedFatal) {
        reportedFatal = true;
        event(`capture stream: ${lines.fatal}; ignoring the rest of this run`);
      }
      return out;
    },
    end() {
      return lines.end();
    },
    reset() {
      lines = make();
      reportedFatal = false;
    },
    release(buf) {
      lines.recycle(buf);
    },
  };
}

export async function runDaemon(opts: DaemonOptions, hooks: DaemonHooks): Promise<number> {
  // A TERM or INT that comes once the pidfile exists but before the handlers
  // below are in place is held and then acted on: the daemon still stops
  // cleanly and removes its pidfile, instead of dying by the default action.
  let held: NodeJS.Signals | null = null;
  const holdTerm = () => (held ??= 'SIGTERM');
  const holdInt = () => (held ??= 'SIGINT');
  process.on('SIGTERM', holdTerm);
  process.on('SIGINT', holdInt);
  acquirePidfile(opts.pidFile);
  let log: LogFile;
  try {
    log = new LogFile(opts.logFile, { warn: hooks.warn, stamp: stampNow });
  } catch (err) {
    releasePidfile(opts.pidFile);
    throw new ExitError(`cannot open log: ${(err as Error).message}`, EX_CANTCREAT);
  }
  log.onReopened = () => eventLine('log reopened');
  const event = (message: string) => log.write(eventLine(message));

  const repeats = opts.dedupe > 0 ? new RepeatFilter({ windowSeconds: opts.dedupe, max: opts.dedupeMax }) : null;
  const reportRepeats = () => {
    const s = repeats?.takeSummary();
    if (s) event(summaryText(s));
  };
  const stdoutLines: StdoutLines = opts.decoder === 'native' ? nativeLines(opts, event, repeats) : new LineStamper();
  const stderrLines = new LineStamper();
  // a live capture must not outlive a killed daemon (a capture file ends by itself)
  const reaper = opts.readFile === undefined ? new Reaper(event) : null;
  const immediate = new ImmediateModeFallback();
  const supervisor = new Supervisor({
    command: opts.tcpdump,
    argv: () => (opts.decoder === 'native' ? captureArgv : textRelayArgv)(opts, process.platform, immediate.enabled),
    respawn: opts.readFile === undefined,
    onStdout(chunk) {
      immediate.stdout();
      const out = stdoutLines.push(chunk, stampBytes());
      if (out === null) return;
      const more = log.write(out); // copies: the buffer can be reused at once
      stdoutLines.release?.(out);
      if (!more) supervisor.pause();
    },
    onStderr(chunk) {
      immediate.stderrChunk(chunk);
      const out = stderrLines.push(chunk, stampBytes());
      if (out !== null) log.write(out);
    },
    onRunEnd(info) {
      reaper?.hold(0);
      // A line the child did not finish is still a line it wrote.
      for (const tail of [stdoutLines.end(stampBytes()), stderrLines.end(stampBytes())]) if (tail) log.write(tail);
      const refusal = immediate.runEnd(info.code);
      if (refusal !== null) {
        // once: the runs that follow go without the flag
        const message = `${opts.tcpdump} refused ${IMMEDIATE_MODE} (${refusal}); running it without: an isolated packet now waits up to a second in the capture buffer`;
        event(message);
        hooks.warn(escapeText(message));
      }
    },
    onRunStart() {
      immediate.runStart();
      stdoutLines.reset();
    },
    onSpawn(pid) {
      reaper?.hold(pid);
    },
    event,
  });
  log.on('drain', () => supervisor.resume());

  let stopSignal: NodeJS.Signals | null = null;
  const reopen = () => log.reopen();
  const stop = (signal: NodeJS.Signals) => {
    if (stopSignal !== null) return;
    stopSignal = signal;
    event(`caught signal ${signal}`);
    void supervisor.stop();
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

  if (held === null) supervisor.start();
  else stop(held);
  // Drops are visible: tcpdump's counters every --stats-interval (and, as
  // tcpdump prints them when it exits, at every exit).
  const statsTimer = opts.statsInterval > 0 && opts.readFile === undefined ? setInterval(() => supervisor.requestStats(), opts.statsInterval * 1000) : null;
  // What --dedupe held back, once a window (and at exit): a line the filter cannot match.
  const repeatsTimer = repeats !== null ? setInterval(reportRepeats, opts.dedupe * 1000) : null;
  const info = await supervisor.finished;
  if (statsTimer) clearInterval(statsTimer);
  if (repeatsTimer) clearInterval(repeatsTimer);
  reportRepeats();

  reaper?.close();
  event('exiting');
  await log.close();
  releasePidfile(opts.pidFile);
  process.off('SIGALRM', ignore);
  process.off('SIGHUP', reopen);
  process.off('SIGUSR1', reopen);
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  if (stopSignal !== null || opts.readFile === undefined) return EX_OK;
  return readFileExitCode(info);
}
