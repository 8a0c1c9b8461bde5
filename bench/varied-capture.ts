// The second decode-bench capture: every field pf logs varies from one packet
// to the next (rule number, anchor and sub-rule, ridentifier, interface,
// action, direction, address family, TCP 4-tuple, flag mix, options, UDP
// ports, ICMP types), so there are no runs of similar packets for a cache to
// reuse: per-packet work must not depend on how varied the headers are. The
// packets are well formed (tcpdump prints one line each), as pflogd writes
// them on FreeBSD (header length 69). Addresses come from pools (20,000 IPv4
// and 5,000 IPv6 hosts), as a firewall's log holds the same scanners again and
// again: with a new address in every packet, tcpdump's address-to-string
// cache (kept even with -n, in hash chains) goes quadratic, and a baseline
// slowed that way would flatter us. Seeded: every run decodes the same bytes.
// Streamed through a 64 KiB buffer.

import * as fs from 'node:fs';
import { AF, DIR, PF, TCP, echo, icmp, ipv4, ipv6, pcapFileHeader, pflogHeader, tcp, udp } from '../test/support/capture-builder.js';
import { prng } from '../test/support/prng.js';
import { synOptions, tsOnly, type SynStack } from './payloads.js';
import type { CaptureResult } from './capture.js';

const CHUNK = 64 * 1024;
/** 2024-03-01T00:00:00Z */
const START_MICROS = 1709251200_000000;
const IFNAMES = ['vtnet0', 'vtnet1', 'em0', 'igb0', 'igb1', 'ix0', 'ix0.100', 'lagg0', 'bridge0', 'wg0', 'tun0', 'epair0b', 'ovpns1', 'lo0'];
const ANCHORS = ['f2b/sshd', 'f2b/pf', 'scanners/web', 'relayd/web', 'miniupnpd', 'sshguard', 'blocklist', 'a/b/c'];
const ACTIONS = [PF.DROP, PF.DROP, PF.DROP, PF.PASS, PF.PASS, PF.SCRUB, PF.NAT, PF.RDR];
const FLAGS = [
  TCP.SYN, TCP.SYN, TCP.SYN | TCP.ACK, TCP.ACK, TCP.ACK | TCP.PSH, TCP.FIN | TCP.ACK, TCP.RST, TCP.RST | TCP.ACK,
  TCP.FIN | TCP.PSH | TCP.ACK, TCP.SYN | TCP.ECE | TCP.CWR, TCP.FIN | TCP.PSH | TCP.URG, 0, TCP.ACK | TCP.URG,
];
const STACKS: SynStack[] = ['masscan', 'zmap', 'nmap', 'mirai', 'linux', 'windows', 'macos', 'freebsd'];
/** UDP ports where tcpdump decodes a tunnelled frame (or SOME/IP) and may print more than one line */
const TUNNELS = new Set([3544, 4341, 4342, 4754, 4789, 4790, 6081, 6635, 8472, 30490]);

export function generateVariedCapture(path: string, count: number, seed = 0xc0ffee): CaptureResult {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const chance = (x: number) => r() < x;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const u32 = () => int(4294967296);
  const port = () => {
    let p;
    do p = 1 + int(65535);
    while (TUNNELS.has(p));
    return p;
  };
  const hex = () => int(0x10000).toString(16);
  const hosts4 = Array.from({ length: 20000 }, () => `${1 + int(223)}.${int(256)}.${int(256)}.${1 + int(254)}`);
  const hosts6 = Array.from({ length: 5000 }, () => `2${int(0x1000).toString(16).padStart(3, '0')}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}`);
  const ip4 = () => pick(hosts4);
  const ip6 = () => pick(hosts6);

  const transport = (v6: boolean): { proto: number; payload: Buffer } => {
    const kind = int(10);
    if (kind < 6) {
      const flags = pick(FLAGS);
      const syn = (flags & TCP.SYN) !== 0 && (flags & TCP.ACK) === 0;
      const options = syn ? synOptions(pick(STACKS), 1200 + int(300), u32()) : chance(0.4) ? tsOnly(u32(), u32()) : undefined;
      // no payload: tcpdump would hand it to an application printer by port, some of which print several lines
      const payload = undefined;
      return { proto: 6, payload: tcp({ sport: port(), dport: port(), seq: u32(), ack: flags & TCP.ACK ? u32() : 0, flags, win: int(65536), urp: flags & TCP.URG ? int(65536) : 0, options, payload }) };
    }
    if (kind < 8) return { proto: 17, payload: udp(port(), port(), Buffer.alloc(int(64), 0x42)) };
    if (v6) return { proto: 58, payload: icmp(pick([128, 129]), 0, echo(int(65536), int(65536))) };
    if (chance(0.7)) return { proto: 1, payload: icmp(pick([8, 0]), 0, echo(int(65536), int(65536))) };
    // an unreachable quotes the header of the packet it answers
    const quoted = ipv4({ src: ip4(), dst: ip4(), proto: 17, payload: udp(1024 + int(64512), port()), ttl: 1 + int(64), id: int(65536) });
    return { proto: 1, payload: icmp(3, pick([0, 1, 3, 13]), Buffer.alloc(4), quoted) };
  };

  const fd = fs.openSync(path, 'w');
  const buf = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  let bytes = 0;
  const flush = () => {
    for (let off = 0; off < used; ) off += fs.writeSync(fd, buf, off, used - off);
    bytes += used;
    used = 0;
  };
  try {
    used += pcapFileHeader({ littleEndian: true, snaplen: 262144 }).copy(buf, 0);
    let now = START_MICROS;
    for (let i = 0; i < count; i++) {
      const v6 = chance(0.3);
      const anchored = chance(0.3);
      const hdr = pflogHeader({
        length: 69,
        af: v6 ? AF.INET6_FREEBSD : AF.INET,
        action: pick(ACTIONS),
        reason: chance(0.9) ? 0 : 1 + int(2), // match, bad-offset, fragment: the reasons every tcpdump names
        ifname: pick(IFNAMES),
        ruleset: anchored ? pick(ANCHORS) : undefined,
        rulenr: int(400),
        subrulenr: anchored ? int(40) : 0xffffffff,
        dir: chance(0.8) ? DIR.IN : DIR.OUT,
      });
      const t = transport(v6);
      const ip = v6
        ? ipv6({ src: ip6(), dst: ip6(), proto: t.proto, payload: t.payload, hopLimit: 1 + int(255), flowLabel: int(0x100000) })
        : ipv4({ src: ip4(), dst: ip4(), proto: t.proto, payload: t.payload, ttl: 1 + int(255), id: int(65536), flagsFrag: chance(0.7) ? 0x4000 : 0 });
      if (used + 16 + hdr.length + ip.length > CHUNK) flush();
      now += 1 + int(2000);
      buf.writeUInt32LE(Math.floor(now / 1e6), used);
      buf.writeUInt32LE(now % 1e6, used + 4);
      buf.writeUInt32LE(hdr.length + ip.length, used + 8);
      buf.writeUInt32LE(hdr.length + ip.length, used + 12);
      used += 16;
      used += hdr.copy(buf, used);
      used += ip.copy(buf, used);
    }
    flush();
  } finally {
    fs.closeSync(fd);
  }
  return { packets: count, bytes };
}
