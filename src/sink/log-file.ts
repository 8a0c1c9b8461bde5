// The log file writer. It owns the file descriptor and guarantees:
//  - only whole lines reach the file: callers hand in whole lines, batches are
//    written in one write(2) where the kernel allows, a short write is
//    finished, and if a write fails half way (disk full) the partial line is
//    cut off again with ftruncate;
//  - batching under load (everything queued while a write is in flight goes
//    in the next write) and no delay when idle (the first line starts a write);
//  - reopen (after rotation) happens between two writes, so no line is split
//    between the old and the new file, lost or written twice;
//  - backpressure: write() returns false above the high-water mark and
//    'drain' is emitted once the queue is written, so the caller can stop
//    reading its input instead of growing without bound;
//  - a log removed from under it (the file deleted, its directory removed) is
//    noticed within a tenth of a second of writing, reported, and created
//    again; until that succeeds lines are dropped and counted, not written
//    into a file nobody can read;
//  - root never writes through a link or into someone else's file: every open
//    (start, reopen, re-creation) goes through openLogFile's checks.

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { describeErrno } from '../util/sysexits.js';
import { effectiveUid } from '../util/euid.js';

export const LOG_MODE = 0o640;
const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW;
const OPEN_FLAGS = O_WRONLY | O_APPEND | O_NOFOLLOW;
/**
 * An existing path is first opened non-blocking: a FIFO with no reader (put
 * there by anyone who can write the directory, or an -o FIFO whose reader has
 * not started) would otherwise block the open, and the daemon with it, before
 * it could look at what the path is. It fails with ENXIO instead.
 */
const PROBE_FLAGS = OPEN_FLAGS | O_NONBLOCK;
const NL = 0x0a;
/** how long a write to a full FIFO (EAGAIN) waits before it is tried again */
const FULL_PIPE_RETRY_MS = 10;
/** how often, at most, a write checks that the file still has a name */
const LINK_CHECK_MS = 100;

export interface LogFileOptions {
  /** queued bytes above which write() asks the caller to pause (default 1 MiB) */
  highWaterMark?: number;
  /** problems the admin must see (disk full, reopen failures), rate-limited by the caller's needs */
  warn?: (message: string) => void;
  /** minimum interval between two warnings of the same kind, ms (default 60 s) */
  warnIntervalMs?: number;
  /** delay before retrying a failed reopen, ms (default 1 s) */
  reopenRetryMs?: number;
  /** the stamp for lines the writer adds itself (drop reports) */
  stamp?: () => string;
}

/**
 * Opens the log for appending, as root, in a directory others may write to.
 * A new file is created O_EXCL|O_NOFOLLOW and made 0640 (it is ours). An
 * existing one is opened O_NOFOLLOW and must be a regular file with one link
 * that the daemon's user owns: a symbolic or hard link there would make root
 * append to, and a file of someone else's is not ours to write. Its mode is
 * left alone (never chmod a file we did not create); one writable by group or
 * others is reported through `warn`, as anyone who can write it can add lines
 * fail2ban acts on. A FIFO must be ours too (someone else's would be a reader
 * of our lines); a character device (/dev/null) is accepted as is.
 */
export function openLogFile(path: string, warn?: (message: string) => void): number {
  let fd = -1;
  for (let attempt = 0; fd < 0; attempt++) {
    try {
      fd = fs.openSync(path, CREATE_FLAGS, LOG_MODE);
      try {
        fs.fchmodSync(fd, LOG_MODE); // we created it: 0640 whatever the umask
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
      return fd;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'EMLINK') throw new Error(`${path}: is a symbolic link; refusing to write through it`);
      if (code !== 'EEXIST') throw new Error(`${path}: ${describeErrno(err)}`);
    }
    try {
      fd = fs.openSync(path, PROBE_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'EMLINK') throw new Error(`${path}: is a symbolic link; refusing to write through it`);
      if (code === 'ENXIO') throw new Error(`${path}: a FIFO with no reader; start its reader first`);
      // removed between the two opens: create it after all (a few times at most)
      if (code !== 'ENOENT' || attempt >= 3) throw new Error(`${path}: ${describeErrno(err)}`);
    }
  }
  try {
    const st = fs.fstatSync(fd);
    const owner = `owned by uid ${st.uid}, not by the daemon's uid ${effectiveUid()}`;
    if (st.isFile()) {
      if (st.nlink > 1) throw new Error(`${path}: has ${st.nlink} links (a hard link to another file); refusing to write through it`);
      if (st.uid !== effectiveUid()) throw new Error(`${path}: ${owner}; refusing to write to it`);
      if ((st.mode & 0o022) !== 0) {
        warn?.(`${path} is writable by ${st.mode & 0o002 ? 'others' : 'its group'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): they can add lines that fail2ban acts on; chmod 640 it`);
      }
    } else if (st.isFIFO()) {
      // Ours, and read. It stays non-blocking: a write to a full pipe fails
      // with EAGAIN and is tried again shortly (see writeFrom), where a
      // blocking write would hold a thread of libuv's pool for as long as
      // the reader does not read, and Node's exit waits for that thread.
      if (st.uid !== effectiveUid()) throw new Error(`${path}: a FIFO ${owner}; refusing to write to it`);
    } else if (!st.isCharacterDevice()) {
      throw new Error(`${path}: not a regular file`);
    }
  } catch (err) {
    fs.closeSync(fd);
    throw err instanceof Error && err.message.startsWith(path) ? err : new Error(`${path}: ${describeErrno(err)}`);
  }
  return fd;
}

export class LogFile extends EventEmitter {
  private fd: number;
  /**
   * Lines are copied into `fill` as they come (callers may reuse their
   * buffers at once); a write takes `fill` whole and the two buffers swap, so
   * steady load allocates nothing. `head` holds the rare lines that must go
   * before the rest (reopen notice, drop report).
   */
  private fill: Buffer = Buffer.allocUnsafe(256 * 1024);
  private spare: Buffer = Buffer.allocUnsafe(256 * 1024);
  private fillLen = 0;
  private head: Buffer[] = [];
  private queued = 0;
  private writing = false;
  private reopenWanted = false;
  private reopenTimer: NodeJS.Timeout | null = null;
  private flushWaiters: Array<() => void> = [];
  private needDrain = false;
  private readonly highWaterMark: number;
  private readonly warnIntervalMs: number;
  private readonly reopenRetryMs: number;
  private readonly lastWarned = new Map<string, number>();
  /** lines that could not be written (disk full, I/O error), since start */
  droppedLines = 0;
  /** dropped lines not yet reported in the file itself */
  private unreportedDrops = 0;
  /** the last write failed for lack of space: check for room before writing again */
  private diskFull = false;
  private diskFullError: NodeJS.ErrnoException | null = null;
  /** the drop report at the head of the batch being written: its count and length */
  private reportInBatch: { lines: number; bytes: number } | null = null;
  private lastDropReason = '';
  /** the file written to has no name any more: every batch tries to create it again */
  private removed = false;
  private linkCheckedAt = 0;
  /** lines announced when the next reopen succeeds, e.g. "log reopened" */
  onReopened: (() => Buffer | null) | null = null;

  constructor(
    readonly path: string,
    private readonly opts: LogFileOptions = {},
  ) {
    super();
    this.fd = openLogFile(path, (m) => this.opts.warn?.(m));
    this.highWaterMark = opts.highWaterMark ?? 1024 * 1024;
    this.warnIntervalMs = opts.warnIntervalMs ?? 60_000;
    this.reopenRetryMs = opts.reopenRetryMs ?? 1000;
  }

  /** Queues whole lines (copied: the caller may reuse `lines`). False means: stop reading input until 'drain'. */
  write(lines: Buffer): boolean {
    if (lines.length > 0) {
      if (this.fillLen + lines.length > this.fill.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.fill.length * 2, this.fillLen + lines.length));
        bigger.set(this.fill.subarray(0, this.fillLen));
        this.fill = bigger;
      }
      this.fill.set(lines, this.fillLen);
      this.fillLen += lines.length;
      this.queued += lines.length;
      this.pump();
    }
    if (this.queued >= this.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** "dev:ino" of the file written to, or null for a character device (/dev/null may be shared). */
  fileId(): string | null {
    const st = fs.fstatSync(this.fd, { bigint: true });
    return st.isCharacterDevice() ? null : `${st.dev}:${st.ino}`;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  /**
   * For the daemon's last resort (it exits right after): what is queued,
   * then `lines`, written synchronously. A batch already in flight may land
   * after them. Errors are ignored.
   */
  writeNowSync(lines: Buffer): void {
    if (this.fd < 0) return;
    try {
      // only to a regular file: a FIFO whose reader stalled would block here
      if (!fs.fstatSync(this.fd).isFile()) return;
      const all = Buffer.concat([...this.head, this.fill.subarray(0, this.fillLen), lines]);
      for (let off = 0; off < all.length; ) off += fs.writeSync(this.fd, all, off, all.length - off);
    } catch {
      // nothing better to do: the line went to stderr as well
    }
  }

  /** Reopen the path at the next write boundary (after rotation). */
  reopen(): void {
    this.reopenWanted = true;
    this.pump();
  }

  /** Resolves once everything queued so far is written (or dropped). */
  flush(): Promise<void> {
    if (!this.writing && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private pump(): void {
    if (this.writing || this.fd < 0) return;
    if (this.queued > 0 && !this.removed) this.checkRemoved();
    if (this.reopenWanted || this.removed) this.tryReopen();
    if (this.unreportedDrops > 0 && this.queued > 0) this.prependDropReport();
    if (this.queued === 0) {
      this.settle();
      return;
    }
    let batch: Buffer;
    if (this.head.length === 0) {
      batch = this.fill.subarray(0, this.fillLen);
      const inFlight = this.fill;
      this.fill = this.spare;
      this.spare = inFlight;
    } else {
      batch = Buffer.concat([...this.head, this.fill.subarray(0, this.fillLen)], this.queued);
      this.head = [];
    }
    this.fillLen = 0;
    this.queued = 0;
    this.writing = true;
    if (this.needDrain) {
      // The queue is empty again: let the source refill it while this batch is written.
      this.needDrain = false;
      this.emit('drain');
    }
    const drop = this.removed
      ? 'log file removed'
      : // Still full: drop the batch without writing. Trying would put part of
        // a line in the file until the failure is seen and it is cut off
        // again, and a reader (fail2ban) could read that half line meanwhile.
        this.diskFull && !this.fits(batch.length)
        ? `write failed: ${describeErrno(this.diskFullError)}`
        : null;
    if (drop !== null) {
      this.recoverFailedWrite(batch, 0, drop);
      this.writing = false;
      setImmediate(() => this.pump());
      return;
    }
    this.writeFrom(batch, 0);
  }

  /** Whether the file system has room for `bytes` more (and a block to spare). */
  private fits(bytes: number): boolean {
    try {
      const st = fs.statfsSync(this.path);
      return st.bavail * st.bsize >= bytes + st.bsize;
    } catch {
      return true; // cannot tell: try the write
    }
  }

  /** Whether the regular file being written has lost its last name (checked at most every LINK_CHECK_MS). */
  private checkRemoved(): void {
    const now = Date.now();
    if (now - this.linkCheckedAt < LINK_CHECK_MS) return;
    this.linkCheckedAt = now;
    let st: fs.Stats;
    try {
      st = fs.fstatSync(this.fd);
    } catch {
      return;
    }
    if (!st.isFile() || st.nlink > 0) return;
    this.removed = true;
    this.warnOnce('removed', `${this.path} was removed; creating it again (lines are dropped and counted until that succeeds)`);
  }

  private writeFrom(batch: Buffer, offset: number): void {
    fs.write(this.fd, batch, offset, batch.length - offset, null, (err, n) => {
      if (err?.code === 'EAGAIN') {
        // a FIFO whose reader has not kept up: the same bytes again shortly
        setTimeout(() => this.writeFrom(batch, offset), FULL_PIPE_RETRY_MS);
        return;
      }
      if (err) {
        this.recoverFailedWrite(batch, offset, `write failed: ${describeErrno(err)}`);
        if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
          this.diskFull = true;
          this.diskFullError = err;
        }
      } else if (offset + n < batch.length) {
        this.writeFrom(batch, offset + n); // short write: finish it
        return;
      } else this.diskFull = false;
      this.reportInBatch = null;
      this.writing = false;
      this.pump();
    });
  }

  /**
   * A write failed after `written` bytes of the batch reached the file. Cut any
   * partial line off again, count the lines that did not make it, and carry on:
   * the next batch is tried as usual, so writing resumes by itself when space
   * returns.
   */
  private recoverFailedWrite(batch: Buffer, written: number, reason: string): void {
    const lastWholeEnd = written > 0 ? batch.lastIndexOf(NL, written - 1) + 1 : 0;
    const partialBytes = written - lastWholeEnd;
    if (partialBytes > 0) {
      try {
        const size = fs.fstatSync(this.fd).size;
        fs.ftruncateSync(this.fd, Math.max(0, size - partialBytes));
      } catch {
        // the line stays cut; nothing better can be done on this descriptor
      }
    }
    let lost = 0;
    for (let i = lastWholeEnd; i < batch.length; i++) if (batch[i] === NL) lost++;
    const report = this.reportInBatch;
    this.reportInBatch = null;
    if (report !== null && lastWholeEnd < report.bytes) {
      // The drop report itself did not make it: it is not a lost line of
      // tcpdump's, and the drops it announced are still unreported.
      lost--;
      this.unreportedDrops += report.lines;
    }
    this.droppedLines += lost;
    this.unreportedDrops += lost;
    this.lastDropReason = reason;
    if (!this.removed) this.warnOnce('write', `${this.path}: ${reason}; ${this.droppedLines} lines dropped so far`);
  }

  /** Once writes succeed again, say in the file itself what was lost. */
  private prependDropReport(): void {
    const line = Buffer.from(
      `${(this.opts.stamp ?? (() => new Date().toISOString()))()} pfasciilogd: ${this.unreportedDrops} lines dropped: ${this.lastDropReason}\n`,
      'latin1',
    );
    this.reportInBatch = { lines: this.unreportedDrops, bytes: line.length };
    this.unreportedDrops = 0;
    this.head.unshift(line);
    this.queued += line.length;
  }

  private tryReopen(): void {
    this.reopenWanted = false;
    let fd: number;
    try {
      fd = openLogFile(this.path, (m) => this.warnOnce('mode', m));
    } catch (err) {
      // Keep writing to the old file (nothing is lost) and try again shortly.
      this.warnOnce('reopen', `cannot reopen log: ${(err as Error).message}; retrying every ${this.reopenRetryMs / 1000} s`);
      if (!this.reopenTimer) {
        this.reopenTimer = setTimeout(() => {
          this.reopenTimer = null;
          this.reopen();
        }, this.reopenRetryMs);
        this.reopenTimer.unref();
      }
      return;
    }
    const old = this.fd;
    this.fd = fd;
    fs.closeSync(old);
    this.removed = false;
    this.lastWarned.delete('reopen');
    this.lastWarned.delete('removed');
    const announce = this.onReopened?.();
    if (announce) {
      this.head.unshift(announce);
      this.queued += announce.length;
    }
  }

  private settle(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }

  private warnOnce(kind: string, message: string): void {
    const now = Date.now();
    const last = this.lastWarned.get(kind);
    if (last !== undefined && now - last < this.warnIntervalMs) return;
    this.lastWarned.set(kind, now);
    this.opts.warn?.(message);
  }
}
