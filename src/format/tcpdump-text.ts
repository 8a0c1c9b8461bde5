// A Packet as the one line `tcpdump -n -e -t -S` prints for it, one printer
// per layer as in tcpdump. Differences by design: UDP is always "UDP, length
// N" (no application printers, ever), other protocols get tcpdump's
// "ip-proto-N LEN" summary, pflog names upstream knows are used where a Linux
// build of tcpdump prints unkn(N), and nothing here ever prints a newline.

import type { IcmpMessage, NetworkLayer, Packet, TcpOption, TcpSegment, Transport, UdpDatagram } from '../decode/packet.js';
import { actionName, directionName, reasonName, type PflogHeader } from '../decode/pflog.js';

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;
const TH_URG = 0x20;
const FLAG_LETTERS: Array<[number, string]> = [
  [0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W'],
];

/** tcpdump's flag letters, e.g. "S", "S.", "FP.", or "none". */
export function tcpFlagString(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) s += letter;
  return s === '' ? 'none' : s;
}

export function pflogText(h: PflogHeader): string {
  let s = h.subrulenr === 0xffffffff ? `rule ${h.rulenr}/` : `rule ${h.rulenr}.${h.ruleset}.${h.subrulenr}/`;
  const reason = reasonName(h);
  s += reason !== null ? `${h.reason}(${reason})` : `unkn(${h.reason})`;
  // FreeBSD's tcpdump adds these; so do we for FreeBSD headers.
  if (h.flavor === 'freebsd') {
    if (h.uid !== null) s += ` [uid ${h.uid}]`;
    if (h.ridentifier !== null) s += ` [ridentifier ${h.ridentifier}]`;
  }
  return `${s}: ${actionName(h)} ${directionName(h)} on ${h.ifname}: `;
}

function optionText(o: TcpOption): string {
  let s = o.name;
  if (o.value !== undefined) s += ` ${o.value}`;
  else if (o.tsval !== undefined) s += ` val ${o.tsval} ecr ${o.tsecr}`;
  else if (o.blocks !== undefined) s += ` ${o.blocks.length} ` + o.blocks.map(([a, b]) => `{${a}:${b}}`).join('');
  else if (o.name === 'sack') s += ' invalid sack';
  else if (o.hex) s += ` 0x${o.hex}`;
  if (o.badLength !== undefined) s += `[len ${o.badLength}]`;
  return s;
}

function tcpText(t: TcpSegment, transportLength: number): string {
  if (t.badHeaderLength) return ` tcp ${(transportLength - t.headerLength) >>> 0} [bad hdr length ${t.headerLength} - too short, < 20]`;
  if (t.flags === null) return ' [|tcp]';
  let s = `Flags [${tcpFlagString(t.flags)}]`;
  if (t.headerLength > transportLength) return `${s} [bad hdr length ${t.headerLength} - too long, > ${transportLength}]`;
  if (t.dataLength > 0 || t.flags & (TH_SYN | TH_FIN | TH_RST)) {
    s += `, seq ${t.seq}`;
    if (t.dataLength > 0) s += `:${(t.seq + t.dataLength) >>> 0}`;
  }
  if (t.flags & TH_ACK) s += `, ack ${t.ack}`;
  s += `, win ${t.win}`;
  if (t.flags & TH_URG) s += `, urg ${t.urp}`;
  if (t.headerLength > 20) {
    const opts = t.options;
    const last = opts[opts.length - 1];
    if (last?.name === '[bad opt]') {
      const before = opts.slice(0, -1).map(optionText).join(',');
      return `${s}, options [${before}${before ? ',' : ''}[bad opt]${opts.length > 1 ? ']' : ''}`;
    }
    s += `, options [${opts.map(optionText).join(',')}`;
    if (t.optionsTruncated) return `${s} [|tcp]`;
    s += ']';
  }
  return `${s}, length ${t.dataLength}`;
}

function udpText(u: UdpDatagram): string {
  if (u.badLength !== null) return `truncated-udplength ${u.badLength}`;
  if (u.length === null) return ' [|udp]';
  return `UDP, length ${u.length}`;
}

const UNREACH: readonly string[] = [
  'net %s unreachable', 'host %s unreachable', '', '', '', '%s unreachable - source route failed',
  'net %s unreachable - unknown', 'host %s unreachable - unknown', '%s unreachable - source host isolated',
  'net %s unreachable - admin prohibited', 'host %s unreachable - admin prohibited',
  'net %s unreachable - tos prohibited', 'host %s unreachable - tos prohibited',
  'host %s unreachable - admin prohibited filter', 'host %s unreachable - host precedence violation',
  'host %s unreachable - precedence cutoff',
];

const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply', 4: 'source quench', 5: 'redirect', 8: 'echo request', 9: 'router advertisement',
  10: 'router solicitation', 12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply',
  15: 'information request', 16: 'information reply', 17: 'address mask request', 18: 'address mask reply',
};

function icmpUnreachText(m: IcmpMessage): string {
  const inner = m.inner!;
  switch (m.code) {
    case 2:
      return `${inner.dst} protocol ${inner.proto} unreachable`;
    case 3:
      if (inner.proto === 6) return `${inner.dst} tcp port ${inner.dport} unreachable`;
      if (inner.proto === 17) return `${inner.dst} udp port ${inner.dport} unreachable`;
      return `${inner.dst} protocol ${inner.proto} port ${inner.dport} unreachable`;
    case 4:
      return m.mtu ? `${inner.dst} unreachable - need to frag (mtu ${m.mtu})` : `${inner.dst} unreachable - need to frag`;
    default: {
      const fmt = UNREACH[m.code] || `%s unreachable - #${m.code}`;
      return fmt.replace('%s', inner.dst);
    }
  }
}

function icmpText(m: IcmpMessage): string {
  if (m.truncated) return ' [|icmp]';
  let text: string;
  if (m.type === 8 || m.type === 0) text = `${ICMP_TYPES[m.type]}, id ${m.id}, seq ${m.seq}`;
  else if (m.type === 3) text = icmpUnreachText(m);
  else if (m.type === 11) text = m.code === 0 ? 'time exceeded in-transit' : m.code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${m.code}`;
  else text = ICMP_TYPES[m.type] ?? `type-#${m.type}`;
  return `ICMP ${text}, length ${m.length}`;
}

const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report',
  132: 'multicast listener done', 133: 'router solicitation', 134: 'router advertisement',
  135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 143: 'multicast listener report v2',
};

function icmp6Text(m: IcmpMessage): string {
  const name = ICMP6_TYPES[m.type] ?? `unknown icmp6 type (${m.type})`;
  if (m.truncated) return `ICMP6, ${name} [|icmp6]`;
  if (m.id !== null) return `ICMP6, ${name}, id ${m.id}, seq ${m.seq}, length ${m.length}`;
  return `ICMP6, ${name}, length ${m.length}`;
}

function transportText(t: Transport, n: NetworkLayer): string {
  switch (t.kind) {
    case 'tcp':
      return tcpText(t, n.transportLength);
    case 'udp':
      return udpText(t);
    case 'icmp':
      return icmpText(t);
    case 'icmp6':
      return icmp6Text(t);
    case 'other':
      return ` ip-proto-${t.proto} ${t.length}`;
  }
}

const TRUNC: Record<number, string> = { 6: ' [|tcp]', 17: ' [|udp]', 1: ' [|icmp]', 58: ' [|icmp6]' };

function networkText(n: NetworkLayer): string {
  let s = '';
  if (n.missingBytes > 0) s += n.family === 4 ? `truncated-ip - ${n.missingBytes} bytes missing! ` : `truncated-ip6 - ${n.missingBytes} bytes missing!`;
  const t = n.transport;
  const ported = t !== null && (t.kind === 'tcp' || t.kind === 'udp');
  if (n.family === 4 && n.laterFragment) return `${s}${n.src} > ${n.dst}: ip-proto-${n.proto}`;
  if (n.extensions.length === 0 && ported) return `${s}${n.src}.${t.sport} > ${n.dst}.${t.dport}: ${transportText(t, n)}`;
  if (n.extensions.length === 0 && t === null && (n.proto === 6 || n.proto === 17)) return `${s}${n.src} > ${n.dst}:${TRUNC[n.proto]}`;
  s += `${n.src} > ${n.dst}: `;
  for (let i = 0; i < n.extensions.length; i++) {
    s += n.extensions[i];
    if (!(n.laterFragment && i === n.extensions.length - 1)) s += ' ';
  }
  if (n.laterFragment) return s;
  if (t === null) return s + (TRUNC[n.proto] ?? ' [|ip6]');
  if (ported) return `${s}${t.sport} > ${t.dport}: ${transportText(t, n)}`;
  return s + transportText(t, n);
}

/** The line for a packet, without the stamp and without a newline. */
export function packetText(p: Packet): string {
  let s = p.pflog !== null ? pflogText(p.pflog) : '';
  if (p.net !== null) s += networkText(p.net);
  if (p.problem !== null) s += (p.net !== null ? ' ' : '') + p.problem;
  return s;
}
