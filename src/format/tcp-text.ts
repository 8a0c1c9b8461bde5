// A TCP segment as tcpdump -S prints it: flags, absolute sequence numbers,
// window, urgent pointer, options.

import type { TcpSegment } from '../decode/packet.js';
import { TCPOPT, walkTcpOptions } from '../decode/tcp.js';
import type { AsciiWriter } from './ascii-writer.js';

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;
const TH_URG = 0x20;
const FLAG_LETTERS = 'FSRP.UEW';

const FLAG_STRINGS: string[] = [];
for (let flags = 0; flags < 256; flags++) {
  let s = '';
  for (let i = 0; i < 8; i++) if (flags & (1 << i)) s += FLAG_LETTERS[i];
  FLAG_STRINGS.push(s === '' ? 'none' : s);
}

/** tcpdump's flag letters, e.g. "S", "S.", "FP.", or "none". */
export function tcpFlagString(flags: number): string {
  return FLAG_STRINGS[flags & 0xff]!;
}

/**
 * tcpdump's option names; kinds it names but decodes specially (md5, mptcp, ...) are printed as hex here.
 * Fixed (differential test): 4.99.3 names only 254 (TCPOPT_EXPERIMENT2) "exp"; 253 is "unknown-253".
 */
const OPTION_NAMES: Record<number, string> = {
  0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 6: 'echo', 7: 'echoreply', 8: 'TS',
  11: 'cc', 12: 'ccnew', 13: '', 19: 'md5', 20: 'scps', 28: 'uto', 29: 'tcp-ao', 30: 'mptcp', 34: 'tfo', 254: 'exp',
};

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

const HEX = '0123456789abcdef';

/** Prints each option as walkTcpOptions finds it: "mss 1460", "sackOK", "TS val 1 ecr 0", ... */
const optionPrinter = {
  w: null as unknown as AsciiWriter,
  count: 0,
  stopped: false,
  option(kind: number, len: number, b: Uint8Array, data: number, datalen: number): void {
    this.name(kind);
    this.data(kind, len, b, data, datalen, datalen);
    if (datalen + (kind === TCPOPT.EOL || kind === TCPOPT.NOP ? 1 : 2) !== len) {
      this.w.str('[len ');
      this.w.num(len);
      this.w.byte(0x5d);
    }
    this.count++;
  },
  /** The separator before every option but the first, and the option's name. */
  name(kind: number): void {
    if (this.count > 0) this.w.byte(0x2c);
    this.w.str(OPTION_NAMES[kind] ?? `unknown-${kind}`);
  },
  /** An option's value; `avail` < `datalen` when the capture cut it (print what fits, as tcpdump). */
  data(kind: number, len: number, b: Uint8Array, data: number, datalen: number, avail: number): void {
    const w = this.w;
    switch (kind) {
      case TCPOPT.MSS:
        if (avail < 2) return;
        w.byte(0x20);
        w.num((b[data]! << 8) | b[data + 1]!);
        return;
      case TCPOPT.WSCALE:
        if (avail < 1) return;
        w.byte(0x20);
        w.num(b[data]!);
        return;
      case TCPOPT.ECHO:
      case TCPOPT.ECHOREPLY:
      case TCPOPT.CC:
      case TCPOPT.CCNEW:
        if (avail < 4) return;
        w.byte(0x20);
        w.num(be32(b, data));
        return;
      case TCPOPT.TIMESTAMP:
        if (avail < 8) return;
        w.str(' val ');
        w.num(be32(b, data));
        w.str(' ecr ');
        w.num(be32(b, data + 4));
        return;
      case TCPOPT.SACK:
        if (datalen % 8 !== 0) {
          w.str(' invalid sack');
          return;
        }
        w.byte(0x20);
        w.num(datalen / 8);
        w.byte(0x20);
        for (let i = 0; i + 8 <= avail; i += 8) {
          w.byte(0x7b);
          w.num(be32(b, data + i));
          w.byte(0x3a);
          w.num(be32(b, data + i + 4));
          w.byte(0x7d);
        }
        return;
      default:
        if (kind === TCPOPT.EOL || kind === TCPOPT.NOP || kind === TCPOPT.SACKOK) return;
        if (len - 2 > 0) w.str(' 0x');
        for (let i = 0; i < avail; i++) {
          w.byte(HEX.charCodeAt(b[data + i]! >> 4));
          w.byte(HEX.charCodeAt(b[data + i]! & 15));
        }
    }
  },
  stop(bad: boolean, kind: number, len: number, b: Uint8Array, data: number, avail: number): void {
    const w = this.w;
    this.stopped = true;
    if (kind >= 0) {
      this.name(kind);
      if (!bad) this.data(kind, len, b, data, dataLengthFor(kind, len), avail);
    } else if (this.count > 0) w.byte(0x2c);
    if (!bad) {
      w.str(' [|tcp]');
      // Fixed (differential test): a cut inside an option's data goes to
      // tcpdump's "trunc:" label, which adds ">" once an option was printed.
      if (kind >= 0 && this.count > 0) w.byte(0x3e);
    } else {
      // tcpdump closes the list only if an option was printed before
      w.str('[bad opt]');
      if (this.count > 0) w.byte(0x5d);
    }
  },
};

/** Data length for a cut option: only sack and unknown kinds depend on the length byte. */
function dataLengthFor(kind: number, len: number): number {
  return kind === TCPOPT.SACK || OPTION_NAMES[kind] === undefined ? len - 2 : 0;
}

export function writeTcp(w: AsciiWriter, t: TcpSegment, transportLength: number, b: Uint8Array): void {
  if (t.badHeaderLength) {
    w.str(' tcp ');
    w.num((transportLength - t.headerLength) >>> 0);
    w.str(' [bad hdr length ');
    w.num(t.headerLength);
    w.str(' - too short, < 20]');
    return;
  }
  if (t.flags === null) {
    w.str(' [|tcp]');
    return;
  }
  w.str('Flags [');
  w.str(tcpFlagString(t.flags));
  w.byte(0x5d);
  if (t.headerLength > transportLength) {
    w.str(' [bad hdr length ');
    w.num(t.headerLength);
    w.str(' - too long, > ');
    w.num(transportLength);
    w.byte(0x5d);
    return;
  }
  if (t.dataLength > 0 || t.flags & (TH_SYN | TH_FIN | TH_RST)) {
    w.str(', seq ');
    w.num(t.seq);
    if (t.dataLength > 0) {
      w.byte(0x3a);
      w.num((t.seq + t.dataLength) >>> 0);
    }
  }
  if (t.flags & TH_ACK) {
    w.str(', ack ');
    w.num(t.ack);
  }
  w.str(', win ');
  w.num(t.win);
  if (t.flags & TH_URG) {
    w.str(', urg ');
    w.num(t.urp);
  }
  if (t.headerLength > 20) {
    w.str(', options [');
    const p = optionPrinter;
    p.w = w;
    p.count = 0;
    p.stopped = false;
    walkTcpOptions(b, t, p);
    if (p.stopped) return;
    w.byte(0x5d);
  }
  w.str(', length ');
  w.num(t.dataLength);
}
