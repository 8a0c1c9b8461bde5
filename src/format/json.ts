// A Packet as one JSON object per line. Field names are a stable interface
// (documented in pfasciilogd(8)); absent values are null, never missing.
// Strings from the wire (interface, ruleset) are already escaped to printable
// ASCII by the decoder, and JSON.stringify escapes the rest.

import type { Packet } from '../decode/packet.js';
import { actionName, directionName, reasonName } from '../decode/pflog.js';
import { tcpFlagString } from './tcp-text.js';
import { escapeText } from './escape.js';
import { nflogPrefix, type InterfaceNames } from './nflog-text.js';

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6' };

export interface PacketJson {
  time: string;
  rule: number | null;
  subrule: number | null;
  ruleset: string | null;
  reason: string | null;
  action: string | null;
  direction: string | null;
  interface: string | null;
  uid: number | null;
  ridentifier: number | null;
  family: 'inet' | 'inet6' | null;
  protocol: string | null;
  src: string | null;
  dst: string | null;
  src_port: number | null;
  dst_port: number | null;
  tcp_flags: string | null;
  icmp_type: number | null;
  icmp_code: number | null;
  length: number;
  /** NFLOG only: the log group and prefix, the input and output interfaces */
  group: number | null;
  prefix: string | null;
  in_interface: string | null;
  out_interface: string | null;
}

function interfaceName(index: number | null, names: InterfaceNames | undefined): string | null {
  if (index === null) return null;
  const name = names?.(index) ?? null;
  return name === null ? `if${index}` : escapeText(name);
}

export function packetJson(p: Packet, time: string, names?: InterfaceNames): PacketJson {
  const h = p.pflog;
  const nf = p.nflog;
  const inIf = nf ? interfaceName(nf.indev, names) : null;
  const outIf = nf ? interfaceName(nf.outdev, names) : null;
  const n = p.net;
  const t = n?.transport ?? null;
  const hasPorts = t !== null && (t.kind === 'tcp' || t.kind === 'udp');
  const isIcmp = t !== null && (t.kind === 'icmp' || t.kind === 'icmp6');
  return {
    time,
    rule: h ? h.rulenr : null,
    subrule: h && h.subrulenr !== 0xffffffff ? h.subrulenr : null,
    ruleset: h && h.ruleset !== '' ? h.ruleset : null,
    reason: h ? (reasonName(h) ?? `unkn(${h.reason})`) : null,
    action: h ? actionName(h) : null,
    direction: h ? directionName(h) : nf ? (nf.indev !== null ? 'in' : nf.outdev !== null ? 'out' : null) : null,
    interface: h ? h.ifname : (inIf ?? outIf),
    uid: h ? h.uid : null,
    ridentifier: h ? h.ridentifier : null,
    family: n ? (n.family === 4 ? 'inet' : 'inet6') : null,
    protocol: n ? (PROTOCOL_NAMES[n.proto] ?? `ip-proto-${n.proto}`) : null,
    src: n ? n.src : null,
    dst: n ? n.dst : null,
    src_port: hasPorts ? t.sport : null,
    dst_port: hasPorts ? t.dport : null,
    tcp_flags: t !== null && t.kind === 'tcp' && t.flags !== null ? tcpFlagString(t.flags) : null,
    icmp_type: isIcmp ? t.type : null,
    icmp_code: isIcmp ? t.code : null,
    length: nf ? nf.payloadLength : p.wireLength - (h ? h.headerBytes : 0),
    group: nf ? nf.group : null,
    prefix: nf ? nflogPrefix(nf) : null,
    in_interface: inIf,
    out_interface: outIf,
  };
}
