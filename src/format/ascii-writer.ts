// Builds output lines as bytes in one reusable buffer. The text printers
// write numbers, addresses and escaped names straight into it, so the hot
// path makes no intermediate strings: at a million packets a second, string
// building and flattening was most of the cost.

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
    if (n < 10) {
      this.buf[this.pos++] = 48 + n;
      return;
    }
    const b = this.buf;
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[--p] = 48 + n;
  }

  /** Dotted quad from four bytes. */
  ipv4(src: Uint8Array, off: number): void {
    this.num(src[off]!);
    this.buf[this.pos++] = 0x2e;
    this.num(src[off + 1]!);
    this.buf[this.pos++] = 0x2e;
    this.num(src[off + 2]!);
    this.buf[this.pos++] = 0x2e;
    this.num(src[off + 3]!);
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
