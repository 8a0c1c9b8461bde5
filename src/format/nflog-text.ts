// The NFLOG part of a line, shaped like pflog's so that the source address
// stands in the same place and one fail2ban filter reads both:
//   nflog 1 "pf-block" in on eth0: 10.77.0.1.55202 > 10.77.0.2.23: ...
// "in on" names the input interface, "out on" the output interface (both for
// forwarded packets). Interface indexes become names through `names` (the
// daemon looks them up where it runs); an index it cannot name is "ifN".

import type { NflogHeader } from '../decode/nflog.js';
import type { AsciiWriter } from './ascii-writer.js';
import { escapeBytes, escapeText } from './escape.js';

/** Interface index to name, or null when unknown. */
export type InterfaceNames = (index: number) => string | null;

function writeInterface(w: AsciiWriter, index: number, names: InterfaceNames | undefined): void {
  const name = names?.(index) ?? null;
  if (name === null) {
    w.str('if');
    w.num(index);
  } else w.str(escapeText(name));
}

export function writeNflog(w: AsciiWriter, h: NflogHeader, names?: InterfaceNames): void {
  w.str('nflog ');
  w.num(h.group);
  w.str(' "');
  // the prefix is the admin's, but escaped all the same; a quote or
  // backslash in it is backslash-escaped so the quoted field stays one field
  const b = h.bytes;
  for (let i = h.prefixOffset; i >= 0 && i < h.prefixOffset + h.prefixLength; i++) {
    const c = b[i]!;
    if (c === 0x22 || c === 0x5c) {
      w.byte(0x5c);
      w.byte(c);
    } else w.cstring(b, i, 1);
  }
  w.byte(0x22);
  if (h.indev !== null) {
    w.str(' in on ');
    writeInterface(w, h.indev, names);
  }
  if (h.outdev !== null) {
    w.str(' out on ');
    writeInterface(w, h.outdev, names);
  }
  w.str(': ');
}

/** The prefix as a printable string (JSON). */
export function nflogPrefix(h: NflogHeader): string {
  return h.prefixOffset < 0 ? '' : escapeBytes(h.bytes, h.prefixOffset, h.prefixOffset + h.prefixLength);
}
