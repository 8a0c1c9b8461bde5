// Text relay: turns a child's output chunks into whole, stamped, printable
// lines. A chunk may end mid-line; the tail waits for the next chunk, so a
// line is never split between writes or files. This is the daemon's hot path
// in tcpdump-decoder mode, so it works on bytes and copies each line once.

import { escapeBytes } from './escape.js';

const NL = 0x0a;
const NL_BUF = Buffer.from('\n');

/**
 * Longest line kept: a longer one keeps its first MAX_LINE_BYTES bytes and
 * the rest, up to its newline, is dropped (never a line of its own).
 */
export const MAX_LINE_BYTES = 64 * 1024;

export class LineStamper {
  private partial: Buffer | null = null;
  /** inside a line longer than maxLine whose head was emitted: drop up to the newline */
  private dropping = false;
  /** bytes of the current over-long line dropped so far */
  private dropBytes = 0;
  /** over-long lines and their dropped bytes, not yet taken by takeCuts() */
  private cutLines = 0;
  private cutBytes = 0;
  /** Output of the fast path, reused: what push() returns is valid until the next call. */
  private out: Buffer = Buffer.allocUnsafe(1 << 16);

  constructor(private readonly maxLine = MAX_LINE_BYTES) {}

  /**
   * Returns every complete line in `chunk` (after any kept tail), each as
   * `stamp` + line + "\n", or null when there is none yet. `stamp` already ends
   * with the separating space. The result is only valid until the next push
   * or end (the daemon's log writer copies it at once).
   */
  push(chunk: Buffer, stamp: Buffer): Buffer | null {
    const fast = this.pushPrintable(chunk, stamp);
    return fast !== undefined ? fast : this.pushAny(chunk, stamp);
  }

  /**
   * The common case, tcpdump's own output: printable lines, none too long.
   * Each line is copied once, straight from the chunk into the reused output
   * buffer. Returns undefined (having changed nothing) when the chunk needs
   * the general path.
   */
  private pushPrintable(chunk: Buffer, stamp: Buffer): Buffer | null | undefined {
    const lastNl = chunk.lastIndexOf(NL);
    const p = this.partial;
    if (this.dropping || lastNl < 0 || chunk.length - lastNl - 1 >= this.maxLine) return undefined;
    if (!allPrintableOrNewline(chunk) || (p !== null && !allPrintableOrNewline(p))) return undefined;
    const sl = stamp.length;
    let out = this.out;
    let o = 0;
    let start = 0;
    let first = true;
    while (start <= lastNl) {
      const nl = chunk.indexOf(NL, start);
      const head = first && p !== null ? p.length : 0;
      const len = nl + 1 - start;
      if (head + len - 1 > this.maxLine) return undefined; // an over-long line: the general path cuts it
      if (o + sl + head + len > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, o + sl + head + len));
        bigger.set(out.subarray(0, o));
        out = this.out = bigger;
      }
      out.set(stamp, o);
      o += sl;
      if (head > 0) {
        out.set(p!, o);
        o += head;
      }
      out.set(chunk.subarray(start, nl + 1), o);
      o += len;
      start = nl + 1;
      first = false;
    }
    this.partial = lastNl + 1 < chunk.length ? Buffer.from(chunk.subarray(lastNl + 1)) : null;
    return out.subarray(0, o);
  }

  /**
   * Anything else: bytes to escape, over-long lines. A line longer than
   * maxLine keeps its first maxLine bytes (the head, which holds the header
   * tcpdump printed) and loses the rest up to its newline: the rest is text
   * from the packet, and as a line of its own it would start with whatever
   * the sender chose. Dropped rests are counted for takeCuts().
   */
  private pushAny(chunk: Buffer, stamp: Buffer): Buffer | null {
    let data = chunk;
    let start = 0;
    if (this.dropping) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.dropBytes += chunk.length;
        return null;
      }
      this.dropBytes += nl;
      this.endCut();
      start = nl + 1;
    } else if (this.partial !== null) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = null;
    }
    const n = data.length;
    const lastNl = data.lastIndexOf(NL);
    const pieces: Buffer[] = [];
    for (let from = start; from <= lastNl; ) {
      const nl = data.indexOf(NL, from);
      if (nl - from > this.maxLine) {
        pieces.push(data.subarray(from, from + this.maxLine), NL_BUF);
        this.dropBytes = nl - from - this.maxLine;
        this.endCut();
      } else pieces.push(data.subarray(from, nl), NL_BUF);
      from = nl + 1;
    }
    const tailFrom = Math.max(start, lastNl + 1);
    if (n - tailFrom >= this.maxLine) {
      // no newline yet and already at the limit: the head now, the rest dropped as it comes
      pieces.push(data.subarray(tailFrom, tailFrom + this.maxLine), NL_BUF);
      this.dropping = true;
      this.dropBytes = n - tailFrom - this.maxLine;
    } else if (tailFrom < n) this.partial = Buffer.from(data.subarray(tailFrom)); // a copy: do not pin the whole chunk
    if (pieces.length === 0) return null;
    const lines = Buffer.concat(pieces);
    return stampEscaped(lines, lines.length - 1, stamp);
  }

  /** The over-long line being dropped has ended: count it if anything was lost. */
  private endCut(): void {
    if (this.dropBytes > 0) {
      this.cutLines++;
      this.cutBytes += this.dropBytes;
    }
    this.dropping = false;
    this.dropBytes = 0;
  }

  /**
   * Over-long lines whose rest was dropped since the last call, and the bytes
   * dropped, or null when there were none. The daemon logs them as an event
   * after writing what push() returned.
   */
  takeCuts(): { lines: number; bytes: number } | null {
    if (this.cutLines === 0) return null;
    const cuts = { lines: this.cutLines, bytes: this.cutBytes };
    this.cutLines = 0;
    this.cutBytes = 0;
    return cuts;
  }

  /** The unterminated tail, if any, as a final line (the child has exited). */
  end(stamp: Buffer): Buffer | null {
    if (this.dropping) this.endCut();
    if (this.partial === null) return null;
    const rest = Buffer.concat([this.partial, NL_BUF]);
    this.partial = null;
    return stampEscaped(rest, rest.length - 1, stamp);
  }

  /** A new stream begins: a tail the last one left unfinished was already flushed by end(). */
  reset(): void {
    this.partial = null;
    this.dropping = false;
    this.dropBytes = 0;
  }

  /** Bytes held back waiting for a newline. */
  get pendingBytes(): number {
    return this.partial?.length ?? 0;
  }
}

const OK = 0x20;
function byteOk(c: number): boolean {
  return (c >= OK && c <= 0x7e) || c === NL;
}

/**
 * True when every byte is printable ASCII or a newline. Checks four bytes at
 * a time (a word has a byte below 0x20, at or above 0x7f, when one of these
 * borrows or high bits is set) and looks at single bytes only in a flagged
 * word, which is where the newlines are.
 */
export function allPrintableOrNewline(data: Uint8Array): boolean {
  const n = data.length;
  const off = data.byteOffset;
  let i = 0;
  while (i < n && ((off + i) & 3) !== 0) if (!byteOk(data[i++]!)) return false;
  if (i >= n) return true;
  const words = (n - i) >> 2;
  const w32 = new Int32Array(data.buffer, off + i, words);
  for (let k = 0; k < words; k++) {
    const w = w32[k]!;
    const x7f = w ^ 0x7f7f7f7f;
    if ((((w - 0x20202020) & ~w) | w | ((x7f - 0x01010101) & ~x7f)) & 0x80808080) {
      const b = i + (k << 2);
      if (!byteOk(data[b]!) || !byteOk(data[b + 1]!) || !byteOk(data[b + 2]!) || !byteOk(data[b + 3]!)) return false;
    }
  }
  for (let j = i + (words << 2); j < n; j++) if (!byteOk(data[j]!)) return false;
  return true;
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
