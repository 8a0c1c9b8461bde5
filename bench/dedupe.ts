// The dedupe bench: how many lines reach fail2ban, and how long fail2ban-regex
// takes over them, with and without --dedupe 600, on a flood capture: ten
// minutes of what a firewall under attack logs, from a seeded PRNG.
//  - background, at a fixed 20 packets/s (12,000 in the ten minutes), as any
//    public address gets: two thirds from scanners probing ports in order
//    (a retransmit for every third port), one third single packets from
//    random sources to random ports;
//  - the flood, the rest of `--lines` packets: 85% a SYN flood to port 443
//    from bots (one per 100 flood packets), 10% UDP amplification probes to
//    53, 123, 1900 and 11211 (one reflector per 300), 5% clients whose state
//    expired, retransmitting ACK or FIN to 443 or 80 (one per 500).
// Lines are counted from `pfasciilogd read` with and without the flag; both
// outputs then go through fail2ban-regex with the project's filter.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIR, PF, TCP, ipv4, pcapFileHeader, pcapRecord, pflogHeader, tcp, udp } from '../test/support/capture-builder.js';
import { prng } from '../test/support/prng.js';
import { int, met, printTable, times } from './report.js';

const DAEMON = fileURLToPath(new URL('../bin/pfasciilogd.js', import.meta.url));
const FILTER = fileURLToPath(new URL('../../etc/fail2ban/filter.d/pfasciilogd.conf', import.meta.url));
const WINDOW = 600;
/** fewer lines, by this factor at least */
const TARGET = 10;
const SERVER = '198.51.100.10';

export interface DedupeBenchOptions {
  packets: number;
  dir: string;
}

interface Probe {
  time: number;
  src: string;
  dport: number;
  udp: boolean;
  flags: number;
}

/** WINDOW seconds of background and flood, `count` probes in all, sorted by time. */
function flood(count: number, seed = 0xf100d): Probe[] {
  const r = prng(seed);
  const n = (x: number) => Math.floor(r() * x);
  const ip = () => `${1 + n(223)}.${n(256)}.${n(256)}.${1 + n(254)}`;
  const at = () => r() * WINDOW;
  const out: Probe[] = [];
  const add = (src: string, dport: number, flags: number, isUdp = false, time = at()) => out.push({ time, src, dport, udp: isUdp, flags });
  const sources = (per: number, of: number) => Array.from({ length: Math.max(1, Math.round(of / per)) }, ip);

  const background = Math.min(count, 20 * WINDOW);
  // scanners: 1,000 ports each, 1,333 packets
  while (out.length + 1333 <= (background * 2) / 3) {
    const src = ip();
    const start = at();
    for (let port = 1; port <= 1000; port++) {
      add(src, port, TCP.SYN, false, start + port * 0.05);
      if (port % 3 === 0) add(src, port, TCP.SYN, false, start + port * 0.05 + 1);
    }
  }
  while (out.length < background) add(ip(), 1 + n(65535), TCP.SYN, n(4) === 0);

  const rest = count - out.length;
  const bots = sources(100, rest);
  for (let i = 0; i < rest * 0.85; i++) add(bots[n(bots.length)]!, 443, TCP.SYN);
  const reflectors = sources(300, rest);
  const amplified = [53, 123, 1900, 11211];
  for (let i = 0; i < rest * 0.1; i++) add(reflectors[n(reflectors.length)]!, amplified[n(4)]!, 0, true);
  const clients = sources(500, rest);
  for (let i = 0; i < rest * 0.05; i++) add(clients[n(clients.length)]!, i % 2 ? 443 : 80, n(2) ? TCP.ACK : TCP.ACK | TCP.FIN);
  return out.sort((a, b) => a.time - b.time);
}

function writeFlood(file: string, probes: readonly Probe[]): void {
  const base = Math.floor(Date.now() / 1000) - WINDOW;
  const hdr = pflogHeader({ action: PF.DROP, dir: DIR.IN, ifname: 'em0', rulenr: 4 });
  const parts = [pcapFileHeader()];
  for (const p of probes) {
    const l4 = p.udp ? udp(40000, p.dport, Buffer.alloc(24)) : tcp({ sport: 40000 + (p.dport & 0x3ff), dport: p.dport, flags: p.flags });
    const sec = base + Math.floor(p.time);
    parts.push(pcapRecord(Buffer.concat([hdr, ipv4({ src: p.src, dst: SERVER, proto: p.udp ? 17 : 6, payload: l4 })]), { sec, frac: Math.floor((p.time % 1) * 1e6) }));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

interface Side {
  name: string;
  lines: number;
  readSeconds: number;
  regexSeconds: number | null;
  matched: number | null;
}

function side(name: string, capture: string, out: string, flags: string[]): Side {
  const fd = fs.openSync(out, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [DAEMON, 'read', ...flags, capture], { stdio: ['ignore', fd, 'pipe'] });
  const readSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`read ${flags.join(' ')} exited ${r.status}: ${r.stderr}`);
  const text = fs.readFileSync(out, 'latin1');
  const lines = text.length === 0 ? 0 : text.split('\n').length - 1;
  const t1 = process.hrtime.bigint();
  const f = spawnSync('fail2ban-regex', [out, FILTER], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (f.error !== undefined) return { name, lines, readSeconds, regexSeconds: null, matched: null };
  const regexSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  const m = /^Lines: \d+ lines, \d+ ignored, (\d+) matched/m.exec(f.stdout);
  return { name, lines, readSeconds, regexSeconds, matched: m ? Number(m[1]) : null };
}

export async function runDedupeBench(o: DedupeBenchOptions): Promise<boolean> {
  const capture = path.join(o.dir, 'flood.pcap');
  const probes = flood(o.packets);
  writeFlood(capture, probes);
  console.log(`flood capture: ${int(probes.length)} blocked packets in ${WINDOW} s (${capture})`);
  const plain = side('every packet', capture, path.join(o.dir, 'plain.log'), []);
  const deduped = side(`--dedupe ${WINDOW}`, capture, path.join(o.dir, 'dedupe.log'), ['--dedupe', String(WINDOW)]);
  const secs = (s: number | null) => (s === null ? 'n/a' : s.toFixed(2));
  printTable([
    ['', 'lines to fail2ban', 'matched', 'read s', 'fail2ban-regex s', 'fail2ban lines/s'],
    ...[plain, deduped].map((s) => [
      s.name,
      int(s.lines),
      s.matched === null ? 'n/a' : int(s.matched),
      secs(s.readSeconds),
      secs(s.regexSeconds),
      s.regexSeconds === null ? 'n/a' : int(s.lines / s.regexSeconds),
    ]),
  ]);
  const ratio = plain.lines / Math.max(1, deduped.lines);
  console.log(`lines: ${times(ratio)} fewer with --dedupe ${WINDOW} (target ≥ ${TARGET}×: ${met(ratio >= TARGET)})`);
  if (plain.regexSeconds !== null && deduped.regexSeconds !== null) {
    console.log(`fail2ban-regex: ${times(plain.regexSeconds / deduped.regexSeconds)} less time`);
  } else console.log('fail2ban-regex: not installed (Debian: apt-get install fail2ban); its times are n/a');
  // every line written must be a line the filter counts: nothing else is in a read's output
  return plain.matched === null || (plain.matched === plain.lines && deduped.matched === deduped.lines);
}
