// A Packet as the one line `tcpdump -n -e -t -S` prints for it, one printer
// per layer as in tcpdump, writing bytes into an AsciiWriter (see there for
// why). Differences by design: UDP is always "UDP, length N" (no application
// printers, ever), other protocols get tcpdump's "ip-proto-N LEN" summary,
// pflog names upstream knows are used where a Linux build of tcpdump prints
// unkn(N), and nothing here can print a newline: every byte from the wire
// goes through AsciiWriter.cstring or is a number.

import type { IcmpMessage, NetworkLayer, Packet, TcpSegment, Transport, UdpDatagram } from '../decode/packet.js';
import { TCPOPT, walkTcpOptions } from '../decode/tcp.js';
import { IFNAME_OFFSET, IFNAMSIZ, RULESET_OFFSET, RULESET_SIZE, actionName, directionName, reasonText, type PflogHeader } from '../decode/pflog.js';
import { ipv6ToString } from '../decode/address.js';
import { AsciiWriter } from './ascii-writer.js';

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
 * The pflog part of the line depends only on the header bytes (not on the
 * pids in it), and a firewall logs through a few rules: the text is kept per
 * rule number with the header it came from, and reused while the bytes match.
 * The entries' buffers are allocated once per rule, never per packet.
 */
interface PrefixEntry {
  header: Uint8Array;
  /** header bytes 0..47 as 12 words, for a quick compare */
  words: Int32Array;
  headerLength: number;
  prefix: Uint8Array;
  prefixLength: number;
}

const MAX_CACHED_RULES = 256;
const prefixCache = new Map<number, PrefixEntry>();

let viewBytes: Uint8Array | null = null;
let view: DataView | null = null;

/** A DataView on the capture bytes, made once per buffer (the stream reuses one). */
function viewOf(b: Uint8Array): DataView {
  if (b !== viewBytes) {
    viewBytes = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return view!;
}

function matches(e: PrefixEntry, h: PflogHeader): boolean {
  const n = h.headerBytes;
  if (n !== e.headerLength) return false;
  const b = h.bytes;
  const o = h.offset;
  const hb = e.header;
  // what the text depends on: everything up to the uid, the direction, and
  // FreeBSD's rule identifier (not the pids, nor OpenBSD's rewritten addresses)
  const v = viewOf(b);
  const w = e.words;
  for (let i = 0; i < 12; i++) if (v.getInt32(o + 4 * i, true) !== w[i]) return false;
  if (b[o + 60] !== hb[60]) return false;
  if (n >= 68) for (let i = 64; i < 68; i++) if (b[o + i] !== hb[i]) return false;
  return true;
}

export function writePflog(w: AsciiWriter, h: PflogHeader): void {
  let e = prefixCache.get(h.rulenr);
  if (e !== undefined && matches(e, h)) {
    const out = w.buf;
    const p = e.prefix;
    let o = w.pos;
    for (let i = 0; i < e.prefixLength; i++) out[o++] = p[i]!;
    w.pos = o;
    return;
  }
  const start = w.pos;
  writePflogUncached(w, h);
  const n = h.headerBytes;
  const len = w.pos - start;
  if (n > 128 || len > 512) return; // odd headers, escaped names: not worth keeping
  if (e === undefined) {
    if (prefixCache.size >= MAX_CACHED_RULES) prefixCache.clear();
    e = { header: new Uint8Array(128), words: new Int32Array(12), headerLength: 0, prefix: new Uint8Array(512), prefixLength: 0 };
    prefixCache.set(h.rulenr, e);
  }
  for (let i = 0; i < n; i++) e.header[i] = h.bytes[h.offset + i]!;
  const v = viewOf(h.bytes);
  for (let i = 0; i < 12; i++) e.words[i] = v.getInt32(h.offset + 4 * i, true);
  e.headerLength = n;
  for (let i = 0; i < len; i++) e.prefix[i] = w.buf[start + i]!;
  e.prefixLength = len;
}

function writePflogUncached(w: AsciiWriter, h: PflogHeader): void {
  w.str('rule ');
  w.num(h.rulenr);
  if (h.subrulenr !== 0xffffffff) {
    w.byte(0x2e);
    w.cstring(h.bytes, h.offset + RULESET_OFFSET, RULESET_SIZE);
    w.byte(0x2e);
    w.num(h.subrulenr);
  }
  w.byte(0x2f);
  w.str(reasonText(h));
  // FreeBSD's tcpdump adds these; so do we for FreeBSD headers.
  if (h.flavor === 'freebsd') {
    if (h.uid !== null) {
      w.str(' [uid ');
      w.num(h.uid);
      w.byte(0x5d);
    }
    if (h.ridentifier !== null) {
      w.str(' [ridentifier ');
      w.num(h.ridentifier);
      w.byte(0x5d);
    }
  }
  w.str(': ');
  w.str(actionName(h));
  w.byte(0x20);
  w.str(directionName(h));
  w.str(' on ');
  w.cstring(h.bytes, h.offset + IFNAME_OFFSET, IFNAMSIZ);
  w.str(': ');
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

function writeTcp(w: AsciiWriter, t: TcpSegment, transportLength: number, b: Uint8Array): void {
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

function writeUdp(w: AsciiWriter, u: UdpDatagram): void {
  // Fixed (differential test): tcpdump 4.99.3's "truncated-udp N" and
  // "UDP, bad length N > M" (see decodeUdp).
  if (u.shortLength !== null) {
    w.str('truncated-udp ');
    w.num(u.shortLength);
  } else if (u.badLength !== null) {
    w.str('truncated-udplength ');
    w.num(u.badLength);
  } else if (u.length === null) w.str(' [|udp]');
  else if (u.ipLength !== null) {
    w.str('UDP, bad length ');
    w.num(u.length);
    w.str(' > ');
    w.num(u.ipLength);
  } else {
    w.str('UDP, length ');
    w.num(u.length);
  }
}

/** tcpdump's unreachable texts by code; '@' stands for the quoted destination. */
const UNREACH: readonly string[] = [
  'net @ unreachable', 'host @ unreachable', '', '', '', '@ unreachable - source route failed',
  'net @ unreachable - unknown', 'host @ unreachable - unknown', '@ unreachable - source host isolated',
  'net @ unreachable - admin prohibited', 'host @ unreachable - admin prohibited',
  'net @ unreachable - tos prohibited', 'host @ unreachable - tos prohibited',
  'host @ unreachable - admin prohibited filter', 'host @ unreachable - host precedence violation',
  'host @ unreachable - precedence cutoff',
];

const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply', 4: 'source quench', 5: 'redirect', 8: 'echo request', 9: 'router advertisement',
  10: 'router solicitation', 12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply',
  15: 'information request', 16: 'information reply', 17: 'address mask request', 18: 'address mask reply',
};

function writeUnreach(w: AsciiWriter, m: IcmpMessage, b: Uint8Array): void {
  const dst = m.innerDstOffset;
  switch (m.code) {
    case 2:
      w.ipv4(b, dst);
      w.str(' protocol ');
      w.num(m.innerProto);
      w.str(' unreachable');
      return;
    case 3:
      w.ipv4(b, dst);
      if (m.innerProto === 6 || m.innerProto === 17) w.str(m.innerProto === 6 ? ' tcp port ' : ' udp port ');
      else {
        w.str(' protocol ');
        w.num(m.innerProto);
        w.str(' port ');
      }
      w.num(m.innerDport!);
      w.str(' unreachable');
      return;
    case 4:
      w.ipv4(b, dst);
      w.str(' unreachable - need to frag');
      if (m.mtu) {
        w.str(' (mtu ');
        w.num(m.mtu);
        w.byte(0x29);
      }
      return;
    default: {
      const fmt = UNREACH[m.code] || `@ unreachable - #${m.code}`;
      const at = fmt.indexOf('@');
      w.str(fmt.slice(0, at));
      w.ipv4(b, dst);
      w.str(fmt.slice(at + 1));
    }
  }
}

function writeIcmp(w: AsciiWriter, m: IcmpMessage, b: Uint8Array): void {
  if (m.truncated) {
    w.str(' [|icmp]');
    return;
  }
  w.str('ICMP ');
  if (m.type === 8 || m.type === 0) {
    w.str(ICMP_TYPES[m.type]!);
    w.str(', id ');
    w.num(m.id!);
    w.str(', seq ');
    w.num(m.seq!);
  } else if (m.type === 3) writeUnreach(w, m, b);
  else if (m.type === 11) w.str(m.code === 0 ? 'time exceeded in-transit' : m.code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${m.code}`);
  else w.str(ICMP_TYPES[m.type] ?? `type-#${m.type}`);
  w.str(', length ');
  w.num(m.length);
}

const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report',
  132: 'multicast listener done', 133: 'router solicitation', 134: 'router advertisement',
  135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 143: 'multicast listener report v2',
};

function writeIcmp6(w: AsciiWriter, m: IcmpMessage): void {
  w.str('ICMP6, ');
  w.str(ICMP6_TYPES[m.type] ?? `unknown icmp6 type (${m.type})`);
  if (m.truncated) {
    w.str(' [|icmp6]');
    return;
  }
  if (m.id !== null) {
    w.str(', id ');
    w.num(m.id);
    w.str(', seq ');
    w.num(m.seq!);
  }
  w.str(', length ');
  w.num(m.length);
}

function writeTransport(w: AsciiWriter, t: Transport, n: NetworkLayer): void {
  switch (t.kind) {
    case 'tcp':
      return writeTcp(w, t, n.transportLength, n.bytes);
    case 'udp':
      return writeUdp(w, t);
    case 'icmp':
      return writeIcmp(w, t, n.bytes);
    case 'icmp6':
      return writeIcmp6(w, t);
    case 'other':
      w.str(' ip-proto-');
      w.num(t.proto);
      w.byte(0x20);
      w.num(t.length);
  }
}

const TRUNC: Record<number, string> = { 6: ' [|tcp]', 17: ' [|udp]', 1: ' [|icmp]', 58: ' [|icmp6]' };

function writeAddress(w: AsciiWriter, n: NetworkLayer, off: number): void {
  if (n.family === 4) w.ipv4(n.bytes, off);
  else w.str(ipv6ToString(n.bytes, off));
}

/** "SRC > DST: " or, with ports, "SRC.SPORT > DST.DPORT: ". */
function writeAddresses(w: AsciiWriter, n: NetworkLayer, sport: number, dport: number): void {
  writeAddress(w, n, n.srcOffset);
  if (sport >= 0) {
    w.byte(0x2e);
    w.num(sport);
  }
  w.str(' > ');
  writeAddress(w, n, n.dstOffset);
  if (dport >= 0) {
    w.byte(0x2e);
    w.num(dport);
  }
  w.byte(0x3a);
}

function writeNetwork(w: AsciiWriter, n: NetworkLayer): void {
  if (n.missingBytes > 0) {
    w.str(n.family === 4 ? 'truncated-ip - ' : 'truncated-ip6 - ');
    w.num(n.missingBytes);
    w.str(n.family === 4 ? ' bytes missing! ' : ' bytes missing!');
  }
  const t = n.transport;
  const ported = t !== null && (t.kind === 'tcp' || t.kind === 'udp');
  const ext = n.extensions;
  if (n.family === 4 && n.laterFragment) {
    writeAddresses(w, n, -1, -1);
    w.str(' ip-proto-');
    w.num(n.proto);
    return;
  }
  if (ext === null && ported) {
    writeAddresses(w, n, t.sport, t.dport);
    w.byte(0x20);
    return writeTransport(w, t, n);
  }
  writeAddresses(w, n, -1, -1);
  if (ext === null && t === null && (n.proto === 6 || n.proto === 17)) {
    // Fixed (differential test): tcpdump's UDP printer writes "SRC > DST: "
    // before its " [|udp]"; TCP's writes "SRC > DST:".
    if (n.proto === 17) w.byte(0x20);
    w.str(TRUNC[n.proto]!);
    return;
  }
  w.byte(0x20);
  if (ext !== null) {
    for (let i = 0; i < ext.length; i++) {
      w.reserve(ext[i]!.length + 1); // a routing header may list 127 addresses
      w.str(ext[i]!);
      if (!(n.laterFragment && i === ext.length - 1)) w.byte(0x20);
    }
  }
  if (n.laterFragment) return;
  if (n.stop !== null) {
    // tcpdump stopped inside the extension headers (see decodeIpv6)
    w.reserve(n.stop.length);
    w.str(n.stop);
    return;
  }
  if (t === null) {
    // Fixed (differential test): after extension headers, tcpdump's TCP
    // printer repeats "SRC > DST:" before " [|tcp]"; UDP's prints no addresses.
    if (n.proto === 6) writeAddresses(w, n, -1, -1);
    w.str(TRUNC[n.proto] ?? ' [|ip6]');
  } else if (ported) {
    w.num(t.sport);
    w.str(' > ');
    w.num(t.dport);
    w.str(': ');
    writeTransport(w, t, n);
  } else writeTransport(w, t, n);
}

/** Writes the line for a packet, without the stamp and without a newline. */
export function writePacketText(w: AsciiWriter, p: Packet): void {
  // The longest line: two escaped names (4 bytes per input byte), a full TCP
  // option list, IPv6 extension headers; 4 KiB is ample.
  w.reserve(4096);
  if (p.pflog !== null) writePflog(w, p.pflog);
  if (p.net !== null) writeNetwork(w, p.net);
  if (p.problem !== null) {
    if (p.net !== null) w.byte(0x20);
    w.str(p.problem);
  }
}

const scratch = new AsciiWriter(4096);

/** The line for a packet as a string (tests, one-off use). */
export function packetText(p: Packet): string {
  scratch.pos = 0;
  writePacketText(scratch, p);
  return scratch.text();
}
