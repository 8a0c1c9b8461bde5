// `npm run bench -- --only latency [--packets N]`: how long an isolated
// blocked packet takes to become a line in the log, on Linux. In a network
// namespace the bench creates (and deletes), an agent sends one UDP datagram
// at a time to 127.0.0.1 and times it from send(2) to its line in the log
// (inotify on the file), then waits 50 ms and sends the next: N packets per
// configuration, median and p99. Configurations, all in the same run:
//   - path: `-i lo` (a filter on the bench's port), `-i nflog:5` with the
//     nftables statement `log group 5` (the kernel's batching) and
//     `-i nflog:6` with `log group 6 queue-threshold 1`;
//   - decoder: native and tcpdump (text relay);
//   - tcpdump with --immediate-mode (what pfasciilogd passes) and without
//     (a shim that drops the flag: the baseline).
// Then a flood: F packets as fast as one sender manages into NFLOG, with and
// without queue-threshold 1, reporting the CPU time of pfasciilogd and
// tcpdump and the packets lost (sent but not logged; tcpdump's own "dropped
// by kernel" count), scaled to 1,000,000 packets.
// Needs root, ip, nft and tcpdump; says why and skips without.

import { quantile } from './lab-bench.js';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Lab, removeStale, type Proc } from '../test/support/netns.js';
import { findTool } from '../test/support/unavailable.js';

const HERE = fileURLToPath(import.meta.url);
const MAIN_JS = path.resolve(path.dirname(HERE), '../bin/pfasciilogd.js');
const PORT = { lo: 9102, nflog: 9100, nflogNow: 9101, flood: 9103, floodNow: 9104 } as const;
const GAP_MS = 50;
const LINE_LIMIT_MS = 5000;

export interface LatencyBenchOptions {
  packets: number;
  flood: number;
  dir: string;
}

interface Config {
  label: string;
  iface: string;
  port: number;
  decoder: 'native' | 'tcpdump';
  immediate: boolean;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

function firewall(): string {
  // output hook: the agent's own datagrams to 127.0.0.1 are logged (and still delivered)
  return `table ip pfal_latency {
  chain output {
    type filter hook output priority 0; policy accept;
    udp dport ${PORT.nflog} log group 5 prefix "lat"
    udp dport ${PORT.nflogNow} log group 6 prefix "lat" queue-threshold 1
    udp dport ${PORT.flood} log group 7 prefix "flood"
    udp dport ${PORT.floodNow} log group 8 prefix "flood" queue-threshold 1
  }
}
`;
}

/** CPU seconds (user + system) of a process, from /proc; 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').trim().split(/\s+/))
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

async function startDaemon(lab: Lab, opts: LatencyBenchOptions, c: Config, shim: string, log: string): Promise<Proc> {
  fs.rmSync(log, { force: true });
  const argv = [process.execPath, MAIN_JS, '-i', c.iface, '-f', log, '-p', path.join(opts.dir, 'pfasciilogd.pid'), '-u', ''];
  if (c.decoder === 'tcpdump') argv.push('--decoder', 'tcpdump');
  if (!c.immediate) argv.push('--tcpdump', shim);
  if (c.iface === 'lo') argv.push('udp', 'and', 'dst', 'port', String(c.port));
  return lab.spawn('server', `pfasciilogd ${c.label}`, argv);
}

async function stopDaemon(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  await Promise.race([p.exited, sleep(5000)]);
  if (!p.exit) p.child.kill('SIGKILL');
}

/** Runs this file as the agent inside the namespace; resolves to its JSON answer. */
function agent<T>(lab: Lab, params: object): T {
  const r = spawnSync('ip', ['netns', 'exec', lab.ns('server'), process.execPath, HERE, '--agent', JSON.stringify(params)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`latency agent: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout) as T;
}

export async function runLatencyBench(opts: LatencyBenchOptions): Promise<boolean> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    console.log('latency: skipped (needs Linux and root: a network namespace, nftables, NFLOG)');
    return true;
  }
  for (const tool of ['ip', 'nft', 'tcpdump']) {
    if (!findTool(tool)) {
      console.log(`latency: skipped (${tool} not found)`);
      return true;
    }
  }
  removeStale();
  const lab = new Lab();
  try {
    lab.addNamespace('server');
    lab.exec('server', ['nft', '-f', '-'], firewall());
    // the baseline: the real tcpdump, without the flag pfasciilogd passes
    const shim = path.join(opts.dir, 'tcpdump-without-immediate-mode');
    fs.writeFileSync(shim, `#!/bin/sh\nfor a in "$@"; do shift; [ "$a" = --immediate-mode ] || set -- "$@" "$a"; done\nexec ${findTool('tcpdump')} "$@"\n`, { mode: 0o755 });
    const log = path.join(opts.dir, 'pf.log');
    console.log(`isolated packets: ${opts.packets} UDP datagrams per configuration, one at a time (${GAP_MS} ms after the previous line), send(2) -> line in the log`);
    console.log(`machine: ${spawnSync('nproc').stdout.toString().trim()} cores, shared with other work while this ran`);
    console.log('path                                    decoder  tcpdump            median      p99      max');
    const paths = [
      { label: '-i lo', iface: 'lo', port: PORT.lo },
      { label: '-i nflog:5 (log group 5)', iface: 'nflog:5', port: PORT.nflog },
      { label: '-i nflog:6 (... queue-threshold 1)', iface: 'nflog:6', port: PORT.nflogNow },
    ];
    for (const p of paths) {
      for (const decoder of ['native', 'tcpdump'] as const) {
        for (const immediate of [true, false]) {
          const c: Config = { ...p, decoder, immediate };
          const d = await startDaemon(lab, opts, c, shim, log);
          try {
            const r = agent<{ ms: number[] }>(lab, { mode: 'latency', log, port: c.port, packets: opts.packets });
            const f = (x: number) => `${x.toFixed(1).padStart(7)} ms`;
            console.log(`${p.label.padEnd(40)}${decoder.padEnd(9)}${(immediate ? '--immediate-mode' : 'without').padEnd(17)}${f(quantile(r.ms, 0.5))} ${f(quantile(r.ms, 0.99))} ${f(Math.max(...r.ms))}`);
          } finally {
            await stopDaemon(d);
          }
        }
      }
    }
    if (opts.flood > 0) {
      console.log(`\nflood: ${opts.flood} UDP datagrams as fast as one sender manages into NFLOG, native decoder with --immediate-mode; per 1,000,000 packets:`);
      console.log('log statement                         sent/s    CPU s (pfasciilogd + tcpdump)   lost (not logged)   tcpdump: dropped by kernel');
      for (const [label, iface, port] of [
        ['log group 7', 'nflog:7', PORT.flood],
        ['log group 8 queue-threshold 1', 'nflog:8', PORT.floodNow],
      ] as const) {
        const c: Config = { label, iface, port, decoder: 'native', immediate: true };
        const d = await startDaemon(lab, opts, c, shim, log);
        try {
          agent(lab, { mode: 'ready', log, port });
          const daemonPid = d.child.pid!; // ip netns exec execs node: this is the daemon
          const tcpdumpPid = childrenOf(daemonPid).find((pid) => /tcpdump/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')));
          const cpu0 = cpuSeconds(daemonPid) + (tcpdumpPid ? cpuSeconds(tcpdumpPid) : 0);
          const r = agent<{ sent: number; seconds: number }>(lab, { mode: 'flood', port, count: opts.flood });
          await sleep(2000); // the last batch, flushed by the kernel's 1 s timer, and written
          const cpu = cpuSeconds(daemonPid) + (tcpdumpPid ? cpuSeconds(tcpdumpPid) : 0) - cpu0;
          await stopDaemon(d);
          const text = fs.readFileSync(log, 'latin1');
          // the flood's lines (the readiness datagrams come from port 19999)
          const logged = text.split('\n').filter((l) => l.includes('"flood"') && !l.includes('.19999 > ') && /\.\d+ > 127\.0\.0\.1\.\d+: UDP/.test(l)).length;
          const dropped = /(\d+) packets dropped by kernel/.exec(text)?.[1] ?? '?';
          const per = 1_000_000 / r.sent;
          console.log(
            `${label.padEnd(36)}${Math.round(r.sent / r.seconds).toString().padStart(8)}    ${(cpu * per).toFixed(1).padStart(8)}                       ${Math.round((r.sent - logged) * per).toString().padStart(8)}            ${dropped === '?' ? '?' : Math.round(Number(dropped) * per)}`,
          );
        } finally {
          await stopDaemon(d);
        }
      }
    }
    return true;
  } finally {
    await lab.destroy();
  }
}

// ---------------------------------------------------------------------------
// the agent, inside the namespace

interface AgentParams {
  mode: 'latency' | 'ready' | 'flood';
  log: string;
  port: number;
  packets: number;
  count: number;
}

/** Resolves when `needle` is in the log past `offset`, or rejects after limitMs; watches with inotify. */
function lineAppears(log: string, offset: number, needle: string, limitMs: number): Promise<number> {
  return new Promise((res, rej) => {
    let done = false;
    const check = () => {
      if (done) return;
      let text = '';
      try {
        const fd = fs.openSync(log, 'r');
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.max(0, size - offset));
        fs.readSync(fd, buf, 0, buf.length, offset);
        fs.closeSync(fd);
        text = buf.toString('latin1');
      } catch {
        return;
      }
      if (text.includes(needle)) {
        done = true;
        const t = now();
        watcher?.close();
        clearInterval(poll);
        clearTimeout(limit);
        res(t);
      }
    };
    let watcher: fs.FSWatcher | undefined;
    try {
      watcher = fs.watch(log, check);
    } catch {
      // not there yet: the poll below finds it
    }
    const poll = setInterval(check, 100);
    const limit = setTimeout(() => {
      done = true;
      watcher?.close();
      clearInterval(poll);
      rej(new Error(`no line with ${needle} within ${limitMs} ms`));
    }, limitMs);
    check();
  });
}

function sendFrom(sport: number, port: number): Promise<number> {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    s.bind(sport, '127.0.0.1', () => {
      const t0 = now();
      s.send('x', port, '127.0.0.1', () => {
        s.close();
        res(t0);
      });
    });
  });
}

async function ready(p: AgentParams): Promise<void> {
  const deadline = now() + 15_000;
  for (;;) {
    await sendFrom(19999, p.port);
    try {
      await lineAppears(p.log, 0, '.19999 > ', 1500);
      break;
    } catch {
      if (now() > deadline) throw new Error('pfasciilogd logged no packet within 15 s');
    }
  }
  await sleep(1500); // a batching path hands over what it still holds
}

async function agentMain(p: AgentParams): Promise<unknown> {
  if (p.mode === 'ready') return ready(p).then(() => ({}));
  if (p.mode === 'latency') {
    await ready(p);
    const ms: number[] = [];
    for (let i = 0; i < p.packets; i++) {
      const sport = 20000 + i;
      const offset = fs.statSync(p.log).size;
      const seen = lineAppears(p.log, offset, `.${sport} > `, LINE_LIMIT_MS);
      const t0 = await sendFrom(sport, p.port);
      ms.push((await seen) - t0);
      await sleep(GAP_MS);
    }
    return { ms };
  }
  // flood: one socket, sends awaited in windows so the socket buffer is not overrun here
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const payload = Buffer.alloc(16);
  const t0 = now();
  let sent = 0;
  while (sent < p.count) {
    const batch = Math.min(256, p.count - sent);
    await Promise.all(Array.from({ length: batch }, () => new Promise<void>((res) => s.send(payload, p.port, '127.0.0.1', () => res()))));
    sent += batch;
  }
  const seconds = (now() - t0) / 1000;
  s.close();
  return { sent, seconds };
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--agent') {
  agentMain(JSON.parse(process.argv[3] ?? '{}') as AgentParams).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
