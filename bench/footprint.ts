// The footprint bench: the memory of pfasciilogd's own processes (the daemon
// and its reaper; tcpdump is shown apart), as `top` shows it to an admin.
//  - Idle: each contender in turn captures on lo of a namespace of the
//    bench's own, where no packet comes, and is measured twice: STARTED_MS
//    after it started, and SETTLED_MS after, once V8's memory reducer (which
//    acts after some seconds of a low allocation rate) has given back what
//    start-up left behind, as an admin's `top` shows a daemon that has been
//    up a while. The target is checked on the settled figure. Then a burst
//    of BURST UDP datagrams goes to a closed port on that lo (each datagram
//    and its ICMP port unreachable are captured), and BURST_REST_MS after it
//    a third sample shows what the traffic left behind. Contenders:
//    pfasciilogd as installed (the bundle, dist/bin/pfasciilogd.js, with the
//    heap flags of the rc.d scripts and the unit); the same program run from
//    tsc's one-file-per-module output (dist/src/cli/main.js), which is what
//    the bundle replaced; and the seed design, `tcpdump -l` under the Python
//    relay (bench/baseline/relay.py). Round-robin, --repeat rounds (default
//    3); the highest figure of each is kept.
//  - Flood: pfasciilogd as installed reads the realistic capture (--lines
//    packets, bench/capture.ts) through tcpdump -r, as the flood bench does,
//    and its peak RSS (VmHWM) is polled; the reaper, which a file read does
//    not start and whose memory does not depend on traffic, is added at its
//    idle figure.
// RSS comes from /proc/PID/smaps_rollup, private memory is its Private_Clean
// + Private_Dirty: pages no other process maps (RSS also counts the pages of
// the node binary and the libraries, which every node process shares).
// Linux and root only (network namespaces); otherwise the bench says why and
// passes.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEAP_FLAGS } from '../src/daemon/heap.js';
import { Lab, missingPrerequisite, type Proc } from '../test/support/netns.js';
import { generateCapture } from './capture.js';
import { countLines } from './compare.js';
import { readVmHWM } from './measure.js';
import { int, mb, met, printTable } from './report.js';

const BIN = fileURLToPath(new URL('../bin/pfasciilogd.js', import.meta.url));
const MODULES = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RELAY_PY = fileURLToPath(new URL('../../bench/baseline/relay.py', import.meta.url));
const STARTED_MS = 5000;
const SETTLED_MS = 30000;
const BURST = 100_000;
const BURST_REST_MS = 20000;
/** Sends argv[1] datagrams of 40 bytes to 127.0.0.1:9 (nobody listens), 500 per turn of the event loop. */
const BURST_JS = `const s = require('node:dgram').createSocket('udp4'); const m = Buffer.alloc(40); let n = 0; const N = +process.argv[1];
const turn = () => { for (let i = 0; i < 500 && n < N; i++, n++) s.send(m, 9, '127.0.0.1'); if (n < N) setImmediate(turn); else setTimeout(() => s.close(), 500); }; turn();`;
const POLL_MS = 50;
const TARGET_IDLE = 50e6;
const TARGET_FLOOD = 80e6;

export interface FootprintBenchOptions {
  packets: number;
  repeat: number;
  dir: string;
}

interface Contender {
  name: string;
  /** must log every burst datagram (the seed design's relay falls behind, and the kernel drops for it) */
  keepsUp: boolean;
  argv(log: string, pidfile: string): string[];
}

const daemon = (entry: string) => (log: string, pidfile: string) => [process.execPath, ...HEAP_FLAGS, entry, '-u', '', '-i', 'lo', '-f', log, '-p', pidfile];

const CONTENDERS: Contender[] = [
  { name: 'pfasciilogd (installed: the bundle)', keepsUp: true, argv: daemon(BIN) },
  { name: 'pfasciilogd from tsc modules (before)', keepsUp: true, argv: daemon(MODULES) },
  { name: 'seed design (Python relay)', keepsUp: false, argv: (log) => ['python3', RELAY_PY, log, 'tcpdump', '-l', '-n', '-e', '-t', '-i', 'lo'] },
];

interface Memory {
  rss: number;
  priv: number;
}

const ZERO: Memory = { rss: 0, priv: 0 };
const add = (a: Memory, b: Memory): Memory => ({ rss: a.rss + b.rss, priv: a.priv + b.priv });
const max = (a: Memory, b: Memory): Memory => ({ rss: Math.max(a.rss, b.rss), priv: Math.max(a.priv, b.priv) });

/** A process's memory from smaps_rollup, in bytes; null once it is gone. */
function memory(pid: number): Memory | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('Rss'), priv: kb('Private_Clean') + kb('Private_Dirty') };
}

/** The pids whose parent is `pid`, with their command names. */
function children(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(e), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Ours (the process and its children but tcpdump; `helpers`: those children alone) and tcpdump's, as they are now. */
function split(pid: number): { ours: Memory; helpers: Memory; count: number; tcpdump: Memory | null } {
  let helpers = ZERO;
  let count = 1;
  let tcpdump: Memory | null = null;
  for (const c of children(pid)) {
    const m = memory(c.pid);
    if (m === null) continue;
    if (c.comm === 'tcpdump') tcpdump = m;
    else {
      helpers = add(helpers, m);
      count++;
    }
  }
  return { ours: add(memory(pid) ?? ZERO, helpers), helpers, count, tcpdump };
}

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

interface Sample {
  ours: Memory;
  helpers: Memory;
  count: number;
  tcpdump: Memory | null;
}

interface Idle {
  started: Sample;
  settled: Sample;
  afterBurst: Sample;
}

const ROLE = 'host';

/** TERM, and TERM to what it leaves behind: the Python relay dies at once and orphans its tcpdump, which holds its stderr. */
async function stop(proc: Proc): Promise<void> {
  const pid = proc.child.pid;
  const left = pid === undefined ? [] : children(pid);
  proc.child.kill('SIGTERM');
  for (let waited = 0; waited < 3000 && left.some((c) => fs.existsSync(`/proc/${c.pid}`)); waited += POLL_MS) await sleep(POLL_MS);
  for (const c of left) {
    try {
      if (fs.readFileSync(`/proc/${c.pid}/comm`, 'latin1').trim() === c.comm) process.kill(c.pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  await proc.exited;
}

async function idleOnce(lab: Lab, c: Contender, i: number): Promise<Idle> {
  const log = path.join(lab.dir, `idle.${i}.log`);
  const proc: Proc = lab.spawn(ROLE, c.name, c.argv(log, path.join(lab.dir, `idle.${i}.pid`)));
  const sample = async (atMs: number, sinceMs: number): Promise<Sample> => {
    await sleep(atMs - sinceMs);
    const pid = proc.child.pid;
    if (proc.exit !== null || pid === undefined) throw new Error(`${c.name} exited: ${proc.stderr.trim()}`);
    const s = split(pid);
    if (s.tcpdump === null) throw new Error(`${c.name}: no tcpdump after ${atMs} ms: ${proc.stderr.trim()}`);
    return s;
  };
  try {
    const started = await sample(STARTED_MS, 0);
    const settled = await sample(SETTLED_MS, STARTED_MS);
    lab.exec(ROLE, [process.execPath, '-e', BURST_JS, String(BURST)]);
    const afterBurst = await sample(BURST_REST_MS, 0);
    const lines = countLines(log);
    if (c.keepsUp && lines < BURST) throw new Error(`${c.name}: ${lines} lines after a burst of ${BURST} datagrams`);
    return { started, settled, afterBurst };
  } finally {
    await stop(proc);
  }
}

const higher = (a: Sample, b: Sample): Sample => ({ ours: max(a.ours, b.ours), helpers: max(a.helpers, b.helpers), count: Math.max(a.count, b.count), tcpdump: max(a.tcpdump!, b.tcpdump!) });

/**
 * The installed daemon's peak RSS under the flood, and its lines. Reading a
 * file, the daemon starts no reaper; the reaper's memory does not depend on
 * the traffic, so its idle figure is added to the daemon's peak by the caller.
 */
async function flood(dir: string, packets: number): Promise<{ daemon: number; lines: number }> {
  const capture = path.join(dir, 'flood.pcap');
  generateCapture(capture, packets);
  const log = path.join(dir, 'flood.log');
  const cp = spawn(process.execPath, [...HEAP_FLAGS, BIN, '-u', '', '-r', capture, '-f', log, '-p', path.join(dir, 'flood.pid'), '--', 'len', '>=', '0'], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => cp.on('close', () => res()));
  let peak = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    peak = Math.max(peak, readVmHWM(cp.pid!) ?? 0);
    await sleep(POLL_MS);
  }
  const lines = countLines(log);
  fs.rmSync(capture, { force: true });
  fs.rmSync(log, { force: true });
  return { daemon: peak, lines };
}

export async function runFootprintBench(o: FootprintBenchOptions): Promise<boolean> {
  const missing = process.platform !== 'linux' ? 'needs Linux (/proc)' : missingPrerequisite();
  if (missing !== undefined) {
    console.log(`footprint bench skipped: ${missing}`);
    return true;
  }
  const lab = new Lab();
  const idle = new Map<Contender, Idle>();
  try {
    lab.addNamespace(ROLE);
    for (let n = 1; n <= o.repeat; n++) {
      for (const [i, c] of CONTENDERS.entries()) {
        const s = await idleOnce(lab, c, n * 10 + i);
        console.log(`  round ${n}: ${c.name}: ${mb(s.started.ours.rss)} MB RSS started, ${mb(s.settled.ours.rss)} MB settled, ${mb(s.afterBurst.ours.rss)} MB after a burst (${s.settled.count} processes); tcpdump ${mb(s.settled.tcpdump!.rss)} MB`);
        const prev = idle.get(c);
        idle.set(c, prev === undefined ? s : { started: higher(prev.started, s.started), settled: higher(prev.settled, s.settled), afterBurst: higher(prev.afterBurst, s.afterBurst) });
      }
    }
  } finally {
    await lab.destroy();
  }
  const rows = [[`idle on a quiet lo (highest of ${o.repeat})`, 'processes', `RSS MB at ${STARTED_MS / 1000} s`, `RSS MB at ${SETTLED_MS / 1000} s`, 'private MB', 'RSS MB after a burst', 'tcpdump RSS MB']];
  for (const c of CONTENDERS) {
    const s = idle.get(c)!;
    rows.push([c.name, String(s.settled.count), mb(s.started.ours.rss), mb(s.settled.ours.rss), mb(s.settled.ours.priv), mb(s.afterBurst.ours.rss), mb(s.settled.tcpdump!.rss)]);
  }
  printTable(rows);
  const ours = idle.get(CONTENDERS[0]!)!.settled.ours;
  const before = idle.get(CONTENDERS[1]!)!.settled.ours;
  console.log(`the bundle: ${((before.rss - ours.rss) / 1e6).toFixed(1)} MB less RSS than tsc's modules, settled (private: at ${SETTLED_MS / 1000} s)`);
  console.log(`target idle ≤ ${mb(TARGET_IDLE)} MB RSS, pfasciilogd's processes together, settled: ${met(ours.rss <= TARGET_IDLE)} (${mb(ours.rss)} MB)`);
  const burst = idle.get(CONTENDERS[0]!)!.afterBurst.ours;
  console.log(`idle again ${BURST_REST_MS / 1000} s after a burst of ${int(BURST)} datagrams: ${mb(burst.rss)} MB RSS, ${mb(burst.priv)} MB private (≤ ${mb(TARGET_IDLE)} MB: ${met(burst.rss <= TARGET_IDLE)})`);

  const f = await flood(o.dir, o.packets);
  const complete = f.lines >= o.packets;
  console.log(`flood: ${int(o.packets)} packets (bench/capture.ts) through tcpdump -r and the installed daemon, ${int(f.lines)} lines${complete ? '' : ', WRONG: packets lost'}`);
  const reaper = idle.get(CONTENDERS[0]!)!.settled.helpers.rss;
  const together = f.daemon + reaper;
  console.log(`  peak RSS: daemon ${mb(f.daemon)} MB (VmHWM, polled every ${POLL_MS} ms) + reaper ${mb(reaper)} MB (idle) = ${mb(together)} MB`);
  console.log(`target under the flood ≤ ${mb(TARGET_FLOOD)} MB RSS: ${met(together <= TARGET_FLOOD)} (${mb(together)} MB)`);
  return complete;
}
