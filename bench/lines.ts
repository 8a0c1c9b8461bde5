// Realistic pflog text as `tcpdump -t -l -e -n` prints it, from a seeded PRNG
// so every run relays the same bytes. The mix follows what a public-facing
// firewall logs: mostly blocked TCP SYNs from many scanners to a handful of
// addresses and popular ports, some UDP and ICMP, some IPv6, anchor rules, and
// a few passed or outbound packets.

import * as fs from 'node:fs';
import { prng } from '../test/support/prng.js';


const SCANNED_PORTS = [22, 23, 80, 443, 3389, 445, 6379, 8080, 5900, 1433, 3306, 25, 8443, 2375, 5432, 9200, 27017, 21, 110, 8888];
const UDP_PORTS = [1900, 5060, 11211, 3478, 10001, 19132, 37810, 8728];
const WINDOWS = [1024, 29200, 64240, 65535, 14600, 5840, 42340, 8192];
const OPTIONS = [
  'options [mss 1460,sackOK,TS val 3512478023 ecr 0,nop,wscale 7]',
  'options [mss 1460]',
  'options [mss 1440,nop,wscale 8,nop,nop,sackOK]',
  'options [mss 1412,sackOK,TS val 40190 ecr 0,nop,wscale 10]',
];
const LOCAL4 = ['46.38.233.77', '46.38.233.78', '185.12.64.3', '10.0.0.5'];
const LOCAL6 = ['2a03:4000:6:e1e2::1', '2a03:4000:6:e1e2::80'];
const ANCHORS = ['scanners/web', 'scanners/ssh', 'bruteforce', 'fail2ban/sshd'];
const IFACES = ['vtnet0', 'vtnet0', 'vtnet0', 'em0', 'igb1'];

export interface GenerateResult {
  lines: number;
  bytes: number;
}

function writeAll(fd: number, buf: Buffer, length: number): void {
  for (let off = 0; off < length; ) off += fs.writeSync(fd, buf, off, length - off);
}

/** Writes `count` lines to `path` (created or truncated). */
export function generateLines(path: string, count: number, seed = 0x5eed): GenerateResult {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const ip4 = () => `${1 + int(223)}.${int(256)}.${int(256)}.${1 + int(254)}`;
  const hex = () => int(0x10000).toString(16);
  const ip6 = () => `2${int(0x1000).toString(16).padStart(3, '0')}:${hex()}:${hex()}:${hex()}::${hex()}`;
  // Scanners come back: a pool of repeat sources plus a stream of one-off ones.
  const pool4 = Array.from({ length: 5000 }, ip4);
  const pool6 = Array.from({ length: 500 }, ip6);
  const src4 = () => (r() < 0.7 ? pick(pool4) : ip4());
  const dport = () => (r() < 0.8 ? pick(SCANNED_PORTS) : 1 + int(65535));
  const sport = () => 1024 + int(64512);

  const rule = () => {
    const x = r();
    if (x < 0.85) return `rule ${1 + int(3)}/0(match)`;
    return `rule ${2 + int(4)}.${pick(ANCHORS)}.${int(3)}/0(match)`;
  };
  const syn = () => {
    const opts = r() < 0.3 ? `${pick(OPTIONS)}, ` : '';
    return `Flags [S], seq ${int(4294967296)}, win ${pick(WINDOWS)}, ${opts}length 0`;
  };

  const line = (): string => {
    const x = r();
    const head = `${rule()}: `;
    if (x < 0.70) return `${head}block in on ${pick(IFACES)}: ${src4()}.${sport()} > ${pick(LOCAL4)}.${dport()}: ${syn()}`;
    if (x < 0.80) return `${head}block in on ${pick(IFACES)}: ${src4()}.${sport()} > ${pick(LOCAL4)}.${pick(UDP_PORTS)}: UDP, length ${8 + int(200)}`;
    if (x < 0.85) {
      const len = r() < 0.8 ? 64 : 8 + int(1400);
      return `${head}block in on ${pick(IFACES)}: ${src4()} > ${pick(LOCAL4)}: ICMP echo request, id ${int(65536)}, seq ${int(1000)}, length ${len}`;
    }
    if (x < 0.92) return `${head}block in on ${pick(IFACES)}: ${pick(pool6)}.${sport()} > ${pick(LOCAL6)}.${dport()}: ${syn()}`;
    if (x < 0.95) return `${head}block in on ${pick(IFACES)}: ${src4()}.${sport()} > ${pick(LOCAL4)}.${dport()}: Flags [R], seq ${int(4294967296)}, win 0, length 0`;
    if (x < 0.98) return `${head}pass in on ${pick(IFACES)}: ${src4()}.${sport()} > ${pick(LOCAL4)}.${pick([80, 443])}: ${syn()}`;
    return `${head}block out on ${pick(IFACES)}: ${pick(LOCAL4)}.${sport()} > ${ip4()}.${pick([25, 53, 123, 6667])}: ${syn()}`;
  };

  const fd = fs.openSync(path, 'w');
  const buf = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < count; i++) {
      if (used > buf.length - 4096) {
        writeAll(fd, buf, used);
        bytes += used;
        used = 0;
      }
      used += buf.write(line(), used, 'latin1'); // lines are far shorter than 4 KiB
      buf[used++] = 0x0a;
    }
    writeAll(fd, buf, used);
    bytes += used;
  } finally {
    fs.closeSync(fd);
  }
  return { lines: count, bytes };
}
