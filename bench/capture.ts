// A realistic pflog capture for the decode bench, as pflogd writes it on a
// FreeBSD firewall under scanning (header length 69, interface vtnet0, snap
// length 160, pflogd's default), from a seeded PRNG so every run decodes the
// same bytes. Streamed to disk through a 64 KiB buffer: memory does not grow
// with the packet count.
//
// Traffic comes in episodes (one scanner's burst, one client's stray
// segments, ...) so the same rule logs runs of packets, as in real pf logs:
//  - blocked TCP SYNs from many sources to many ports, with the options of
//    the tool or stack that sent them (masscan/zmap none, nmap mss, Linux
//    mss,sackOK,TS,nop,wscale, Windows, macOS), some retransmitted;
//  - web probes from sources in the scanners/web anchor's table, and ssh
//    attempts from sources banned in fail2ban's f2b/sshd anchor;
//  - out-of-state ACK/PSH/FIN/RST from clients whose state expired;
//  - UDP probes to DNS, NTP, SNMP, mDNS, SSDP, SIP, memcached, STUN, ...;
//  - ICMP echo requests and unreachables, IPv6 (af 28) TCP, UDP and ICMPv6;
//  - a few passed SYNs to the web server, passed DNS/NTP out, blocked SMTP out.

import * as fs from 'node:fs';
import { AF, DIR, PF, TCP, echo, icmp, ipv4, ipv6, pcapFileHeader, pflogHeader, tcp, udp } from '../test/support/capture-builder.js';
import { prng } from '../test/support/prng.js';
import * as p from './payloads.js';

/** pflogd's DEF_SNAPLEN: longer packets are cut, as in /var/log/pflog */
export const SNAPLEN = 160;
const CHUNK = 64 * 1024;
/** 2023-05-01T00:28:13.748353Z */
const START_MICROS = 1682900893_748353;

export interface CaptureResult {
  packets: number;
  bytes: number;
}

/** pcap records into a file through one reused 64 KiB buffer. */
class RecordWriter {
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  bytes = 0;

  constructor(private readonly fd: number) {}

  raw(data: Buffer): void {
    if (this.used + data.length > CHUNK) this.flush();
    this.used += data.copy(this.buf, this.used);
  }

  /** One record of `hdr` + `ip`, cut to the snap length, stamped `micros` since the epoch. */
  record(micros: number, hdr: Buffer, ip: Buffer): void {
    const wire = hdr.length + ip.length;
    const caplen = Math.min(wire, SNAPLEN);
    if (this.used + 16 + caplen > CHUNK) this.flush();
    const b = this.buf;
    const o = this.used;
    b.writeUInt32LE(Math.floor(micros / 1e6), o);
    b.writeUInt32LE(micros % 1e6, o + 4);
    b.writeUInt32LE(caplen, o + 8);
    b.writeUInt32LE(wire, o + 12);
    hdr.copy(b, o + 16);
    ip.copy(b, o + 16 + hdr.length, 0, caplen - hdr.length);
    this.used = o + 16 + caplen;
  }

  flush(): void {
    for (let off = 0; off < this.used; ) off += fs.writeSync(this.fd, this.buf, off, this.used - off);
    this.bytes += this.used;
    this.used = 0;
  }
}

/** A rule as pflog names it: number, or anchor rule number + anchor path + rule number in the anchor. */
interface Rule {
  nr: number;
  action: number;
  dir: number;
  ruleset?: string;
  sub?: number;
}

// pfctl -vvsr of the firewall being logged.
const R = {
  webScanners80: { nr: 2, ruleset: 'scanners/web', sub: 0, action: PF.DROP, dir: DIR.IN }, // block in log quick proto tcp from <web> to port { 80 8080 }
  webScanners443: { nr: 2, ruleset: 'scanners/web', sub: 1, action: PF.DROP, dir: DIR.IN }, // ... to port { 443 8443 }
  f2bSshd: { nr: 3, ruleset: 'f2b/sshd', sub: 0, action: PF.DROP, dir: DIR.IN }, // fail2ban: block in log quick from <f2b-sshd>
  blockAll: { nr: 4, action: PF.DROP, dir: DIR.IN }, // block in log all
  blockUdp: { nr: 5, action: PF.DROP, dir: DIR.IN }, // block in log quick proto udp
  blockIcmp: { nr: 6, action: PF.DROP, dir: DIR.IN }, // block in log quick inet proto icmp
  blockIcmp6: { nr: 7, action: PF.DROP, dir: DIR.IN }, // block in log quick inet6 proto ipv6-icmp
  blockOutSmtp: { nr: 9, action: PF.DROP, dir: DIR.OUT }, // block out log quick proto tcp to port { 25 6667 }
  passWeb: { nr: 12, action: PF.PASS, dir: DIR.IN }, // pass in log quick proto tcp to port { 80 443 } flags S/SA
  passOut: { nr: 14, action: PF.PASS, dir: DIR.OUT }, // pass out log quick proto udp to port { 53 123 }
} satisfies Record<string, Rule>;

const OURS4 = ['198.51.100.10', '198.51.100.11', '198.51.100.12', '198.51.100.13'];
const OURS6 = ['2001:db8:10::10', '2001:db8:10::80'];
const RESOLVERS = ['9.9.9.9', '1.1.1.1'];
const NTP_SERVERS = ['162.159.200.1', '193.204.114.232'];
const SCANNED = [22, 23, 80, 443, 3389, 445, 8080, 6379, 5900, 1433, 3306, 25, 8443, 2375, 5432, 9200, 27017, 21, 110, 8888, 81, 2323, 7547, 5555];
/** UDP ports where tcpdump decodes a tunnelled frame and may print more than one line (VXLAN, OTV, Geneve, ...) */
const TUNNELS = new Set([3544, 4341, 4342, 4754, 4789, 4790, 6081, 6635, 8472]);
const DNS_NAMES = ['isc.org', 'example.com', 'google.com', 'sl', 'peacecorps.gov'];
const STACKS: Array<[p.SynStack, number]> = [
  ['masscan', 20], ['zmap', 15], ['nmap', 25], ['mirai', 10], ['linux', 20], ['windows', 7], ['macos', 3],
];

/** Writes a capture of `count` packets to `path` (created or truncated). */
export function generateCapture(path: string, count: number, seed = 0x5eed): CaptureResult {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const chance = (x: number) => r() < x;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const weighted = <T>(xs: ReadonlyArray<readonly [T, number]>): T => {
    let x = r() * xs.reduce((n, [, w]) => n + w, 0);
    for (const [v, w] of xs) if ((x -= w) < 0) return v;
    return xs[xs.length - 1]![0];
  };
  /** 1 + a geometric count with this mean */
  const runLength = (mean: number) => 1 + Math.floor(Math.log(1 - r()) / Math.log(1 - 1 / mean));
  const u32 = () => int(4294967296);
  /** a port a scanner picks at random: never one tcpdump takes for a tunnel */
  const anyPort = (from: number) => {
    let port;
    do port = from + int(65536 - from);
    while (TUNNELS.has(port));
    return port;
  };
  const ephemeral = () => anyPort(1024);
  const ip4 = () => {
    let a;
    do a = 1 + int(223);
    while (a === 10 || a === 127);
    return `${a}.${int(256)}.${int(256)}.${1 + int(254)}`;
  };
  const hex = () => int(0x10000).toString(16);
  const ip6 = () => (chance(0.5) ? `2${int(0x1000).toString(16).padStart(3, '0')}:${hex()}:${hex()}:${hex()}::${hex()}` : `2a0${int(16).toString(16)}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}`);

  // Scanners come back: pools of repeat sources, the first ones listed in the anchors' tables.
  const scanners4 = Array.from({ length: 20000 }, ip4);
  const webListed = scanners4.slice(0, 2000);
  const sshBanned = scanners4.slice(2000, 3000);
  const clients4 = Array.from({ length: 5000 }, ip4);
  const scanners6 = Array.from({ length: 2000 }, ip6);
  const scanner4 = () => (chance(0.7) ? pick(scanners4) : ip4());

  const headers = new Map<string, Buffer>();
  const pflog = (rule: Rule, af: number): Buffer => {
    const key = `${rule.nr}.${rule.ruleset ?? ''}.${rule.sub ?? -1}.${af}`;
    let h = headers.get(key);
    if (h === undefined) {
      h = pflogHeader({ length: 69, af, action: rule.action, dir: rule.dir, ifname: 'vtnet0', ruleset: rule.ruleset, rulenr: rule.nr, subrulenr: rule.sub ?? 0xffffffff });
      headers.set(key, h);
    }
    return h;
  };

  const fd = fs.openSync(path, 'w');
  const w = new RecordWriter(fd);
  let written = 0;
  let now = START_MICROS;
  /** one packet of the current episode, a few ms after the previous one */
  const emit = (rule: Rule, af: number, ip: Buffer) => {
    if (written >= count) return;
    now += 1 + Math.floor(-Math.log(1 - r()) * 3000);
    w.record(now, pflog(rule, af), ip);
    written++;
  };
  const v4 = (rule: Rule, src: string, dst: string, proto: number, payload: Buffer, ttl = 40 + int(200), df = true, id = int(65536)) =>
    emit(rule, AF.INET, ipv4({ src, dst, proto, payload, ttl, id, flagsFrag: df ? 0x4000 : 0 }));
  const v6 = (rule: Rule, src: string, dst: string, proto: number, payload: Buffer) =>
    emit(rule, AF.INET6_FREEBSD, ipv6({ src, dst, proto, payload, hopLimit: 40 + int(200), flowLabel: int(0x100000) }));

  const synWindow = (stack: p.SynStack): number => {
    switch (stack) {
      case 'masscan':
      case 'nmap':
        return 1024;
      case 'mirai':
        return 14600 + int(50000);
      case 'linux':
        return pick([64240, 29200]);
      case 'windows':
        return pick([64240, 8192]);
      default:
        return 65535;
    }
  };

  const synScan4 = () => {
    const stack = weighted(STACKS);
    const listed = chance(0.15);
    const web = listed && chance(0.6);
    const src = web ? pick(webListed) : listed ? pick(sshBanned) : scanner4();
    const fixedPort = web ? pick([80, 443, 8080, 8443]) : listed ? 22 : chance(0.5) ? pick(SCANNED) : 0;
    const n = runLength(fixedPort ? 4 : 10);
    const sport = ephemeral();
    const dstFixed = pick(OURS4);
    for (let i = 0; i < n; i++) {
      const dst = fixedPort && chance(0.5) ? pick(OURS4) : dstFixed;
      const dport = fixedPort || (chance(0.7) ? pick(SCANNED) : anyPort(1));
      const rule = web ? (dport === 80 || dport === 8080 ? R.webScanners80 : R.webScanners443) : listed ? R.f2bSshd : R.blockAll;
      const seq = stack === 'mirai' ? dst.split('.').reduce((v, octet) => v * 256 + Number(octet), 0) : u32(); // Mirai's seq is the target address
      const win = synWindow(stack);
      const tsVal = u32();
      const retries = stack === 'linux' || stack === 'windows' ? (chance(0.3) ? 1 + int(2) : 0) : 0;
      const id = stack === 'zmap' ? 54321 : int(65536);
      const ttl = (stack === 'windows' ? 128 : stack === 'linux' || stack === 'macos' ? 64 : 255) - 5 - int(20);
      const df = stack === 'linux' || stack === 'windows' || stack === 'macos';
      const port = stack === 'masscan' || stack === 'zmap' || stack === 'nmap' ? sport : ephemeral();
      for (let t = 0; t <= retries; t++) {
        const options = p.synOptions(stack, 1460, tsVal + t * 1000);
        v4(rule, src, dst, 6, tcp({ sport: port, dport, seq, flags: TCP.SYN, win, options }), ttl, df, id);
      }
    }
  };

  const outOfState4 = () => {
    const src = pick(clients4);
    const dst = pick(OURS4);
    const dport = weighted([[443, 70], [80, 20], [22, 10]] as const);
    const sport = ephemeral();
    let seq = u32();
    const ack = u32();
    let ts = u32();
    const linux = chance(0.7);
    const win = linux ? pick([501, 502, 2052]) : pick([1026, 4106, 8212]);
    const pattern = weighted<number[]>([
      [[TCP.ACK], 25],
      [[TCP.PSH | TCP.ACK, TCP.ACK], 15],
      [[TCP.FIN | TCP.ACK], 20],
      [[TCP.FIN | TCP.ACK, TCP.ACK], 10],
      [[TCP.RST], 15],
      [[TCP.RST | TCP.ACK], 15],
    ]);
    for (const flags of pattern) {
      const payload = flags & TCP.PSH ? (dport === 80 ? p.httpGet(dst) : Buffer.alloc(24 + int(500), 0x17)) : undefined;
      const options = linux && !(flags & TCP.RST) ? p.tsOnly(ts, u32()) : undefined;
      v4(R.blockAll, src, dst, 6, tcp({ sport, dport, seq, ack: flags === TCP.RST ? 0 : ack, flags, win: flags === TCP.RST ? 0 : win, options, payload }));
      seq = (seq + (payload?.length ?? 0) + (flags & TCP.FIN ? 1 : 0)) >>> 0;
      ts = (ts + 200 + int(2000)) >>> 0;
    }
  };

  /** A scanner's UDP probe for a port, and the source port it comes from. */
  const udpProbe = (dport: number, dst: string, src: string): [number, Buffer] => {
    switch (dport) {
      case 53:
        return chance(0.3)
          ? [ephemeral(), p.dnsQuery(int(65536), 'version.bind', p.QTYPE.TXT, p.QCLASS.CH)]
          : [ephemeral(), p.dnsQuery(int(65536), pick(DNS_NAMES), chance(0.5) ? p.QTYPE.ANY : p.QTYPE.A)];
      case 123:
        return chance(0.5) ? [ephemeral(), p.NTP_MONLIST] : [123, p.ntpClient(chance(0.5) ? 3 : 4, u32())];
      case 161:
        return [ephemeral(), p.snmpGet(u32())];
      case 5353:
        return [5353, p.dnsQuery(0, '_services._dns-sd._udp.local', p.QTYPE.PTR, p.QCLASS.IN, false)];
      case 1900:
        return [ephemeral(), p.SSDP_SEARCH];
      case 5060:
        return [5060, p.sipOptions(dst, src, 5060)];
      case 11211:
        return [ephemeral(), p.MEMCACHED_STATS];
      case 3478:
        return [ephemeral(), p.stunBinding(r)];
      case 10001:
        return [ephemeral(), p.UBNT_DISCOVERY];
      default:
        return [ephemeral(), Buffer.alloc(int(64), 0x41)];
    }
  };
  const UDP_PORTS = [[53, 25], [123, 15], [161, 10], [5353, 8], [1900, 8], [5060, 10], [11211, 5], [3478, 5], [10001, 4], [19132, 3], [37810, 2], [0, 5]] as const;
  const udpDport = () => weighted(UDP_PORTS) || anyPort(1);

  const udp4 = () => {
    const src = scanner4();
    const dst = pick(OURS4);
    const fixed = chance(0.6) ? udpDport() : 0;
    for (let i = runLength(3); i > 0; i--) {
      const dport = fixed || udpDport();
      const [sport, payload] = udpProbe(dport, dst, src);
      v4(R.blockUdp, src, dst, 17, udp(sport, dport, payload));
    }
  };

  const echo4 = () => {
    const src = scanner4();
    const dst = pick(OURS4);
    const id = int(65536);
    const data = weighted([[Buffer.alloc(56, 0x10), 50], [Buffer.from('abcdefghijklmnopqrstuvwabcdefghi'), 20], [Buffer.alloc(0), 30]] as const);
    for (let seq = 0, n = runLength(2.5); seq < n; seq++) v4(R.blockIcmp, src, dst, 1, icmp(8, 0, echo(id, seq + 1), data));
  };

  const unreach4 = () => {
    // A host or router answers something of ours after the state is gone.
    const remote = ip4();
    const ours = pick(OURS4);
    const udpOrig = chance(0.7);
    const inner = udpOrig
      ? ipv4({ src: ours, dst: remote, proto: 17, payload: udp(ephemeral(), pick([53, 123, 443]), Buffer.alloc(40)) })
      : ipv4({ src: ours, dst: remote, proto: 6, payload: tcp({ sport: pick([80, 443]), dport: ephemeral(), flags: TCP.SYN | TCP.ACK, seq: u32(), ack: u32() }) });
    const code = udpOrig ? weighted([[3, 80], [13, 10], [1, 10]] as const) : weighted([[1, 50], [13, 30], [10, 20]] as const);
    const from = code === 3 || chance(0.5) ? remote : ip4(); // the host itself, or a router on the way
    v4(R.blockIcmp, from, ours, 1, icmp(3, code, Buffer.alloc(4), inner.subarray(0, 28)));
  };

  const synScan6 = () => {
    const src = pick(scanners6);
    const dst = pick(OURS6);
    const stack = weighted([['linux', 60], ['nmap', 25], ['masscan', 15]] as const);
    const sport = ephemeral();
    for (let i = runLength(5); i > 0; i--) {
      const dport = chance(0.8) ? pick(SCANNED) : anyPort(1);
      v6(R.blockAll, src, dst, 6, tcp({ sport, dport, seq: u32(), flags: TCP.SYN, win: stack === 'linux' ? 64800 : 1024, options: p.synOptions(stack, 1440, u32()) }));
    }
  };

  const udp6 = () => {
    const src = pick(scanners6);
    const dst = pick(OURS6);
    for (let i = runLength(2); i > 0; i--) {
      const dport = weighted([[53, 50], [123, 25], [5353, 15], [1900, 10]] as const);
      const [sport, payload] = udpProbe(dport, dst, src);
      v6(R.blockUdp, src, dst, 17, udp(sport, dport, payload));
    }
  };

  const echo6 = () => {
    const src = pick(scanners6);
    const dst = pick(OURS6);
    const id = int(65536);
    for (let seq = 0, n = runLength(2.5); seq < n; seq++) v6(R.blockIcmp6, src, dst, 58, icmp(128, 0, echo(id, seq + 1), Buffer.alloc(56, 0x20)));
  };

  const passIn = () => {
    const src = pick(clients4);
    const dst = OURS4[0]!;
    const stack = weighted([['linux', 50], ['windows', 35], ['macos', 15]] as const);
    const win = stack === 'macos' ? 65535 : 64240;
    const dport = chance(0.8) ? 443 : 80;
    for (let i = runLength(2); i > 0; i--) {
      v4(R.passWeb, src, dst, 6, tcp({ sport: ephemeral(), dport, seq: u32(), flags: TCP.SYN, win, options: p.synOptions(stack, 1460, u32()) }));
    }
  };

  const passOut = () => {
    const src = OURS4[0]!;
    if (chance(0.8)) {
      const dst = pick(RESOLVERS);
      const name = pick(['pkg.freebsd.org', 'update.freebsd.org', 'pool.ntp.org', 'github.com']);
      v4(R.passOut, src, dst, 17, udp(ephemeral(), 53, p.dnsQuery(int(65536), name, p.QTYPE.A)));
      if (chance(0.7)) v4(R.passOut, src, dst, 17, udp(ephemeral(), 53, p.dnsQuery(int(65536), name, p.QTYPE.AAAA)));
    } else {
      v4(R.passOut, src, pick(NTP_SERVERS), 17, udp(123, 123, p.ntpClient(4, u32())));
    }
  };

  const blockOut = () => {
    // Something on the box trying to send mail or reach IRC.
    const src = pick(OURS4);
    const dst = ip4();
    const dport = chance(0.8) ? 25 : 6667;
    const sport = ephemeral();
    const seq = u32();
    for (let t = 0, n = runLength(2.5); t < n; t++) {
      v4(R.blockOutSmtp, src, dst, 6, tcp({ sport, dport, seq, flags: TCP.SYN, win: 65535, options: p.synOptions('freebsd', 1460, u32()) }), 64);
    }
  };

  // Each kind's weight is its share of the packets over its mean episode length.
  const KINDS: Array<[() => void, number]> = [
    [synScan4, 0.64 / 6],
    [outOfState4, 0.07 / 1.6],
    [udp4, 0.1 / 3],
    [echo4, 0.04 / 2.5],
    [unreach4, 0.01],
    [synScan6, 0.04 / 5],
    [udp6, 0.015 / 2],
    [echo6, 0.015 / 2.5],
    [passIn, 0.025 / 2],
    [passOut, 0.015 / 1.6],
    [blockOut, 0.005 / 2.5],
  ];

  try {
    w.raw(pcapFileHeader({ snaplen: SNAPLEN }));
    while (written < count) {
      weighted(KINDS)();
      // the next episode starts a little later
      now += Math.floor(-Math.log(1 - r()) * 20000);
    }
    w.flush();
  } finally {
    fs.closeSync(fd);
  }
  return { packets: written, bytes: w.bytes };
}
