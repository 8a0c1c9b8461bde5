// Builds output lines as bytes in one reusable buffer. The text printers
// write numbers, addresses and escaped names straight into it, so the hot
// path makes no intermediate strings: at a million packets a second, string
// building and flattening was most of the cost.

import { ipv6EmbedsIpv4, ipv6ZeroRun } from '../decode/address.js';

/** The tens and units digit (as ASCII) of 0..99. */
const TENS = new Uint8Array(100);
const ONES = new Uint8Array(100);
for (let i = 0; i < 100; i++) {
  TENS[i] = 48 + Math.floor(i / 10);
  ONES[i] = 48 + (i % 10);
}

const HEX_DIGITS = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

export class AsciiWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** ASCII text known to be printable (constants, numbers, escaped names). */
  str(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A non-negative integer below 2^53, in decimal. */
  num(n: number): void {
    const b = this.buf;
    if (n < 100) {
      if (n < 10) b[this.pos++] = 48 + n;
      else {
        b[this.pos++] = TENS[n]!;
        b[this.pos++] = ONES[n]!;
      }
      return;
    }
    let digits = 3;
    for (let t = 1000; t <= n && digits < 16; t *= 10) digits++;
    let p = this.pos + digits;
    this.pos = p;
    // two digits at a time from the tables
    while (n >= 100) {
      const q = Math.floor(n / 100);
      const r = n - q * 100;
      b[--p] = ONES[r]!;
      b[--p] = TENS[r]!;
      n = q;
    }
    if (n < 10) b[--p] = 48 + n;
    else {
      b[--p] = ONES[n]!;
      b[--p] = TENS[n]!;
    }
  }

  /** Dotted quad from four bytes, each octet's digits from a table. */
  ipv4(src: Uint8Array, off: number): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 4; i++) {
      if (i > 0) b[p++] = 0x2e;
      const v = src[off + i]!;
      if (v >= 100) b[p++] = 48 + Math.floor(v / 100);
      if (v >= 10) b[p++] = TENS[v % 100]!;
      b[p++] = ONES[v % 100]!;
    }
    this.pos = p;
  }

  /**
   * An IPv6 address as tcpdump prints it (see decode/address.ts, whose
   * ipv6ToString is the same algorithm for strings): longest run of two or
   * more zero words compressed, ::a.b.c.d and ::ffff:a.b.c.d forms.
   */
  ipv6(src: Uint8Array, off: number): void {
    const run = ipv6ZeroRun(src, off);
    const embeds = ipv6EmbedsIpv4(src, off, run);
    const b = this.buf;
    for (let i = 0; i < 8; i++) {
      if (run !== null && i >= run.base && i < run.base + run.length) {
        if (i === run.base) b[this.pos++] = 0x3a;
        continue;
      }
      if (i !== 0) b[this.pos++] = 0x3a;
      if (i === 6 && embeds) {
        this.ipv4(src, off + 12);
        return;
      }
      // hex without leading zeros
      const w = (src[off + 2 * i]! << 8) | src[off + 2 * i + 1]!;
      for (let shift = 12; shift >= 0; shift -= 4) if (w >> shift || shift === 0) b[this.pos++] = HEX_DIGITS[(w >> shift) & 15]!;
    }
    if (run !== null && run.base + run.length === 8) b[this.pos++] = 0x3a;
  }

  /** Bytes prepared once (constant text), copied. */
  bytes(src: Uint8Array): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < src.length; i++) b[p++] = src[i]!;
    this.pos = p;
  }

  /**
   * Bytes up to the first NUL within [start, start+size), escaped like
   * tcpdump (see escape.ts): at most 4 output bytes per input byte.
   */
  cstring(src: Uint8Array, start: number, size: number): void {
    const end = Math.min(src.length, start + size);
    const b = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      let c = src[i]!;
      if (c === 0) break;
      if (c >= 0x20 && c <= 0x7e) {
        b[p++] = c;
        continue;
      }
      if (c & 0x80) {
        b[p++] = 0x4d; // M
        b[p++] = 0x2d; // -
        c &= 0x7f;
      }
      if (c < 0x20 || c === 0x7f) {
        b[p++] = 0x5e; // ^
        b[p++] = c ^ 0x40;
      } else b[p++] = c;
    }
    this.pos = p;
  }

  /** The bytes written since `from`, as a string (tests, small outputs). */
  text(from = 0): string {
    return this.buf.toString('latin1', from, this.pos);
  }

  private spare: Buffer[] = [];

  /** Everything written, handed over (the writer goes on with another buffer). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }

  /**
   * Gives back a buffer from take() once it has been written out, so the
   * next take() reuses it instead of allocating.
   */
  recycle(taken: Buffer): void {
    if (this.spare.length < 4 && taken.buffer.byteLength >= this.buf.length) {
      this.spare.push(Buffer.from(taken.buffer, taken.byteOffset, taken.buffer.byteLength - taken.byteOffset));
    }
  }
}
