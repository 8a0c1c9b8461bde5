// The daemon's log files: the first (-f, --format) and one per -o. Each is a
// full LogFile (whole lines, 0640, reopen, link checks, disk full, removal).
// Packet lines come per format, rendered once and written to every output of
// that format; the daemon's own event lines go to every output.
//
// Backpressure: the slowest output throttles the capture. write() returns
// false once ANY output is above its high-water mark, and 'drain' is emitted
// when every output that said so has passed its queue to a write (LogFile's
// 'drain': each holds at most its queue and one write). Nothing is dropped
// in pfasciilogd, so the outputs that keep up get every line, whole and in
// order, only later; with a live capture the kernel drops (and tcpdump
// counts) what the paused pipe cannot hold.

import { EventEmitter } from 'node:events';
import type { OutputSpec } from '../cli/options.js';
import type { OutputFormat } from '../format/line.js';
import { LogFile, type LogFileOptions } from './log-file.js';

/** How long close() waits for the outputs to take what is queued. */
export const CLOSE_DEADLINE_MS = 5000;

export class Outputs extends EventEmitter {
  /** the distinct formats, in the order of their first output: the index write() takes */
  readonly formats: OutputFormat[] = [];
  readonly files: LogFile[] = [];
  private readonly byFormat: LogFile[][] = [];
  /** outputs above their high-water mark whose 'drain' is awaited */
  private readonly stalled = new Set<LogFile>();

  /** Opens every output in order; if one cannot be opened, closes those already open and throws (its message names the path). */
  constructor(specs: readonly OutputSpec[], opts: LogFileOptions) {
    super();
    try {
      // Two outputs on one file would interleave their lines. The options
      // compare paths; this catches one file reached by two (a symlinked
      // directory), judged by the files actually opened. Character devices
      // (/dev/null) may be shared.
      const opened = new Map<string, string>();
      for (const spec of specs) {
        const log = new LogFile(spec.path, opts);
        this.files.push(log);
        const id = log.fileId();
        if (id !== null) {
          const first = opened.get(id);
          if (first !== undefined) throw new Error(`${spec.path}: the same file as ${first}; give each output its own file`);
          opened.set(id, spec.path);
        }
        let i = this.formats.indexOf(spec.format);
        if (i < 0) {
          i = this.formats.push(spec.format) - 1;
          this.byFormat.push([]);
        }
        this.byFormat[i]!.push(log);
        log.on('drain', () => {
          if (this.stalled.delete(log) && this.stalled.size === 0) this.emit('drain');
        });
      }
    } catch (err) {
      for (const log of this.files) void log.close();
      throw err;
    }
  }

  /** Lines of formats[index] to each output of that format (copied). False: stop reading input until 'drain'. */
  write(index: number, lines: Buffer): boolean {
    for (const log of this.byFormat[index]!) if (!log.write(lines)) this.stalled.add(log);
    return this.stalled.size === 0;
  }

  /** Lines for every output whatever its format (the daemon's events, tcpdump's stderr). */
  writeAll(lines: Buffer): boolean {
    for (const log of this.files) if (!log.write(lines)) this.stalled.add(log);
    return this.stalled.size === 0;
  }

  /** The last resort's line, written to every output at once, synchronously (see LogFile.writeNowSync). */
  writeNowSync(lines: Buffer): void {
    for (const log of this.files) log.writeNowSync(lines);
  }

  /** Resolves at once if no output is stalled, else on the next 'drain'. */
  drained(): Promise<void> {
    if (this.stalled.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.once('drain', () => resolve()));
  }

  /** HUP/USR1: every output reopens its path at its next write boundary. */
  reopen(): void {
    for (const log of this.files) log.reopen();
  }

  set onReopened(announce: (() => Buffer | null) | null) {
    for (const log of this.files) log.onReopened = announce;
  }

  /**
   * Writes what is queued and closes every output, waiting at most
   * `deadlineMs`: a FIFO whose reader has stopped reading holds a write (and
   * so its close) for ever, and must not keep the daemon from exiting.
   * Resolves with the outputs that had not finished by then, each with the
   * bytes still queued (a write in flight comes on top).
   */
  async close(deadlineMs = CLOSE_DEADLINE_MS): Promise<string[]> {
    const done = new Set<LogFile>();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.files.map((log) => log.close().then(() => done.add(log)))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
    ]);
    clearTimeout(timer);
    return this.files.filter((log) => !done.has(log)).map((log) => `${log.path} (${log.queuedBytes} bytes queued)`);
  }
}
