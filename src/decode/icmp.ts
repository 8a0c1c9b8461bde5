// ICMP and ICMPv6: the type and code, echo id/sequence, and for IPv4 errors
// the few fields of the quoted packet that tcpdump prints without -v.

import type { IcmpMessage } from './packet.js';

function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function message(kind: 'icmp' | 'icmp6', b: Uint8Array, off: number, length: number, into?: IcmpMessage): IcmpMessage {
  const m = into ?? ({} as IcmpMessage);
  m.kind = kind;
  m.type = b[off]!;
  m.code = b[off + 1]!;
  m.id = null;
  m.seq = null;
  m.innerDstOffset = -1;
  m.innerProto = 0;
  m.innerDport = null;
  m.mtu = null;
  m.length = length;
  m.truncated = false;
  return m;
}

export const ICMP_ECHOREPLY = 0;
export const ICMP_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_TIMXCEED = 11;
export const ICMP_UNREACH_PORT = 3;
export const ICMP_UNREACH_NEEDFRAG = 4;

/** The message at b[off..end); `length` is the ICMP length the IP header claims. */
export function decodeIcmp(b: Uint8Array, off: number, end: number, length: number, into?: IcmpMessage): IcmpMessage | null {
  if (end - off < 2) return null;
  const m = message('icmp', b, off, length, into);
  const avail = end - off;
  if (m.type === ICMP_ECHO || m.type === ICMP_ECHOREPLY || (m.type >= 13 && m.type <= 18)) {
    if (avail < 8) m.truncated = true;
    else {
      m.id = be16(b, off + 4);
      m.seq = be16(b, off + 6);
    }
  } else if (m.type === ICMP_UNREACH) {
    // The quoted IP header: its destination, protocol, and for port
    // unreachable the quoted transport's destination port.
    if (avail < 28) m.truncated = true;
    else {
      const ihl = (b[off + 8]! & 0x0f) * 4;
      m.innerDstOffset = off + 24;
      m.innerProto = b[off + 17]!;
      if (m.code === ICMP_UNREACH_PORT) {
        if (avail < 8 + ihl + 4) m.truncated = true;
        else m.innerDport = be16(b, off + 8 + ihl + 2);
      }
      if (m.code === ICMP_UNREACH_NEEDFRAG) m.mtu = be16(b, off + 6);
    }
  } else if (m.type === ICMP_TIMXCEED) {
    // Fixed (differential test): tcpdump checks that the quoted IP header
    // (through its destination) was captured, and prints " [|icmp]" if not.
    if (avail < 28) m.truncated = true;
  }
  return m;
}

export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;

export function decodeIcmp6(b: Uint8Array, off: number, end: number, length: number, into?: IcmpMessage): IcmpMessage | null {
  if (end - off < 1) return null;
  if (end - off < 2) {
    // Fixed (differential test): with only the type captured, tcpdump
    // prints "ICMP6, <type name> [|icmp6]".
    const m = message('icmp6', b, off, length, into);
    m.code = 0;
    m.truncated = true;
    return m;
  }
  const m = message('icmp6', b, off, length, into);
  if (m.type === ICMP6_ECHO_REQUEST || m.type === ICMP6_ECHO_REPLY) {
    if (end - off < 8) m.truncated = true;
    else {
      m.id = be16(b, off + 4);
      m.seq = be16(b, off + 6);
    }
  }
  return m;
}
