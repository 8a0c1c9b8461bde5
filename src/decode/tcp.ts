// TCP header and options, bounds-checked. The options are walked, not
// collected: walkTcpOptions hands each one to a visitor (the text printer),
// so a packet's options cost no allocation. The walk follows tcpdump's,
// including how it resumes after an option whose length byte disagrees with
// its kind, so both print the same option list.

import type { TcpSegment } from './packet.js';

export const TCPOPT = { EOL: 0, NOP: 1, MSS: 2, WSCALE: 3, SACKOK: 4, SACK: 5, ECHO: 6, ECHOREPLY: 7, TIMESTAMP: 8, CC: 11, CCNEW: 12 } as const;

function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * The header at b[off..end) (the captured bytes), `length` the transport
 * length the IP header claims. Returns null when not even the ports were
 * captured.
 */
export function decodeTcp(b: Uint8Array, off: number, end: number, length: number, into?: TcpSegment): TcpSegment | null {
  if (end - off < 4) return null;
  const seg: TcpSegment = into ?? ({ kind: 'tcp' } as TcpSegment);
  seg.kind = 'tcp';
  seg.sport = be16(b, off);
  seg.dport = be16(b, off + 2);
  seg.flags = null;
  seg.seq = 0;
  seg.ack = 0;
  seg.win = 0;
  seg.urp = 0;
  seg.headerLength = 0;
  seg.optionsOffset = -1;
  seg.optionsEnd = -1;
  seg.dataLength = 0;
  seg.badHeaderLength = false;
  // Fixed (differential test): tcpdump wants the whole 20-byte header
  // captured before it looks at the data offset ("[|tcp]" otherwise).
  if (end - off < 20) return seg;
  seg.headerLength = (b[off + 12]! >> 4) * 4;
  if (seg.headerLength < 20) {
    seg.badHeaderLength = true;
    return seg;
  }
  seg.seq = be32(b, off + 4);
  seg.ack = be32(b, off + 8);
  seg.flags = b[off + 13]!;
  seg.win = be16(b, off + 14);
  seg.urp = be16(b, off + 18);
  seg.dataLength = length - seg.headerLength;
  if (seg.headerLength > 20) {
    seg.optionsOffset = off + 20;
    seg.optionsEnd = end; // captured end: the walk stops here with "truncated"
  }
  return seg;
}

export interface TcpOptionVisitor {
  /** One option: its kind, its length byte (1 for eol/nop), its data at b[data..data+datalen). */
  option(kind: number, len: number, b: Uint8Array, data: number, datalen: number): void;
  /**
   * The walk ends early. kind < 0: at an option boundary or inside an
   * option's kind/length bytes; kind >= 0: that option's data is cut short,
   * with `avail` of its data bytes captured (tcpdump has printed its name and
   * what fits). `bad`: tcpdump's "[bad opt]" (a length that cannot be right),
   * else the capture ended ("[|tcp]").
   */
  stop(bad: boolean, kind: number, len: number, b: Uint8Array, data: number, avail: number): void;
}

/** The data length tcpdump reads for an option kind. */
function dataLength(kind: number, len: number): number {
  switch (kind) {
    case TCPOPT.EOL:
    case TCPOPT.NOP:
    case TCPOPT.SACKOK:
      return 0;
    case TCPOPT.MSS:
      return 2;
    case TCPOPT.WSCALE:
      return 1;
    case TCPOPT.ECHO:
    case TCPOPT.ECHOREPLY:
    case TCPOPT.CC:
    case TCPOPT.CCNEW:
      return 4;
    case TCPOPT.TIMESTAMP:
      return 8;
    default:
      return len - 2; // sack and unknown kinds: everything the length byte covers
  }
}

/** Walks the options of a segment decoded from `b`. */
export function walkTcpOptions(b: Uint8Array, seg: TcpSegment, v: TcpOptionVisitor): void {
  if (seg.optionsOffset < 0) return;
  let left = seg.headerLength - 20;
  let cp = seg.optionsOffset;
  const end = seg.optionsEnd;
  while (left > 0) {
    if (cp >= end) return v.stop(false, -1, 0, b, cp, 0);
    const kind = b[cp++]!;
    let len: number;
    if (kind === TCPOPT.EOL || kind === TCPOPT.NOP) len = 1;
    else {
      if (cp >= end) return v.stop(false, -1, 0, b, cp, 0);
      len = b[cp++]!;
      if (len < 2 || len > left) return v.stop(true, -1, len, b, cp, 0);
      left--;
    }
    left--;
    const datalen = dataLength(kind, len);
    if (datalen > left) return v.stop(true, kind, len, b, cp, 0);
    // A sack whose length is not a multiple of 8 is printed without reading it.
    const read = kind === TCPOPT.SACK && datalen % 8 !== 0 ? 0 : datalen;
    if (cp + read > end) return v.stop(false, kind, len, b, cp, end - cp);
    v.option(kind, len, b, cp, datalen);
    cp += datalen;
    left -= datalen;
    if (kind === TCPOPT.EOL) return;
  }
}
