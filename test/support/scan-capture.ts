// Captures of what --dedupe is for, as pflogd would write them: a port scan
// (many ports, a retransmit or two each), a legitimate client that pf keeps
// blocking (many packets to one port), and a flood from many sources.

import { AF, DIR, PF, TCP, icmp, ipv4, ipv6, pcapFileHeader, pcapRecord, pflogHeader, tcp, udp } from './capture-builder.js';

export const SERVER = '192.0.2.10';

export interface Probe {
  src: string;
  dport: number;
  proto?: 'tcp' | 'udp';
  flags?: number;
  /** seconds since the epoch, fractional */
  time: number;
}

const blocked = (af: number = AF.INET) => pflogHeader({ action: PF.DROP, dir: DIR.IN, ifname: 'em0', rulenr: 3, af });

/** The pflog frame of one probe: a blocked inbound SYN (or UDP datagram). */
export function probeFrame(p: Probe): Buffer {
  const transport = p.proto === 'udp' ? udp(40000, p.dport) : tcp({ sport: 40000 + (p.dport % 1000), dport: p.dport, flags: p.flags ?? TCP.SYN });
  return Buffer.concat([blocked(), ipv4({ src: p.src, dst: SERVER, proto: p.proto === 'udp' ? 17 : 6, payload: transport })]);
}

/** A blocked inbound IPv6 SYN. */
export function ipv6Frame(src: string, dport: number): Buffer {
  const seg = tcp({ sport: 40000, dport, flags: TCP.SYN });
  return Buffer.concat([blocked(AF.INET6_FREEBSD), ipv6({ src, dst: '2001:db8::10', proto: 6, payload: seg })]);
}

/** A blocked inbound ICMP message of the given type from 198.51.100.77. */
export function icmpFrame(type: number): Buffer {
  return Buffer.concat([blocked(), ipv4({ src: '198.51.100.77', dst: SERVER, proto: 1, payload: icmp(type, 0) })]);
}

export const ICMP_ECHO_FRAME = icmpFrame(8);

/** A pflog capture of the probes, in the order given. */
export function probeCapture(probes: readonly Probe[]): Buffer {
  const parts = [pcapFileHeader()];
  for (const p of probes) {
    const sec = Math.floor(p.time);
    parts.push(pcapRecord(probeFrame(p), { sec, frac: Math.round((p.time - sec) * 1e6) }));
  }
  return Buffer.concat(parts);
}

/** A scanner's SYNs to `ports` distinct ports from 1000 up, each sent `tries` times, 10 ms apart. */
export function scan(src: string, ports: number, tries: number, start: number): Probe[] {
  const out: Probe[] = [];
  for (let i = 0; i < ports * tries; i++) out.push({ src, dport: 1000 + (i % ports), time: start + i * 0.01 });
  return out;
}

/** A client retrying one port `count` times, `gap` seconds apart. */
export function oneport(src: string, dport: number, count: number, start: number, gap = 0.05): Probe[] {
  return Array.from({ length: count }, (_, i) => ({ src, dport, time: start + i * gap }));
}

/** Sorted by time, as a capture is. */
export function interleave(...runs: Probe[][]): Probe[] {
  return runs.flat().sort((a, b) => a.time - b.time);
}
