// UDP header only: pfasciilogd never decodes what UDP carries (that is where
// tcpdump's application printers print attacker-chosen text).

import type { UdpDatagram } from './packet.js';

/**
 * The header at b[off..end); `length` is the IP payload length, `fragmented`
 * says this is a first fragment (the UDP length may then exceed `length`).
 *
 * Fixed (differential test), in tcpdump 4.99.3's order: an IP payload
 * shorter than 8 bytes is "truncated-udp N"; the whole 8-byte header must be
 * captured ("[|udp]" otherwise, unless the length field is already bad); a
 * UDP length beyond the IP payload is "UDP, bad length N > M".
 */
export function decodeUdp(b: Uint8Array, off: number, end: number, length: number, fragmented: boolean, into?: UdpDatagram): UdpDatagram | null {
  if (end - off < 4) return null;
  const d: UdpDatagram = into ?? ({ kind: 'udp' } as UdpDatagram);
  d.kind = 'udp';
  d.sport = (b[off]! << 8) | b[off + 1]!;
  d.dport = (b[off + 2]! << 8) | b[off + 3]!;
  d.length = null;
  d.badLength = null;
  d.shortLength = null;
  d.ipLength = null;
  if (length < 8) {
    d.shortLength = length;
    return d;
  }
  if (end - off < 6) return d;
  let ulen = (b[off + 4]! << 8) | b[off + 5]!;
  if (ulen === 0 && length > 65535) ulen = length; // IPv6 jumbogram
  if (ulen < 8) {
    d.badLength = ulen;
    return d;
  }
  if (end - off < 8) return d;
  d.length = ulen - 8;
  if (ulen > length && !fragmented) d.ipLength = length - 8;
  return d;
}
