// The decode bench: two generated pflog captures decoded to a file by
// (a) `tcpdump -n -e -t -S -r`, the baseline: the same output as ours
// (absolute TCP sequence numbers), (b) `pfasciilogd read`, and (c) plain
// `tcpdump -n -e -t -r`, shown for reference only: it prints relative
// sequence numbers, so keeps a table of every TCP conversation, and its
// output is not ours, and (d) `pfasciilogd read --format filterlog`, the same
// packets as CSV, timed beside the text. Round-robin with --repeat (default 3), keeping each
// one's best time and highest peak RSS. The captures:
//  - realistic (bench/capture.ts): a FreeBSD firewall under scanning, in
//    episodes, so the same rule logs runs of similar packets;
//  - varied (bench/varied-capture.ts): rule, anchor, interface, action,
//    4-tuple and flags change on every packet (nothing for a cache to reuse).
// Every decoder must print one line per packet; how many of our lines equal
// tcpdump -S's once the stamp is stripped is reported. Informational: missing
// a target is reported, not failed; a decoder that fails or prints a line
// count other than the packet count fails the bench.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture, type CaptureResult } from './capture.js';
import { generateVariedCapture } from './varied-capture.js';
import { compareOutputs, countLines, type Comparison } from './compare.js';
import { rssMethod, runMeasured, start } from './measure.js';
import { best, int, mb, met, printTable, type Checked } from './report.js';

const DAEMON = fileURLToPath(new URL('../bin/pfasciilogd.js', import.meta.url));
const TCPDUMP = 'tcpdump';
const TARGET_VS_TCPDUMP = 1.0;
const AIM_VS_TCPDUMP = 1.5;
const TARGET_RSS = 80e6;
const SHOW_KINDS = 8;

export interface DecodeBenchOptions {
  packets: number;
  repeat: number;
  keep: boolean;
  /** scratch directory, removed by the caller */
  dir: string;
}

interface Decoder {
  name: string;
  file: string;
  argv(capture: string): [string, string[]];
}

/** The baseline: the same output as ours. */
const tcpdump: Decoder = { name: 'tcpdump -n -e -t -S -r', file: 'tcpdump-S', argv: (capture) => [TCPDUMP, ['-n', '-e', '-t', '-S', '-r', capture]] };
/** For reference only: relative sequence numbers, a conversation table, other output. */
const tcpdumpRelative: Decoder = { name: 'tcpdump -n -e -t -r (relative seq, not our output)', file: 'tcpdump', argv: (capture) => [TCPDUMP, ['-n', '-e', '-t', '-r', capture]] };
const ours: Decoder = { name: 'pfasciilogd read', file: 'pfasciilogd', argv: (capture) => [process.execPath, [DAEMON, 'read', capture]] };
/** the same packets as filterlog CSV, timed beside the text in the same run */
const oursFilterlog: Decoder = { name: 'pfasciilogd read --format filterlog', file: 'filterlog', argv: (capture) => [process.execPath, [DAEMON, 'read', '--format', 'filterlog', capture]] };

interface BenchCapture {
  name: string;
  file: string;
  generate(path: string, packets: number): CaptureResult;
}

const CAPTURES: BenchCapture[] = [
  { name: 'realistic (bench/capture.ts: a scanned firewall, runs of similar packets)', file: 'realistic.pcap', generate: (p, n) => generateCapture(p, n) },
  { name: 'varied (bench/varied-capture.ts: rule, interface, action, 4-tuple and flags vary per packet)', file: 'varied.pcap', generate: (p, n) => generateVariedCapture(p, n) },
];

interface Outcome extends Checked {
  decoder: Decoder;
}

const cpu = (o: Outcome) => (o.cpuSeconds === null ? 'n/a' : o.cpuSeconds.toFixed(2));

function tcpdumpVersion(): string | null {
  const r = spawnSync(TCPDUMP, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const [tcp, pcap] = (r.stdout || r.stderr).split('\n');
  return `${tcp} (${pcap?.replace(/ \(.*$/, '')})`;
}

/** Runs one decoder with its stdout to `out`. */
async function decode(dir: string, d: Decoder, capture: string, out: string) {
  const fd = fs.openSync(out, 'w');
  try {
    return await runMeasured(dir, d.name, (wrap) => {
      const cp = start(...wrap(...d.argv(capture)), { stdio: ['ignore', fd, 'pipe'] });
      return { measured: cp, all: [cp] };
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** One round: each decoder once; returns the outcomes and, when both ran, the comparison. */
async function round(o: DecodeBenchOptions, decoders: Decoder[], capture: string, n: number): Promise<{ outcomes: Outcome[]; cmp: Comparison | null }> {
  const outs = new Map<Decoder, string>();
  const outcomes: Outcome[] = [];
  for (const d of decoders) {
    const out = path.join(o.dir, `${d.file}.${n}.txt`);
    const result = await decode(o.dir, d, capture, out);
    outcomes.push({ ...result, decoder: d, verified: result.failure === null });
    if (result.failure === null) outs.set(d, out);
  }
  const theirs = outs.get(tcpdump);
  const mine = outs.get(ours);
  const cmp = theirs !== undefined && mine !== undefined ? compareOutputs(theirs, mine) : null;
  for (const oc of outcomes) {
    const out = outs.get(oc.decoder);
    if (out === undefined) {
      console.log(`  ${oc.decoder.name}: FAILED: ${oc.failure}`);
      continue;
    }
    const lines = cmp === null || oc.decoder === tcpdumpRelative || oc.decoder === oursFilterlog ? countLines(out) : oc.decoder === ours ? cmp.ourLines : cmp.tcpdumpLines;
    oc.verified = lines === o.packets;
    const verdict = oc.verified ? '' : `, WRONG: expected ${int(o.packets)}`;
    const same = oc.decoder === ours && cmp !== null ? `, ${int(cmp.identical)} identical to tcpdump -S's after the stamp` : '';
    console.log(`  ${oc.decoder.name}: ${oc.seconds.toFixed(2)} s (CPU ${cpu(oc)} s), ${int(lines)} lines${verdict}${same}`);
  }
  if (!o.keep) for (const out of outs.values()) fs.rmSync(out, { force: true });
  return { outcomes, cmp };
}

function reportDifferences(cmp: Comparison): void {
  const pct = (n: number) => `${((100 * n) / Math.max(1, cmp.ourLines)).toFixed(1)}%`;
  const differing = cmp.differences.reduce((s, d) => s + d.count, 0);
  console.log(`lines identical to tcpdump -S's (stamp stripped): ${int(cmp.identical)} of ${int(cmp.ourLines)} (${pct(cmp.identical)})`);
  if (cmp.unstamped > 0) console.log(`  ${int(cmp.unstamped)} of our lines have no stamp`);
  if (differing === 0) return;
  console.log(`the ${int(differing)} others, by kind (first example of each):`);
  for (const d of cmp.differences.slice(0, SHOW_KINDS)) {
    console.log(`  ${d.kind}: ${int(d.count)} (${pct(d.count)})`);
    console.log(`    ours:    ${d.ours}`);
    console.log(`    tcpdump: ${d.tcpdump}`);
  }
  const rest = cmp.differences.slice(SHOW_KINDS);
  if (rest.length > 0) {
    const lines = rest.reduce((s, d) => s + d.count, 0);
    const head = rest.slice(0, SHOW_KINDS).map((d) => `${d.kind} ${int(d.count)}`).join(', ');
    console.log(`  and ${int(lines)} lines of ${rest.length} other kinds: ${head}${rest.length > SHOW_KINDS ? ', ...' : ''}`);
  }
}

function report(outcomes: Outcome[], cmp: Comparison | null, packets: number, repeat: number): void {
  const rate = (o: Outcome) => packets / o.seconds;
  const rows = [[`decode (${int(packets)} packets)`, repeat > 1 ? `best s of ${repeat}` : 'seconds', 'packets/s', 'CPU s', 'peak RSS MB']];
  for (const o of outcomes) rows.push([o.decoder.name, o.verified ? o.seconds.toFixed(3) : 'FAILED', o.verified ? int(rate(o)) : '-', cpu(o), mb(o.peakRssBytes)]);
  printTable(rows);

  const get = (d: Decoder) => outcomes.find((o) => o.decoder === d && o.verified);
  const d = get(ours);
  let x: number | null = null;
  for (const base of [tcpdump, tcpdumpRelative]) {
    const t = get(base);
    if (!d || !t) continue;
    const ratio = rate(d) / rate(t);
    if (base === tcpdump) x = ratio;
    const byCpu = d.cpuSeconds !== null && t.cpuSeconds !== null ? ` (${(t.cpuSeconds / d.cpuSeconds).toFixed(2)}× by CPU time)` : '';
    console.log(`pfasciilogd read vs ${base.name}: ${ratio.toFixed(2)}× the packets/s${byCpu}`);
  }
  const f = get(oursFilterlog);
  if (d && f) console.log(`pfasciilogd read --format filterlog vs read (text): ${(rate(f) / rate(d)).toFixed(2)}× the packets/s`);
  if (cmp !== null) reportDifferences(cmp);
  console.log('');

  if (!d) {
    console.log('targets: not measured (pfasciilogd read failed)');
    return;
  }
  const vs = (goal: number) => (x === null ? 'not measured (no tcpdump result)' : `${met(x >= goal)} (${x.toFixed(2)}×)`);
  console.log(`target ≥ ${TARGET_VS_TCPDUMP}× tcpdump -S, start-up included: ${vs(TARGET_VS_TCPDUMP)}; aim ≥ ${AIM_VS_TCPDUMP}×: ${vs(AIM_VS_TCPDUMP)}`);
  const rss = d.peakRssBytes;
  console.log(`target peak RSS ≤ ${mb(TARGET_RSS)} MB: ${rss === null ? 'not measured (no /proc)' : `${met(rss <= TARGET_RSS)} (${mb(rss)} MB)`}`);
}

/** Runs the decode bench on both captures; false when a decoder failed or printed the wrong number of lines. */
export async function runDecodeBench(o: DecodeBenchOptions): Promise<boolean> {
  const version = tcpdumpVersion();
  console.log(`node ${process.version}, ${version ?? 'no tcpdump'}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; peak RSS: ${rssMethod()}`);
  const decoders = version === null ? [ours, oursFilterlog] : [tcpdump, ours, oursFilterlog, tcpdumpRelative];
  if (version === null) console.log('tcpdump not found: baselines skipped');
  let ok = true;
  for (const c of CAPTURES) {
    const capture = path.join(o.dir, c.file);
    const t0 = performance.now();
    const gen = c.generate(capture, o.packets);
    console.log(`\ncapture ${c.name}: ${int(gen.packets)} packets, ${mb(gen.bytes)} MB, generated in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    const runs: Outcome[] = [];
    let cmp: Comparison | null = null;
    for (let n = 1; n <= o.repeat; n++) {
      if (o.repeat > 1) console.log(`round ${n} of ${o.repeat}:`);
      const r = await round(o, decoders, capture, n);
      runs.push(...r.outcomes);
      cmp ??= r.cmp;
    }
    report(decoders.map((d) => best(runs.filter((r) => r.decoder === d))), cmp, o.packets, o.repeat);
    ok &&= runs.every((r) => r.verified);
    if (!o.keep) fs.rmSync(capture, { force: true });
  }
  return ok;
}
