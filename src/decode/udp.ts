// UDP header only: pfasciilogd never decodes what UDP carries (that is where
// tcpdump's application printers print attacker-chosen text).

import type { UdpDatagram } from './packet.js';

export function decodeUdp(b: Uint8Array, off: number, end: number, length: number): UdpDatagram | null {
  if (end - off < 4) return null;
  const d: UdpDatagram = { kind: 'udp', sport: (b[off]! << 8) | b[off + 1]!, dport: (b[off + 2]! << 8) | b[off + 3]!, length: null, badLength: null };
  if (end - off < 6) return d;
  let ulen = (b[off + 4]! << 8) | b[off + 5]!;
  if (ulen === 0 && length > 65535) ulen = length; // IPv6 jumbogram
  if (ulen < 8) d.badLength = ulen;
  else d.length = ulen - 8;
  return d;
}
