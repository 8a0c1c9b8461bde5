// The flood bench: CPU seconds the whole capture pipeline spends per
// 1,000,000 packets, tcpdump included, for
//  (a) the native decoder: tcpdump copies packets into a pcap stream (-w -),
//      pfasciilogd decodes and writes the log;
//  (b) the text relay (--decoder tcpdump): tcpdump prints, pfasciilogd stamps;
//  (c) the seed design: tcpdump -l prints, a Python relay built like the
//      reference (bench/baseline/relay.py) stamps each line.
// The packets come from a capture file (bench/capture.ts) that tcpdump reads
// with -r, standing in for pflog0 under a flood: tcpdump does the same copy
// or print work per packet either way, and the input cannot outrun anyone.
// A filter expression (`len >= 0`, which every packet passes) makes the
// daemon hand the file to tcpdump rather than read it itself. CPU time is GNU
// time's user + system of the job's first process, which counts the children
// it waited for (tcpdump). The daemon runs with node's heap capped as the rc.d
// scripts and the systemd unit start it (HEAP_FLAGS). Round-robin with
// --repeat, best of N (default 3).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEAP_FLAGS } from '../src/daemon/heap.js';
import { generateCapture } from './capture.js';
import { countLines } from './compare.js';
import { runMeasured, start } from './measure.js';
import { int, mb, printTable, type Checked } from './report.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAEMON = path.join(ROOT, 'dist/bin/pfasciilogd.js');
const RELAY_PY = path.join(ROOT, 'bench/baseline/relay.py');

export interface FloodBenchOptions {
  packets: number;
  repeat: number;
  keep: boolean;
  dir: string;
}

interface Pipeline {
  name: string;
  argv(capture: string, log: string, pidfile: string): [string, string[]];
}

const daemon = (extra: string[]) => (capture: string, log: string, pidfile: string): [string, string[]] => [
  process.execPath,
  [...HEAP_FLAGS, DAEMON, '-u', '', '-r', capture, '-f', log, '-p', pidfile, ...extra],
];

const PIPELINES: Pipeline[] = [
  { name: 'native decoder (tcpdump -w - | pfasciilogd)', argv: daemon(['--', 'len', '>=', '0']) },
  { name: 'text relay (--decoder tcpdump)', argv: daemon(['--decoder', 'tcpdump']) },
  { name: 'seed design (tcpdump -l | Python relay)', argv: (capture, log) => ['python3', [RELAY_PY, log, 'tcpdump', '-l', '-e', '-n', '-t', '-r', capture]] },
];

interface Outcome extends Checked {
  pipeline: Pipeline;
}

export async function runFloodBench(o: FloodBenchOptions): Promise<boolean> {
  const capture = path.join(o.dir, 'flood.pcap');
  const gen = generateCapture(capture, o.packets);
  console.log(`capture: ${int(gen.packets)} packets, ${mb(gen.bytes)} MB (bench/capture.ts), read by tcpdump -r as if from pflog0`);
  const runs: Outcome[] = [];
  for (let n = 1; n <= o.repeat; n++) {
    if (o.repeat > 1) console.log(`round ${n} of ${o.repeat}:`);
    for (const p of PIPELINES) {
      const log = path.join(o.dir, `flood.${n}.log`);
      const pidfile = path.join(o.dir, 'flood.pid');
      fs.rmSync(log, { force: true });
      const r = await runMeasured(o.dir, p.name, (wrap) => {
        const cp = start(...wrap(...p.argv(capture, log, pidfile)), {});
        return { measured: cp, all: [cp] };
      });
      // every packet a line; the daemon adds its own event lines and tcpdump's counters
      const lines = r.failure === null ? countLines(log) : 0;
      const verified = r.failure === null && lines >= o.packets && lines <= o.packets + 20;
      runs.push({ ...r, verified, pipeline: p });
      const cpu = r.cpuSeconds === null ? 'n/a' : r.cpuSeconds.toFixed(2);
      console.log(`  ${p.name}: ${r.seconds.toFixed(2)} s, CPU ${cpu} s, ${int(lines)} lines${verified ? '' : `, WRONG: ${r.failure ?? `expected ${int(o.packets)} packet lines`}`}`);
      if (!o.keep) fs.rmSync(log, { force: true });
    }
  }
  const perMillion = (cpu: number) => ((cpu * 1e6) / o.packets).toFixed(2);
  const rows = [[`pipeline (${int(o.packets)} packets)`, `CPU s per 1M, best of ${o.repeat}`, 'wall s', 'peak RSS MB (first process)']];
  const bestOf = new Map<Pipeline, Outcome>();
  for (const p of PIPELINES) {
    const ok = runs.filter((r) => r.pipeline === p && r.verified && r.cpuSeconds !== null);
    if (ok.length === 0) {
      rows.push([p.name, 'FAILED', '-', '-']);
      continue;
    }
    const b = ok.reduce((a, c) => (c.cpuSeconds! < a.cpuSeconds! ? c : a));
    bestOf.set(p, b);
    rows.push([p.name, perMillion(b.cpuSeconds!), b.seconds.toFixed(2), mb(b.peakRssBytes)]);
  }
  printTable(rows);
  const seed = bestOf.get(PIPELINES[2]!);
  for (const p of PIPELINES.slice(0, 2)) {
    const b = bestOf.get(p);
    if (b && seed) console.log(`${p.name}: ${(seed.cpuSeconds! / b.cpuSeconds!).toFixed(2)}× less CPU than the seed design`);
  }
  if (!o.keep) fs.rmSync(capture, { force: true });
  return runs.every((r) => r.verified);
}
