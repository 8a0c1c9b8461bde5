// Text relay: turns a child's output chunks into whole, stamped, printable
// lines. A chunk may end mid-line; the tail waits for the next chunk, so a
// line is never split between writes or files. This is the daemon's hot path
// in tcpdump-decoder mode, so it works on bytes and copies each line once.

import { escapeBytes } from './escape.js';

const NL = 0x0a;
const NL_BUF = Buffer.from('\n');

/** Longest line kept whole; a longer run without a newline is cut there. */
export const MAX_LINE_BYTES = 64 * 1024;

export class LineStamper {
  private partial: Buffer | null = null;

  constructor(private readonly maxLine = MAX_LINE_BYTES) {}

  /**
   * Returns every complete line in `chunk` (after any kept tail), each as
   * `stamp` + line + "\n", or null when there is none yet. `stamp` already ends
   * with the separating space.
   */
  push(chunk: Buffer, stamp: Buffer): Buffer | null {
    let data = chunk;
    if (this.partial !== null) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = null;
    }
    const n = data.length;
    let lines = 0;
    let printable = true;
    let lastNl = -1;
    for (let i = 0; i < n; i++) {
      const c = data[i]!;
      if (c === NL) {
        lines++;
        lastNl = i;
      } else if (c < 0x20 || c > 0x7e) printable = false;
    }
    let out: Buffer | null = null;
    if (lines > 0) out = printable ? stampClean(data, lastNl, lines, stamp) : stampEscaped(data, lastNl, stamp);
    const tail = n - lastNl - 1;
    if (tail > 0) {
      // An unterminated run is cut every maxLine bytes (not wherever a chunk
      // happened to end): pieces of exactly the limit, and less held back.
      const keepFrom = n - (tail % this.maxLine);
      if (keepFrom > lastNl + 1) {
        const pieces: Buffer[] = [];
        for (let at = lastNl + 1; at < keepFrom; at += this.maxLine) pieces.push(data.subarray(at, at + this.maxLine), NL_BUF);
        const cut = Buffer.concat(pieces);
        const stamped = stampEscaped(cut, cut.length - 1, stamp);
        out = out === null ? stamped : Buffer.concat([out, stamped]);
      }
      if (keepFrom < n) this.partial = Buffer.from(data.subarray(keepFrom)); // a copy: do not pin the whole chunk
    }
    return out;
  }

  /** The unterminated tail, if any, as a final line (the child has exited). */
  end(stamp: Buffer): Buffer | null {
    if (this.partial === null) return null;
    const rest = Buffer.concat([this.partial, Buffer.from('\n')]);
    this.partial = null;
    return stampEscaped(rest, rest.length - 1, stamp);
  }

  /** A new stream begins: a tail the last one left unfinished was already flushed by end(). */
  reset(): void {
    this.partial = null;
  }

  /** Bytes held back waiting for a newline. */
  get pendingBytes(): number {
    return this.partial?.length ?? 0;
  }
}

/** Fast path: every byte is printable, so lines are copied as they are. */
function stampClean(data: Buffer, lastNl: number, lines: number, stamp: Buffer): Buffer {
  const out = Buffer.allocUnsafe(lastNl + 1 + lines * stamp.length);
  let o = 0;
  let start = 0;
  while (start <= lastNl) {
    const nl = data.indexOf(NL, start);
    o += stamp.copy(out, o);
    o += data.copy(out, o, start, nl + 1);
    start = nl + 1;
  }
  return out;
}

/** Slow path: some byte needs escaping; each line goes through escapeBytes. */
function stampEscaped(data: Buffer, lastNl: number, stamp: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  const prefix = stamp.toString('latin1');
  while (start <= lastNl) {
    const nl = data.indexOf(NL, start);
    parts.push(Buffer.from(prefix + escapeBytes(data, start, nl) + '\n', 'latin1'));
    start = nl + 1;
  }
  return Buffer.concat(parts);
}
