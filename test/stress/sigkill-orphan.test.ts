// SIGKILL to the daemon: its tcpdump must exit within 1 s, so no capture is
// left running as root with nobody reading it. The reaper (a sh loop, src/
// daemon/reaper.ts) sees the daemon's pipe close and stops tcpdump: TERM, then
// KILL. Checked with fakes (one that waits quietly, one that ignores TERM)
// and with the real tcpdump -Z nobody on the quiet loopback of a network
// namespace of its own, where no packet would ever make it write to the
// closed pipe and die by itself.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { MAIN_JS, Sandbox, TEXT_RELAY, isAlive, sleep, waitFor } from '../support/daemon-harness.js';
import { findTool, unavailable } from '../support/unavailable.js';
import { REAPER_NAME } from '../../src/daemon/reaper.js';

const LIMIT_MS = 1000;

/** The pids of a process's children (Linux /proc). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1').trim();
    if (text !== '') out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Exited: no such process, or a zombie (reparented to a PID 1 that may never reap it; it runs nothing). */
function gone(pid: number): boolean {
  try {
    return !isAlive(pid) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  } catch {
    return true;
  }
}

/** ms from SIGKILL of `daemon` until `pid` is gone; fails past 5 s. */
async function msUntilGone(daemon: number, pid: number): Promise<number> {
  const t0 = Date.now();
  process.kill(daemon, 'SIGKILL');
  await waitFor(`pid ${pid} (${commandOf(pid)}) to exit after the daemon's SIGKILL`, () => gone(pid), 5000);
  return Date.now() - t0;
}

function procAvailable(t: TestContext): boolean {
  if (fs.existsSync('/proc/self/task')) return true;
  unavailable(t, 'needs Linux /proc to find the daemon\'s children');
  return false;
}

/** The daemon's reaper: its child named REAPER_NAME, a shell, not a second node. */
function reaperOf(daemon: number): number {
  const pid = children(daemon).find((p) => commandOf(p).trimEnd().endsWith(` ${REAPER_NAME}`));
  assert.ok(pid, `a reaper among the daemon's children: ${children(daemon).map(commandOf).join('; ')}`);
  assert.notEqual(fs.realpathSync(`/proc/${pid}/exe`), fs.realpathSync(process.execPath), 'the reaper is not a node process');
  return pid;
}

/** Resident and private (anonymous) memory of a process, kB (Linux /proc). */
function memoryKb(pid: number): { rss: number; private: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), private: kb('RssAnon') };
}

test('SIGKILL to the daemon: a tcpdump that waits quietly exits within 1 s, and so does the reaper', { timeout: 20_000 }, async (t) => {
  if (!procAvailable(t)) return;
  const sb = new Sandbox('orphan');
  t.after(() => sb.cleanup());
  const d = sb.start(['-u', '', '--tcpdump', sb.fake('argv'), ...TEXT_RELAY]);
  await sb.waitForLine(/^argv /);
  const [fake] = sb.fakePids();
  const reaper = reaperOf(d.pid);
  const mem = memoryKb(reaper);
  t.diagnostic(`reaper idle: ${mem.rss} kB RSS, ${mem.private} kB private`);
  const ms = await msUntilGone(d.pid, fake!);
  t.diagnostic(`quiet fake tcpdump gone ${ms} ms after SIGKILL`);
  assert.ok(ms <= LIMIT_MS, `gone after ${ms} ms, limit ${LIMIT_MS}`);
  await waitFor('the reaper to exit', () => gone(reaper), 2000);
});

test('SIGKILL to the daemon: a tcpdump that ignores TERM and SIGPIPE is killed within 1 s', { timeout: 20_000 }, async (t) => {
  if (!procAvailable(t)) return;
  const sb = new Sandbox('orphan');
  t.after(() => sb.cleanup());
  // ignored signals stay ignored across exec: sleep can only be KILLed
  const deaf = sb.script('tcpdump-deaf', "trap '' TERM PIPE HUP INT\necho ready\nexec sleep 600");
  const d = sb.start(['-u', '', '--tcpdump', deaf, ...TEXT_RELAY]);
  await sb.waitForLine(/^ready$/);
  const sleeper = await waitFor('the deaf fake to exec sleep', () => children(d.pid).find((p) => commandOf(p).startsWith('sleep')), 5000);
  t.after(() => {
    if (!gone(sleeper)) process.kill(sleeper, 'SIGKILL');
  });
  const ms = await msUntilGone(d.pid, sleeper);
  t.diagnostic(`TERM-deaf fake tcpdump killed ${ms} ms after SIGKILL`);
  assert.ok(ms >= 250, `only KILL stops it, 300 ms after TERM (gone after ${ms} ms)`);
  assert.ok(ms <= LIMIT_MS, `gone after ${ms} ms, limit ${LIMIT_MS}`);
});

test('a daemon stopped with TERM leaves no reaper behind', { timeout: 20_000 }, async (t) => {
  if (!procAvailable(t)) return;
  const sb = new Sandbox('orphan');
  t.after(() => sb.cleanup());
  const d = sb.start(['-u', '', '--tcpdump', sb.fake('argv'), ...TEXT_RELAY]);
  await sb.waitForLine(/^argv /);
  const reaper = reaperOf(d.pid);
  d.signal('SIGTERM');
  assert.deepEqual(await d.waitExit(4000), { code: 0, signal: null });
  await waitFor('the reaper to exit', () => gone(reaper), 2000);
  assert.doesNotMatch(sb.lines().map((l) => l.payload).join('\n'), /reaper exited/, 'its exit is expected, not reported');
});

test('SIGKILL to the daemon: the real tcpdump, dropped to nobody, on a quiet interface, exits within 1 s', { timeout: 30_000 }, async (t) => {
  if (process.getuid?.() !== 0) return unavailable(t, 'needs root (a network namespace and tcpdump -Z)');
  if (!findTool('tcpdump') || !findTool('ip')) return unavailable(t, 'needs tcpdump and ip (Debian: apt-get install tcpdump iproute2)');
  if (!procAvailable(t)) return;
  const ns = `pfal-orphan-${process.pid}`;
  spawnSync('ip', ['netns', 'del', ns]);
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0, 'ip netns add');
  const sb = new Sandbox('orphan');
  t.after(async () => {
    await sb.cleanup();
    spawnSync('ip', ['netns', 'del', ns]);
  });
  spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // `ip netns exec` execs node: the daemon's pid is this child's
  const daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, MAIN_JS, '-i', 'lo', '-u', 'nobody', '-f', sb.log, '-p', sb.pidfile], { stdio: 'ignore' });
  t.after(() => daemon.kill('SIGKILL'));
  await sb.waitForLine(/^pfasciilogd: starting .*tcpdump/, 10_000);
  const tcpdump = await waitFor('tcpdump to run as nobody', () => {
    const pid = children(daemon.pid!).find((p) => /tcpdump/.test(commandOf(p)));
    if (pid === undefined) return undefined;
    const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return uid !== undefined && uid !== '0' ? pid : undefined;
  }, 10_000, 20);
  await sleep(200); // tcpdump is capturing: past its privilege drop, waiting for packets that never come
  const ms = await msUntilGone(daemon.pid!, tcpdump);
  t.diagnostic(`real tcpdump (as nobody) gone ${ms} ms after the daemon's SIGKILL`);
  assert.ok(ms <= LIMIT_MS, `gone after ${ms} ms, limit ${LIMIT_MS}`);
});
