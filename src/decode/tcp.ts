// TCP header and options, bounds-checked. Option parsing walks the bytes the
// way tcpdump does (including how it resumes after an option whose length
// byte disagrees with its kind), so both print the same option list.

import type { TcpOption, TcpSegment } from './packet.js';

const EOL = 0;
const NOP = 1;
const NAMES: Record<number, string> = { 0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 8: 'TS', 6: 'echo', 7: 'echoreply', 11: 'cc', 12: 'ccnew' };

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
export function decodeTcp(b: Uint8Array, off: number, end: number, length: number): TcpSegment | null {
  if (end - off < 4) return null;
  const seg: TcpSegment = {
    kind: 'tcp',
    sport: be16(b, off),
    dport: be16(b, off + 2),
    flags: null,
    seq: 0,
    ack: 0,
    win: 0,
    urp: 0,
    headerLength: 0,
    options: [],
    optionsTruncated: false,
    dataLength: 0,
    badHeaderLength: false,
  };
  if (end - off < 13) return seg;
  seg.headerLength = (b[off + 12]! >> 4) * 4;
  if (seg.headerLength < 20) {
    seg.badHeaderLength = true;
    return seg;
  }
  if (end - off < 20) return seg;
  seg.seq = be32(b, off + 4);
  seg.ack = be32(b, off + 8);
  seg.flags = b[off + 13]!;
  seg.win = be16(b, off + 14);
  seg.urp = be16(b, off + 18);
  seg.dataLength = length - seg.headerLength;
  if (seg.headerLength > 20 && seg.headerLength <= length) parseOptions(b, off, end, seg);
  return seg;
}

function parseOptions(b: Uint8Array, off: number, end: number, seg: TcpSegment): void {
  let left = seg.headerLength - 20;
  let cp = off + 20;
  const out = seg.options;
  while (left > 0) {
    if (cp >= end) return truncated(seg);
    const kind = b[cp++]!;
    let len: number;
    if (kind === EOL || kind === NOP) len = 1;
    else {
      if (cp >= end) return truncated(seg);
      len = b[cp++]!;
      if (len < 2 || len > left) return bad(seg);
      left--;
    }
    left--;
    const opt: TcpOption = { name: NAMES[kind] ?? `unknown-${kind}` };
    let datalen = 0;
    const need = (n: number): boolean => {
      if (n > left) {
        bad(seg);
        return false;
      }
      if (cp + n > end) {
        truncated(seg);
        return false;
      }
      return true;
    };
    switch (kind) {
      case EOL:
      case NOP:
      case 4: // sackOK
        break;
      case 2:
        datalen = 2;
        if (!need(datalen)) return;
        opt.value = be16(b, cp);
        break;
      case 3:
        datalen = 1;
        if (!need(datalen)) return;
        opt.value = b[cp]!;
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 === 0) {
          opt.blocks = [];
          for (let i = 0; i < datalen; i += 8) {
            if (!need(i + 8)) return;
            opt.blocks.push([be32(b, cp + i), be32(b, cp + i + 4)]);
          }
        }
        break;
      case 6:
      case 7:
      case 11:
      case 12:
        datalen = 4;
        if (!need(datalen)) return;
        opt.value = be32(b, cp);
        break;
      case 8:
        datalen = 8;
        if (!need(datalen)) return;
        opt.tsval = be32(b, cp);
        opt.tsecr = be32(b, cp + 4);
        break;
      default: {
        datalen = len - 2;
        let hex = '';
        for (let i = 0; i < datalen; i++) {
          if (!need(i + 1)) return;
          hex += (b[cp + i]! < 16 ? '0' : '') + b[cp + i]!.toString(16);
        }
        opt.hex = hex;
      }
    }
    cp += datalen;
    left -= datalen;
    const consumed = datalen + 1 + (kind === EOL || kind === NOP ? 0 : 1);
    if (consumed !== len) opt.badLength = len;
    out.push(opt);
    if (kind === EOL) break;
  }
}

function truncated(seg: TcpSegment): void {
  seg.optionsTruncated = true;
}

function bad(seg: TcpSegment): void {
  seg.options.push({ name: '[bad opt]' });
  seg.optionsTruncated = false;
}
