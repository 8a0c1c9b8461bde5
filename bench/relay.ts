// The relay bench: relays the same generated tcpdump text through (a) tee -a,
// (b) a Python asyncio relay built like the reference and (c) pfasciilogd,
// one after the other (round-robin with --repeat, keeping each relay's best
// time and highest peak RSS), and compares them.
// Informational: missing a target is reported, not failed; a relay that fails
// or loses, adds or alters a line makes the bench fail.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLines } from './lines.js';
import { rssMethod, runMeasured, start, type Started, type Wrap } from './measure.js';
import { best, int, mb, met, printTable, times, type Checked } from './report.js';
import { verifyLog } from './verify.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAEMON = path.join(ROOT, 'dist/bin/pfasciilogd.js');
const RELAY_PY = path.join(ROOT, 'bench/baseline/relay.py');
/** what pfasciilogd passes to tcpdump with -u '' -r /dev/null; the fake ignores it */
const TCPDUMP_ARGS = ['-t', '-l', '-e', '-n', '-r', '/dev/null'];

const TARGET_RATE = 1_000_000;
const TARGET_VS_PYTHON = 5;
const AIM_VS_PYTHON = 10;
const TARGET_RSS = 80e6;

export interface RelayBenchOptions {
  lines: number;
  repeat: number;
  keep: boolean;
  /** scratch directory, removed by the caller */
  dir: string;
}

interface Relay {
  name: string;
  /** log lines carry a stamp; the daemon's own event lines are skipped */
  stamped: boolean;
  events: boolean;
  start(ctx: Ctx, log: string, wrap: Wrap): Started;
}

interface Ctx {
  dir: string;
  fake: string;
  env: NodeJS.ProcessEnv;
}

interface Outcome extends Checked {
  relay: Relay;
}

const tee: Relay = {
  name: 'tee -a',
  stamped: false,
  events: false,
  start(ctx, log, wrap) {
    // fake | tee -a log >/dev/null: the pipe goes straight from one to the other.
    const fake = spawn(ctx.fake, TCPDUMP_ARGS, { stdio: ['ignore', 'pipe', 'inherit'], env: ctx.env });
    const devNull = fs.openSync('/dev/null', 'w');
    try {
      const teeProc = start(...wrap('tee', ['-a', log]), { stdio: [fake.stdout!, devNull, 'pipe'] });
      fake.stdout!.destroy(); // our copy of the read end; tee has its own
      return { measured: teeProc, all: [fake, teeProc] };
    } finally {
      fs.closeSync(devNull);
    }
  },
};

const python: Relay = {
  name: 'python asyncio',
  stamped: true,
  events: false,
  start(ctx, log, wrap) {
    const py = start(...wrap('python3', [RELAY_PY, log, ctx.fake, ...TCPDUMP_ARGS]), { env: ctx.env });
    return { measured: py, all: [py] };
  },
};

const daemon: Relay = {
  name: 'pfasciilogd',
  stamped: true,
  events: true,
  start(ctx, log, wrap) {
    const pidFile = path.join(ctx.dir, 'pfasciilogd.pid');
    // --decoder tcpdump: the text relay (the native decoder, the default, wants pcap)
    const argv = [DAEMON, '--decoder', 'tcpdump', '-u', '', '--tcpdump', ctx.fake, '-r', '/dev/null', '-f', log, '-p', pidFile];
    const node = start(...wrap(process.execPath, argv), { env: ctx.env });
    return { measured: node, all: [node] };
  },
};

function pythonVersion(): string | null {
  const r = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? null : (r.stdout || r.stderr).trim();
}

async function runOne(ctx: Ctx, relay: Relay, input: string, lines: number, keep: boolean, round: number): Promise<Outcome> {
  const log = path.join(ctx.dir, `${relay.name.replace(/\W+/g, '-')}.${round}.log`);
  const result = await runMeasured(ctx.dir, relay.name, (wrap) => relay.start(ctx, log, wrap));
  let verified = false;
  if (result.failure !== null) {
    console.log(`  ${relay.name}: FAILED: ${result.failure}`);
  } else if (!fs.existsSync(log)) {
    console.log(`  ${relay.name}: FAILED: no log written`);
  } else {
    const v = verifyLog(input, log, relay.stamped, relay.events);
    const events = relay.events ? ` (+ ${v.eventLines} event lines)` : '';
    verified = v.error === null && v.dataLines === lines;
    const verdict = verified ? 'identical to the input' : `WRONG: ${v.error ?? `expected ${int(lines)}`}`;
    console.log(`  ${relay.name}: ${result.seconds.toFixed(2)} s, ${int(v.dataLines)} lines${events}, ${verdict}`);
  }
  if (!keep) fs.rmSync(log, { force: true });
  return { ...result, relay, verified };
}

function report(outcomes: Outcome[], pyMissing: boolean, lines: number, repeat: number): void {
  const rate = (o: Outcome) => lines / o.seconds;
  const rows = [[`relay (${int(lines)} lines)`, repeat > 1 ? `best s of ${repeat}` : 'seconds', 'lines/s', 'peak RSS MB']];
  for (const o of outcomes) rows.push([o.relay.name, o.verified ? o.seconds.toFixed(3) : 'FAILED', o.verified ? int(rate(o)) : '-', mb(o.peakRssBytes)]);
  printTable(rows);

  const get = (r: Relay) => outcomes.find((o) => o.relay === r && o.verified);
  const d = get(daemon);
  const t = get(tee);
  const p = get(python);
  if (d && t) console.log(`pfasciilogd vs tee -a:         ${times(rate(d) / rate(t))} the lines/s`);
  if (d && p) console.log(`pfasciilogd vs python asyncio: ${times(rate(d) / rate(p))} the lines/s`);
  if (pyMissing) console.log('python3 not found: baseline (b) skipped');
  console.log('');

  if (!d) {
    console.log('targets: not measured (pfasciilogd run failed)');
    return;
  }
  console.log(`target ≥ ${int(TARGET_RATE)} lines/s: ${met(rate(d) >= TARGET_RATE)} (${int(rate(d))})`);
  if (p) {
    const x = rate(d) / rate(p);
    const aim = x >= AIM_VS_PYTHON ? `, aim of ${AIM_VS_PYTHON}× reached` : `, aim of ${AIM_VS_PYTHON}× not reached`;
    console.log(`target ≥ ${TARGET_VS_PYTHON}× python: ${met(x >= TARGET_VS_PYTHON)} (${times(x)}${aim})`);
  } else {
    console.log(`target ≥ ${TARGET_VS_PYTHON}× python: not measured`);
  }
  const rss = d.peakRssBytes;
  console.log(`target peak RSS ≤ ${mb(TARGET_RSS)} MB: ${rss === null ? 'not measured (no /proc)' : `${met(rss <= TARGET_RSS)} (${mb(rss)} MB)`}`);
}

/** Runs the relay bench; false when a relay failed or altered its input. */
export async function runRelayBench({ lines, repeat, keep, dir }: RelayBenchOptions): Promise<boolean> {
  const input = path.join(dir, 'lines.txt');
  const t0 = performance.now();
  const gen = generateLines(input, lines);
  console.log(`input: ${int(gen.lines)} lines, ${mb(gen.bytes)} MB, generated in ${((performance.now() - t0) / 1000).toFixed(2)} s (${input})`);
  const fake = path.join(dir, 'fake-tcpdump');
  fs.writeFileSync(fake, '#!/bin/sh\n# ignores tcpdump\'s arguments, prints the prepared lines\nexec cat "$PFASCIILOGD_BENCH_LINES"\n', { mode: 0o755 });
  const ctx: Ctx = { dir, fake, env: { ...process.env, PFASCIILOGD_BENCH_LINES: input } };

  const py = pythonVersion();
  console.log(`node ${process.version}, ${py ?? 'no python3'}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; peak RSS: ${rssMethod()}`);
  const relays = py === null ? [tee, daemon] : [tee, python, daemon];
  const runs: Outcome[] = [];
  for (let round = 1; round <= repeat; round++) {
    if (repeat > 1) console.log(`round ${round} of ${repeat}:`);
    for (const relay of relays) runs.push(await runOne(ctx, relay, input, lines, keep, round));
  }
  const outcomes = relays.map((relay) => best(runs.filter((o) => o.relay === relay)));
  report(outcomes, py === null, lines, repeat);
  return runs.every((o) => o.verified);
}
