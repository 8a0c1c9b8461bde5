// The daemon's capture: where its packet lines come from. With the native
// decoder tcpdump writes a pcap stream that we decode; in text-relay mode it
// prints each packet and we stamp its lines. Its stderr is always relayed as
// text, through a stamper of its own, so a partial line from one stream never
// mixes with the other. With -r and nothing for tcpdump to do, the file is
// read here instead. A first run that fails before a good start ends the
// daemon with a sysexits status (captureFailure).

import { Supervisor, type ExitInfo } from './supervisor.js';
import { Reaper } from './reaper.js';
import { provokeTestFault } from './last-resort.js';
import { ImmediateModeFallback } from './immediate-fallback.js';
import { captureArgv, IMMEDIATE_MODE, textRelayArgv } from '../capture/tcpdump-command.js';
import { hostInterfaceNames } from '../capture/interface-names.js';
import type { DaemonOptions } from '../cli/options.js';
import type { RepeatFilter } from '../dedupe/repeat-filter.js';
import { writeCaptureFileLines } from '../format/capture-file-lines.js';
import type { OutputFormat } from '../format/line.js';
import { PacketLines } from '../format/packet-lines.js';
import { LineStamper, MAX_LINE_BYTES } from '../format/stamp-lines.js';
import { stampNow } from '../format/timestamp.js';
import { escapeText } from '../format/escape.js';
import type { Outputs } from '../sink/outputs.js';
import { EX_NOINPUT, EX_OK, EX_UNAVAILABLE, EX_USAGE } from '../util/sysexits.js';

/** tcpdump's text is stamped when it is read. */
function stampBytes(): Buffer {
  return Buffer.from(stampNow() + ' ', 'latin1');
}

/** Where tcpdump comes from, for "cannot run tcpdump: ... (ENOENT)". */
export const TCPDUMP_INSTALL_HINT = 'install tcpdump (Debian, Ubuntu: apt-get install tcpdump; it is in the base system of FreeBSD and OpenBSD) or give its path with --tcpdump';

/** tcpdump's words for an expression it cannot compile (pcap_compile's messages, tcpdump 4.9 to 4.99). */
const FILTER_ERROR = /syntax error|filter expression|expression rejects|unknown (host|port|protocol|network|ether host)|illegal (qualifier|token)/i;

/**
 * Why tcpdump's run ends the daemon, and with what status, or null (no
 * failure: -r read to its end, a stop, or a live capture that had started).
 * A filter expression tcpdump cannot compile is a usage error (64); a
 * capture file it cannot read, 66; a tcpdump that cannot be run, or an
 * interface it cannot open at start, 69.
 */
export function captureFailure(info: ExitInfo, opts: Pick<DaemonOptions, 'tcpdump' | 'readFile'>): CaptureFailure | null {
  const tcpdump = opts.tcpdump;
  if (info.spawnError !== null) {
    const hint = /\bENOENT\b/.test(info.spawnError) ? `; ${TCPDUMP_INSTALL_HINT}` : '';
    return { message: `cannot run ${tcpdump}: ${info.spawnError}${hint}`, code: EX_UNAVAILABLE };
  }
  const failedRead = opts.readFile !== undefined && (info.code !== 0 || info.signal !== null);
  if (!failedRead && !info.failedAtStart) return null;
  const how = info.signal !== null ? `killed by signal ${info.signal}` : `exit status ${info.code}`;
  const why = info.lastError !== null ? `${escapeText(info.lastError)} (${how})` : how;
  if (info.lastError !== null && FILTER_ERROR.test(info.lastError)) return { message: `${tcpdump} rejected the filter expression: ${why}`, code: EX_USAGE };
  if (opts.readFile !== undefined) return { message: `${tcpdump} could not read ${escapeText(opts.readFile)}: ${why}`, code: EX_NOINPUT };
  return { message: `${tcpdump} failed at start, not restarting: ${why}`, code: EX_UNAVAILABLE };
}

/**
 * What turns the child's stdout into log lines: tcpdump's text, stamped, or
 * a pcap stream, decoded. push/end give one slot per output format
 * (Outputs.formats), valid until the next call.
 */
interface StdoutLines {
  /** `stamp` makes the read-time stamp, for text relayed as it is (the native decoder stamps with capture time) */
  push(chunk: Buffer, stamp: () => Buffer): readonly (Buffer | null)[];
  end(stamp: () => Buffer): readonly (Buffer | null)[];
  /** a new run of the child begins: a new stream */
  reset(): void;
  /** a buffer of format `index` from push/end has been consumed */
  release?(lines: Buffer, index: number): void;
  /** over-long lines cut since the last call (LineStamper) */
  takeCuts?(): { lines: number; bytes: number } | null;
}

/** tcpdump's text, stamped: one format, text (the options refuse any other with --decoder tcpdump). */
function relayLines(): StdoutLines {
  const stamper = new LineStamper();
  const slot: (Buffer | null)[] = [null];
  return {
    push(chunk, stamp) {
      slot[0] = stamper.push(chunk, stamp());
      return slot;
    },
    end(stamp) {
      slot[0] = stamper.end(stamp());
      return slot;
    },
    reset: () => stamper.reset(),
    takeCuts: () => stamper.takeCuts(),
  };
}

/**
 * The native decoder for the daemon: each tcpdump run is a new pcap stream.
 * Lines carry the packet's capture time. Corrupt records are reported in the
 * log; a stream that is not pcap at all is reported once per run.
 */
function nativeLines(formats: readonly OutputFormat[], event: (message: string) => void, repeats: RepeatFilter | null): StdoutLines {
  const names = hostInterfaceNames();
  // one repeat filter for all runs: a restart of tcpdump is not a new window
  const make = () => new PacketLines(formats, (m) => event(`capture stream: ${m}`), names, repeats);
  let lines = make();
  let reportedFatal = false;
  return {
    push(chunk) {
      const out = lines.pushEach(chunk);
      if (lines.fatal !== null && !reportedFatal) {
        reportedFatal = true;
        event(`capture stream: ${lines.fatal}; ignoring the rest of this run`);
      }
      return out;
    },
    end() {
      return lines.endEach();
    },
    reset() {
      lines = make();
      reportedFatal = false;
    },
    release(buf, index) {
      lines.recycle(buf, index);
    },
  };
}

export interface CaptureFailure {
  message: string;
  code: number;
  /** the message is in the log already */
  logged?: boolean;
}

/** What produces the log's packet lines: tcpdump under the supervisor, or a capture file read here. */
export interface Capture {
  start(): void;
  stop(): void;
  /** resolves once the capture is over: null, or why it failed and the exit status */
  readonly finished: Promise<CaptureFailure | null>;
  /** for the last resort: the running tcpdump's pid, if one runs */
  childPid(): number | undefined;
  /** for the last resort: tcpdump has been killed, let the reaper go */
  releaseChild(): void;
}

/**
 * With the native decoder, no expression and -r, tcpdump has nothing to do
 * that `read`'s decoder does not: the daemon reads the file itself, so -r
 * (and `npm start`'s demo) works on a machine without tcpdump.
 */
export function readsItself(opts: DaemonOptions): boolean {
  return opts.decoder === 'native' && opts.readFile !== undefined && opts.expression.length === 0;
}

export function fileCapture(opts: DaemonOptions, log: Outputs, event: (message: string) => void, repeats: RepeatFilter | null): Capture {
  const file = opts.readFile!;
  const abort = new AbortController();
  let lastProblem = '';
  let started = false;
  let resolve!: (v: CaptureFailure | null) => void;
  const finished = new Promise<CaptureFailure | null>((r) => (resolve = r));
  return {
    finished,
    start() {
      started = true;
      event(`reading ${escapeText(file)}`);
      void writeCaptureFileLines(file, {
        format: log.formats,
        follow: false,
        names: hostInterfaceNames(),
        repeats,
        signal: abort.signal,
        warn(message) {
          lastProblem = escapeText(message);
          event(message);
        },
        async write(lines, recycle, index) {
          const more = log.write(index, lines); // copies: the buffer can be reused at once
          recycle();
          if (!more) await log.drained();
        },
      }).then((code) => {
        if (code === EX_OK && !abort.signal.aborted) event(`finished reading ${escapeText(file)}`);
        resolve(code === EX_OK ? null : { message: lastProblem, code, logged: true });
      });
    },
    stop() {
      // the reader stops at its next chunk, with every line so far written
      abort.abort();
      if (!started) resolve(null);
    },
    childPid: () => undefined,
    releaseChild() {},
  };
}

export function tcpdumpCapture(opts: DaemonOptions, log: Outputs, event: (message: string) => void, warn: (message: string) => void, repeats: RepeatFilter | null): Capture {
  const stdoutLines: StdoutLines = opts.decoder === 'native' ? nativeLines(log.formats, event, repeats) : relayLines();
  const stderrLines = new LineStamper();
  // The rest of an over-long line from tcpdump is packet text: it is dropped,
  // never a line of its own, and said here, after the head was written.
  const cutTotals = { stdout: 0, stderr: 0 };
  const reportCuts = (lines: Pick<StdoutLines, 'takeCuts'>, stream: 'stdout' | 'stderr') => {
    const c = lines.takeCuts?.();
    if (!c) return;
    cutTotals[stream] += c.lines;
    event(
      `tcpdump ${stream}: ${c.lines} line${c.lines === 1 ? '' : 's'} longer than ${MAX_LINE_BYTES} bytes: kept the first ${MAX_LINE_BYTES} bytes, ` +
        `dropped the other ${c.bytes} (${cutTotals[stream]} cut since start)`,
    );
  };
  // a live capture must not outlive a killed daemon (a capture file ends by itself)
  const reaper = opts.readFile === undefined ? new Reaper(event) : null;
  const immediate = new ImmediateModeFallback();
  const supervisor = new Supervisor({
    command: opts.tcpdump,
    argv: () => (opts.decoder === 'native' ? captureArgv : textRelayArgv)(opts, process.platform, immediate.enabled),
    respawn: opts.readFile === undefined,
    onStdout(chunk) {
      provokeTestFault();
      immediate.stdout();
      const out = stdoutLines.push(chunk, stampBytes);
      let more = true;
      for (let i = 0; i < out.length; i++) {
        const lines = out[i]!;
        if (lines === null) continue;
        if (!log.write(i, lines)) more = false; // copies: the buffer can be reused at once
        stdoutLines.release?.(lines, i);
      }
      reportCuts(stdoutLines, 'stdout');
      // the slowest output throttles the capture (sink/outputs.ts)
      if (!more) supervisor.pause();
    },
    onStderr(chunk) {
      immediate.stderrChunk(chunk);
      const out = stderrLines.push(chunk, stampBytes());
      if (out !== null) log.writeAll(out);
      reportCuts(stderrLines, 'stderr');
    },
    onRunEnd(info) {
      reaper?.hold(0);
      // A line the child did not finish is still a line it wrote.
      const tails = stdoutLines.end(stampBytes);
      for (let i = 0; i < tails.length; i++) if (tails[i]) log.write(i, tails[i]!);
      const errTail = stderrLines.end(stampBytes());
      if (errTail) log.writeAll(errTail);
      reportCuts(stdoutLines, 'stdout');
      reportCuts(stderrLines, 'stderr');
      const refusal = immediate.runEnd(info.code);
      if (refusal === null) return;
      // once: this run's failure is the flag's, and the runs that follow go without it
      const message = `${opts.tcpdump} refused ${IMMEDIATE_MODE} (${refusal}); running it without: an isolated packet now waits up to a second in the capture buffer`;
      event(message);
      warn(escapeText(message));
      return 'retry';
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
  // Drops are visible: tcpdump's counters every --stats-interval (and, as
  // tcpdump prints them when it exits, at every exit).
  let statsTimer: NodeJS.Timeout | null = null;
  return {
    start() {
      supervisor.start();
      if (opts.statsInterval > 0 && opts.readFile === undefined) statsTimer = setInterval(() => supervisor.requestStats(), opts.statsInterval * 1000);
    },
    stop() {
      void supervisor.stop();
    },
    childPid: () => supervisor.pid,
    releaseChild() {
      reaper?.hold(0);
      reaper?.close();
    },
    finished: supervisor.finished.then((info) => {
      if (statsTimer) clearInterval(statsTimer);
      reaper?.close();
      return captureFailure(info, opts);
    }),
  };
}
