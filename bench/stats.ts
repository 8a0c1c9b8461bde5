// The stats bench: how fast `pfasciilogd stats` reads a log. The log is real
// output: a generated pflog capture (bench/capture.ts: scanners, clients,
// IPv6, ICMP, anchors) turned into text by `pfasciilogd read`, one stamped
// line per packet. `stats --json` then reads (a) that text log and (b) the
// capture itself; --repeat runs each N times round-robin and keeps the best
// time and the highest peak RSS. Both must count every packet.
// Target: ≥ 500,000 lines/s on the plain text log.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture } from './capture.js';
import { rssMethod, runMeasured, start } from './measure.js';
import { best, int, mb, met, printTable, type Checked } from './report.js';

const DAEMON = fileURLToPath(new URL('../bin/pfasciilogd.js', import.meta.url));
const TARGET_LINES_PER_S = 500_000;

export interface StatsBenchOptions {
  /** packets in the capture, lines in the log */
  lines: number;
  repeat: number;
  keep: boolean;
  /** scratch directory, removed by the caller */
  dir: string;
}

interface Input {
  name: string;
  file: string;
}

interface Outcome extends Checked {
  input: Input;
  packets: number | null;
}

/** One `stats --json` run over `input`, its JSON checked for the packet count. */
async function measure(o: StatsBenchOptions, input: Input, n: number): Promise<Outcome> {
  const out = path.join(o.dir, `stats.${n}.json`);
  const fd = fs.openSync(out, 'w');
  let result;
  try {
    result = await runMeasured(o.dir, `stats ${input.name}`, (wrap) => {
      const cp = start(...wrap(process.execPath, [DAEMON, 'stats', '--json', input.file]), { stdio: ['ignore', fd, 'pipe'] });
      return { measured: cp, all: [cp] };
    });
  } finally {
    fs.closeSync(fd);
  }
  let packets: number | null = null;
  if (result.failure === null) {
    try {
      packets = (JSON.parse(fs.readFileSync(out, 'utf8')) as { packets: number }).packets;
    } catch {
      packets = null;
    }
  }
  if (!o.keep) fs.rmSync(out, { force: true });
  return { ...result, input, packets, verified: result.failure === null && packets === o.lines };
}

/** Runs the stats bench; false when a run failed or miscounted. */
export async function runStatsBench(o: StatsBenchOptions): Promise<boolean> {
  const capture = path.join(o.dir, 'pflog.pcap');
  const log = path.join(o.dir, 'pf.log');
  let t0 = performance.now();
  const gen = generateCapture(capture, o.lines);
  console.log(`capture: ${int(gen.packets)} packets, ${mb(gen.bytes)} MB, generated in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  t0 = performance.now();
  const fd = fs.openSync(log, 'w');
  const r = spawnSync(process.execPath, [DAEMON, 'read', capture], { stdio: ['ignore', fd, 'pipe'] });
  fs.closeSync(fd);
  if (r.status !== 0) {
    console.log(`pfasciilogd read failed (exit ${r.status}): ${String(r.stderr).trim()}`);
    return false;
  }
  console.log(`log: ${int(o.lines)} lines, ${mb(fs.statSync(log).size)} MB, written by pfasciilogd read in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  console.log(`peak RSS: ${rssMethod()}`);

  const inputs: Input[] = [
    { name: 'text log', file: log },
    { name: 'capture', file: capture },
  ];
  const runs = new Map<Input, Outcome[]>(inputs.map((i) => [i, []]));
  let n = 0;
  for (let round = 0; round < o.repeat; round++) {
    for (const input of inputs) {
      const oc = await measure(o, input, n++);
      runs.get(input)!.push(oc);
      const verdict = oc.failure !== null ? `FAILED: ${oc.failure}` : oc.verified ? '' : `, WRONG: ${oc.packets} packets counted, expected ${int(o.lines)}`;
      console.log(`  stats ${input.name}: ${oc.seconds.toFixed(2)} s${verdict}`);
    }
  }
  const outcomes = inputs.map((i) => ({ ...best(runs.get(i)!), input: i }));
  const rows = [[`stats --json (${int(o.lines)} packets)`, o.repeat > 1 ? `best s of ${o.repeat}` : 'seconds', 'lines/s', 'CPU s', 'peak RSS MB']];
  for (const oc of outcomes) {
    rows.push([oc.input.name, oc.verified ? oc.seconds.toFixed(3) : 'FAILED', oc.verified ? int(o.lines / oc.seconds) : '-', oc.cpuSeconds === null ? 'n/a' : oc.cpuSeconds.toFixed(2), mb(oc.peakRssBytes)]);
  }
  printTable(rows);
  const text = outcomes[0]!;
  if (text.verified) {
    const rate = o.lines / text.seconds;
    console.log(`target ≥ ${int(TARGET_LINES_PER_S)} lines/s on the text log: ${met(rate >= TARGET_LINES_PER_S)} (${int(rate)})`);
  } else console.log('target: not measured (stats failed on the text log)');
  return outcomes.every((oc) => oc.verified);
}
