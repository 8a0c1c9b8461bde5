// A Packet as the line pfSense's and OPNsense's filterlog daemon writes, so
// that the tools built for those logs (CrowdSec's firewallservices/pf-logs,
// Wazuh, Elastic, Graylog, pfelk, Splunk) read ours:
//
//   STAMP HOST filterlog[PID]: rule,subrule,anchor,tracker,if,reason,action,dir,ipver,...
//
// The field layout is the one both dialects share (Netgate's "raw filter log
// format", the two filterlog sources). Where they disagree, or where a form
// breaks the parsers, the choice made here is listed in pfasciilogd(8)
// (FILTERLOG FORMAT) and tested one by one in test/unit/filterlog.test.ts.
//
// Every field has a fixed place: a field we cannot fill (a header cut by the
// snaplen, a protocol not decoded) is left empty, never dropped, so a column
// never shifts. Bytes from the wire (interface, anchor) are percent-encoded
// outside [A-Za-z0-9._-] (see writeField): no input can add a field, a
// quote, a space or a line.

import { hostname } from 'node:os';
import type { IcmpMessage, NetworkLayer, Packet, TcpSegment, Transport, UdpDatagram } from '../decode/packet.js';
import { IFNAME_OFFSET, IFNAMSIZ, RULESET_OFFSET, RULESET_SIZE, actionName, directionName, familyOf, reasonName, type PflogHeader } from '../decode/pflog.js';
import type { NflogHeader } from '../decode/nflog.js';
import { walkTcpOptions, type TcpOptionVisitor } from '../decode/tcp.js';
import { AsciiWriter } from './ascii-writer.js';
import type { InterfaceNames } from './nflog-text.js';
import { writeStamp } from './timestamp.js';

const COMMA = 0x2c;
const HEX = '0123456789ABCDEF';
const hex = new Uint8Array(16).map((_, i) => HEX.charCodeAt(i));

/** Bytes a field may carry as they are: CrowdSec's PF_WORD class (grok USERNAME), and '/' where allowed (anchor paths). */
function plain(c: number, slash: boolean): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x2d || (slash && c === 0x2f);
}

/**
 * Bytes [start, end), up to a NUL, with every other byte as %XX: commas,
 * spaces, quotes, brackets, '=' and ';' (what the consumers split on), '%'
 * itself, control and high bytes. Lossless (see decodeField in
 * stats/parse-filterlog-line.ts); at most 3 output bytes per input byte.
 */
export function writeField(w: AsciiWriter, src: Uint8Array, start: number, end: number, slash = false): void {
  const b = w.buf;
  let p = w.pos;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c === 0) break;
    if (plain(c, slash)) b[p++] = c;
    else {
      b[p++] = 0x25;
      b[p++] = hex[c >> 4]!;
      b[p++] = hex[c & 15]!;
    }
  }
  w.pos = p;
}

/** The field text for a string (a host name, an interface name from the host), as writeField writes it. */
export function fieldText(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  const w = new AsciiWriter(bytes.length * 3 + 1);
  writeField(w, bytes, 0, bytes.length);
  return w.text();
}

/** " HOST filterlog[PID]: ", what follows the stamp on every line. */
export function filterlogTag(host: string, pid: number): Uint8Array {
  return Buffer.from(` ${fieldText(host) || '-'} filterlog[${pid}]: `, 'latin1');
}

let defaultTag: Uint8Array | null = null;

/** This host's and this process's tag, made once. */
export function ownFilterlogTag(): Uint8Array {
  return (defaultTag ??= filterlogTag(hostname(), process.pid));
}

function hexNum(w: AsciiWriter, n: number, digits: number): void {
  w.byte(0x30);
  w.byte(0x78);
  let started = false;
  for (let shift = 28; shift >= 0; shift -= 4) {
    const d = (n >>> shift) & 15;
    if (d !== 0 || started || shift < digits * 4) {
      started = true;
      w.byte(hex[d]! | 0x20); // lower case, as printf's %x
    }
  }
}

function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Interface names from the host, encoded once each. */
const nameCache = new Map<string, Uint8Array>();

function writeNflogInterface(w: AsciiWriter, index: number, names: InterfaceNames | undefined): void {
  const name = names?.(index) ?? null;
  if (name === null) {
    w.str('if');
    w.num(index);
    return;
  }
  let enc = nameCache.get(name);
  if (enc === undefined) {
    enc = Buffer.from(fieldText(name), 'latin1');
    if (nameCache.size >= 256) nameCache.clear();
    nameCache.set(name, enc);
  }
  w.bytes(enc);
}

/** rule,subrule,anchor,tracker,if,reason,action,dir, for pf. */
function writePflogFields(w: AsciiWriter, h: PflogHeader): void {
  w.num(h.rulenr);
  w.byte(COMMA);
  if (h.subrulenr !== 0xffffffff) {
    w.num(h.subrulenr);
    w.byte(COMMA);
    writeField(w, h.bytes, h.offset + RULESET_OFFSET, h.offset + RULESET_OFFSET + RULESET_SIZE, true);
  } else w.byte(COMMA);
  w.byte(COMMA);
  w.num(h.ridentifier ?? 0);
  w.byte(COMMA);
  writeField(w, h.bytes, h.offset + IFNAME_OFFSET, h.offset + IFNAME_OFFSET + IFNAMSIZ);
  w.byte(COMMA);
  const reason = reasonName(h);
  if (reason !== null) w.str(reason);
  else {
    w.str('unkn(');
    w.num(h.reason);
    w.byte(0x29);
  }
  w.byte(COMMA);
  w.str(actionName(h));
  w.byte(COMMA);
  w.str(directionName(h));
  w.byte(COMMA);
}

/**
 * The same for NFLOG, which has no rule number, tracker or action: rule 0,
 * tracker 0, and action block (the daemon is meant to read the group the
 * drop rules log to; README, "filterlog"). The prefix is not written.
 */
function writeNflogFields(w: AsciiWriter, h: NflogHeader, names: InterfaceNames | undefined): void {
  w.str('0,,,0,');
  const dev = h.indev ?? h.outdev;
  if (dev !== null) writeNflogInterface(w, dev, names);
  w.str(',match,block,');
  if (h.indev !== null) w.str('in');
  else if (h.outdev !== null) w.str('out');
  w.byte(COMMA);
}

/** Protocol names as getprotobynumber(3) gives them on FreeBSD (both dialects' IPv4 column); others "unknown". */
const PROTO_NAMES: Record<number, string> = {
  0: 'hopopt', 1: 'icmp', 2: 'igmp', 4: 'ipencap', 6: 'tcp', 17: 'udp', 41: 'ipv6', 43: 'ipv6-route', 44: 'ipv6-frag',
  47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp', 59: 'ipv6-nonxt', 60: 'ipv6-opts', 89: 'ospf', 103: 'pim', 112: 'carp',
  132: 'sctp', 136: 'udplite',
};

export function filterlogProtoName(n: number): string {
  return PROTO_NAMES[n] ?? 'unknown';
}

/** IPv4's "flags" column: none, DF, MF, rsvd, or several joined by '_' (one grok WORD). */
/** The flags word for each value of the IP flags' three bits (offset bits 13-15): no string built per packet. */
const IPV4_FLAGS = ['none', 'MF', 'DF', 'DF_MF', 'rsvd', 'rsvd_MF', 'rsvd_DF', 'rsvd_DF_MF'] as const;

function ipv4Flags(off: number): string {
  return IPV4_FLAGS[(off >>> 13) & 7]!;
}

/** ECN codepoint: empty (not ECT), 1 (ECT(1)), 0 (ECT(0)), 3 (CE; both daemons' "CE" fails CrowdSec's INT). */
const ECN = ['', '1', '0', '3'] as const;

function writeAddress(w: AsciiWriter, n: NetworkLayer, off: number): void {
  if (n.family === 4) w.ipv4(n.bytes, off);
  else w.ipv6(n.bytes, off);
}

function writeIpv4(w: AsciiWriter, n: NetworkLayer): void {
  const b = n.bytes;
  const h = n.srcOffset - 12;
  w.str('4,');
  hexNum(w, b[h + 1]!, 1);
  w.byte(COMMA);
  w.str(ECN[b[h + 1]! & 3]!);
  w.byte(COMMA);
  w.num(b[h + 8]!);
  w.byte(COMMA);
  w.num(be16(b, h + 4));
  w.byte(COMMA);
  const off = be16(b, h + 6);
  w.num((off & 0x1fff) * 8);
  w.byte(COMMA);
  w.str(ipv4Flags(off));
  w.byte(COMMA);
  w.num(n.proto);
  w.byte(COMMA);
  w.str(filterlogProtoName(n.proto));
  w.byte(COMMA);
  writeLengthAddresses(w, n, be16(b, h + 2));
}

function writeIpv6(w: AsciiWriter, n: NetworkLayer): void {
  const b = n.bytes;
  const h = n.srcOffset - 8;
  const flow = ((b[h]! << 24) | (b[h + 1]! << 16) | (b[h + 2]! << 8) | b[h + 3]!) >>> 0;
  w.str('6,');
  hexNum(w, (flow >>> 20) & 0xff, 2);
  w.byte(COMMA);
  hexNum(w, flow & 0xfffff, 5);
  w.byte(COMMA);
  w.num(b[h + 7]!);
  w.byte(COMMA);
  w.str(filterlogProtoName(n.proto));
  w.byte(COMMA);
  w.num(n.proto);
  w.byte(COMMA);
  writeLengthAddresses(w, n, be16(b, h + 4));
}

/** The IP header fields both versions end with: length, source, destination. */
function writeLengthAddresses(w: AsciiWriter, n: NetworkLayer, length: number): void {
  w.num(length);
  w.byte(COMMA);
  writeAddress(w, n, n.srcOffset);
  w.byte(COMMA);
  writeAddress(w, n, n.dstOffset);
  w.byte(COMMA);
}

/** TCP option names as OPNsense's filterlog writes them (pfSense's lack the newer ones). */
const TCP_OPTION_NAMES: Record<number, string> = {
  0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 6: 'echo', 7: 'echoreply', 8: 'TS', 11: 'cc', 12: 'ccnew',
  13: 'ccecho', 19: 'md5', 20: 'scps', 28: 'uto', 29: 'tcp-ao', 30: 'mptcp', 34: 'tfo', 254: 'exp',
};

/** Writes option names joined by ';' (one visitor, reused: no allocation per packet). */
class OptionNames implements TcpOptionVisitor {
  w: AsciiWriter | null = null;
  first = true;

  option(kind: number): void {
    const w = this.w!;
    if (!this.first) w.byte(0x3b);
    this.first = false;
    const name = TCP_OPTION_NAMES[kind];
    if (name !== undefined) w.str(name);
    else {
      w.str('unknown(');
      w.num(kind);
      w.byte(0x29);
    }
  }

  stop(): void {}
}

const optionNames = new OptionNames();

/** TCP's flag letters in filterlog's order. */
const TCP_FLAG_LETTERS: ReadonlyArray<readonly [number, number]> = [
  [0x01, 0x46], [0x02, 0x53], [0x04, 0x52], [0x08, 0x50], [0x10, 0x41], [0x20, 0x55], [0x40, 0x45], [0x80, 0x43],
];

/** srcport,dstport,datalen,flags,seq,ack,window,urg,options: always nine fields. */
function writeTcp(w: AsciiWriter, t: TcpSegment, b: Uint8Array): void {
  w.num(t.sport);
  w.byte(COMMA);
  w.num(t.dport);
  w.byte(COMMA);
  if (t.flags === null || t.badHeaderLength) {
    w.str(',,,,,,'); // only the ports were captured, or the header is bad
    return;
  }
  if (t.dataLength >= 0) w.num(t.dataLength);
  w.byte(COMMA);
  const f = t.flags;
  for (const [bit, letter] of TCP_FLAG_LETTERS) if (f & bit) w.byte(letter);
  w.byte(COMMA);
  w.num(t.seq); // always the number: neither daemon's "seq:seq+len" range (crowdsecurity/hub#1850) nor its empty field
  w.byte(COMMA);
  if (f & 0x10) w.num(t.ack);
  w.byte(COMMA);
  w.num(t.win);
  w.byte(COMMA);
  if (f & 0x20) w.num(t.urp);
  w.byte(COMMA);
  optionNames.w = w;
  optionNames.first = true;
  walkTcpOptions(b, t, optionNames);
  optionNames.w = null;
}

/** srcport,dstport,length: the UDP length field, header included, as both dialects print it. */
function writeUdp(w: AsciiWriter, u: UdpDatagram): void {
  w.num(u.sport);
  w.byte(COMMA);
  w.num(u.dport);
  w.byte(COMMA);
  if (u.length !== null) w.num(u.length + 8);
  else if (u.badLength !== null) w.num(u.badLength);
}

/** ICMP types by the word pfSense's filterlog prints, else pf.conf's icmp-type keyword. */
const ICMP_WORDS: Record<number, string> = {
  0: 'reply', 3: 'unreach', 4: 'squench', 5: 'redirect', 6: 'althost', 8: 'request', 9: 'routeradv', 10: 'routersol',
  11: 'timexceed', 12: 'paramprob', 13: 'tstamp', 14: 'tstampreply', 15: 'inforeq', 16: 'inforep', 17: 'maskreq', 18: 'maskreply',
};

/** ICMPv6 types: the same words where the meaning is the same, else pf.conf's icmp6-type keyword. */
const ICMP6_WORDS: Record<number, string> = {
  1: 'unreach', 2: 'toobig', 3: 'timexceed', 4: 'paramprob', 128: 'request', 129: 'reply', 130: 'listqry', 131: 'listenrep',
  132: 'listendone', 133: 'routersol', 134: 'routeradv', 135: 'neighbrsol', 136: 'neighbradv', 137: 'redir', 143: 'listenrepv2',
};

/** The ICMP type's word, or type-N for a type without one (written, not built: a sender picks the type). */
export function writeIcmpWord(w: AsciiWriter, family: 4 | 6, type: number): void {
  const word = (family === 4 ? ICMP_WORDS : ICMP6_WORDS)[type];
  if (word !== undefined) return w.str(word);
  w.str('type-');
  w.num(type);
}

function hasIdSeq(m: IcmpMessage): boolean {
  return m.kind === 'icmp' ? m.type === 0 || m.type === 8 || (m.type >= 13 && m.type <= 18) : m.type === 128 || m.type === 129;
}

/**
 * The type word and its fields:
 *   request|reply|tstamp|tstampreply|inforeq|inforep|maskreq|maskreply,ID,SEQ
 *   unreachport,DST,PROTO,PORT   unreachproto,DST,PROTO   needfrag,DST,MTU   unreach,DST,CODE   (IPv4)
 *   WORD,CODE                    (every other type, and ICMPv6 errors)
 * ID and SEQ are two fields: pfSense glues the ICMP length to SEQ. An
 * IPv4 message cut short by the snaplen has its word and empty fields.
 */
function writeIcmp(w: AsciiWriter, m: IcmpMessage, n: NetworkLayer): void {
  const v4 = m.kind === 'icmp';
  if (v4 && m.truncated) {
    // cut short: the type word, its fields empty (tcpdump's " [|icmp]")
    if (m.type === 3) {
      w.str(m.code === 3 ? 'unreachport,,,' : m.code === 2 ? 'unreachproto,,' : m.code === 4 ? 'needfrag,,' : 'unreach,,');
      return;
    }
    writeIcmpWord(w, 4, m.type);
    w.str(hasIdSeq(m) ? ',,' : ',');
    return;
  }
  if (hasIdSeq(m)) {
    writeIcmpWord(w, v4 ? 4 : 6, m.type);
    w.byte(COMMA);
    if (m.id !== null) w.num(m.id);
    w.byte(COMMA);
    if (m.seq !== null) w.num(m.seq);
    return;
  }
  if (v4 && m.type === 3) {
    if (m.code === 3) {
      w.str('unreachport,');
      writeInnerDst(w, m, n);
      if (m.innerDstOffset >= 0) {
        if (m.innerProto === 6) w.str('TCP');
        else if (m.innerProto === 17) w.str('UDP');
        else w.num(m.innerProto);
      }
      w.byte(COMMA);
      if (m.innerDport !== null) w.num(m.innerDport);
    } else if (m.code === 2) {
      w.str('unreachproto,');
      writeInnerDst(w, m, n);
      if (m.innerDstOffset >= 0) w.num(m.innerProto);
    } else if (m.code === 4) {
      w.str('needfrag,');
      writeInnerDst(w, m, n);
      if (m.mtu !== null) w.num(m.mtu);
    } else {
      w.str('unreach,');
      writeInnerDst(w, m, n);
      w.num(m.code);
    }
    return;
  }
  writeIcmpWord(w, v4 ? 4 : 6, m.type);
  w.byte(COMMA);
  w.num(m.code);
}

/** An unreachable's quoted destination, or nothing when not captured, then the comma. */
function writeInnerDst(w: AsciiWriter, m: IcmpMessage, n: NetworkLayer): void {
  if (m.innerDstOffset >= 0) w.ipv4(n.bytes, m.innerDstOffset);
  w.byte(COMMA);
}

/** The transport's fields, or the empty fields of its protocol when its header was not captured. */
function writeTransport(w: AsciiWriter, n: NetworkLayer, t: Transport | null): void {
  if (n.family === 4 && n.laterFragment) {
    w.str('datalength=');
    w.num(n.transportLength);
    return;
  }
  if (t === null) {
    if (n.proto === 6) w.str(',,,,,,,,');
    else if (n.proto === 17) w.str(',,');
    else if (n.proto === 1 || n.proto === 58) return; // the type word, empty
    else {
      w.str('datalength=');
      w.num(Math.max(0, n.transportLength));
    }
    return;
  }
  switch (t.kind) {
    case 'tcp':
      return writeTcp(w, t, n.bytes);
    case 'udp':
      return writeUdp(w, t);
    case 'icmp':
    case 'icmp6':
      return writeIcmp(w, t, n);
    case 'other':
      w.str('datalength=');
      w.num(t.length);
  }
}

/** IP version when there is no network layer: from the pflog address family or the NFLOG one. */
function versionOf(p: Packet): 4 | 6 | 0 {
  if (p.pflog !== null) return familyOf(p.pflog.af);
  if (p.nflog !== null) return p.nflog.family === 2 ? 4 : p.nflog.family === 10 ? 6 : 0;
  return 0;
}

/** Writes the CSV for a packet (no stamp, no tag, no newline). */
export function writeFilterlogCsv(w: AsciiWriter, p: Packet, names?: InterfaceNames): void {
  // two names at 3 bytes per byte, an IPv6 address pair, forty option names: 1 KiB is ample
  w.reserve(1024);
  if (p.pflog !== null) writePflogFields(w, p.pflog);
  else if (p.nflog !== null) writeNflogFields(w, p.nflog, names);
  else w.str(',,,,,,,,');
  const n = p.net;
  if (n === null) {
    // the header fields we know, the IP fields empty: no column moves
    const v = versionOf(p);
    if (v === 4) w.str('4,,,,,,,,,,,');
    else if (v === 6) w.str('6,,,,,,,,');
    return;
  }
  if (n.family === 4) writeIpv4(w, n);
  else writeIpv6(w, n);
  writeTransport(w, n, n.transport);
}

/** The whole line: stamp, tag, CSV (no newline). */
export function writeFilterlogLine(w: AsciiWriter, p: Packet, tag: Uint8Array, names?: InterfaceNames): void {
  w.reserve(64 + tag.length);
  writeStamp(w, p.tsSec, p.tsUsec);
  w.bytes(tag);
  writeFilterlogCsv(w, p, names);
}

const scratch = new AsciiWriter(4096);

/** The CSV for a packet as a string (tests, one-off use). */
export function filterlogCsv(p: Packet, names?: InterfaceNames): string {
  scratch.pos = 0;
  writeFilterlogCsv(scratch, p, names);
  return scratch.text();
}
