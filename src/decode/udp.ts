// UDP header only: pfasciilogd never decodes what UDP carries (that is where
// tcpdump's application printers print attacker-chosen text).

import type { UdpDatagram } from './packet.js';

export function decodeUdp(b: Uint8Array, length: number): UdpDatagram | null {
  if (b.length < 4) return null;
  const d: UdpDatagram = { kind: 'udp', sport: (b[0]! << 8) | b[1]!, dport: (b[2]! << 8) | b[3]!, length: null, badLength: null };
  if (b.length < 6) return d;
  let ulen = (b[4]! << 8) | b[5]!;
  if (ulen === 0 && length > 65535) ulen = length; // IPv6 jumbogram
  if (ulen < 8) d.badLength = ulen;
  else d.length = ulen - 8;
  return d;
}
