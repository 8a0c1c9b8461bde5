// The one escaping function for bytes that came from the wire or from a child
// process. It follows tcpdump's own convention (fn_print_char): bytes with the
// high bit set become "M-" plus the low seven bits, control characters become
// "^" plus the character XOR 0x40 ("\n" -> "^J", DEL -> "^?"). The output is
// printable ASCII only, so no input can start a second log line; and it is the
// same text tcpdump prints for interface and ruleset names, so native lines
// and tcpdump's lines agree byte for byte.

/** True when every byte in [start, end) is printable ASCII (0x20..0x7e). */
export function isPrintable(buf: Uint8Array, start = 0, end = buf.length): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Escapes bytes [start, end) to a printable ASCII string. */
export function escapeBytes(buf: Uint8Array, start = 0, end = buf.length): string {
  let out = '';
  for (let i = start; i < end; i++) {
    let c = buf[i]!;
    if (c >= 0x20 && c <= 0x7e) {
      out += String.fromCharCode(c);
      continue;
    }
    if (c & 0x80) {
      out += 'M-';
      c &= 0x7f;
    }
    if (c < 0x20 || c === 0x7f) out += '^' + String.fromCharCode(c ^ 0x40);
    else out += String.fromCharCode(c);
  }
  return out;
}

/**
 * A NUL-terminated fixed-size field (ifname, ruleset) printed the way tcpdump's
 * nd_printjzp does: up to the first NUL, escaped.
 */
export function escapeCString(buf: Uint8Array, start: number, size: number): string {
  const end = Math.min(buf.length, start + size);
  let stop = start;
  while (stop < end && buf[stop] !== 0) stop++;
  return isPrintable(buf, start, stop) ? Buffer.from(buf.buffer, buf.byteOffset + start, stop - start).toString('latin1') : escapeBytes(buf, start, stop);
}

/** Escapes a JS string's characters the same way (for text that is already decoded). */
export function escapeText(s: string): string {
  return escapeBytes(Buffer.from(s, 'utf8'));
}
