// Signals. TERM and INT during a flood: a fake tcpdump writes numbered lines
// as fast as the pipe takes them and, when the daemon passes the TERM on,
// records how many it wrote whole and exits. Every one of them must be in the
// file, whole, in order, with nothing missing and nothing extra (so the
// daemon read everything the pipe held), the daemon must exit 0 within 2 s,
// and no tcpdump may be left running. PFASCIILOGD_STRESS_SIGNAL_ROUNDS runs
// more rounds (TERM and INT alternately).
//
// USR1 never opens an inspector: Node's default for SIGUSR1 is to start one,
// listening on process.debugPort. The daemon is run with a debug port chosen
// here (NODE_OPTIONS=--inspect-port) and with none (the default 9229); after
// USR1 nothing may accept connections on the port, and the process may own
// no listening TCP socket at all (/proc/PID/fd against /proc/PID/net/tcp*).
// A plain node process given the same USR1 shows that the check sees an
// inspector when there is one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { Sandbox, TEXT_RELAY, canConnect, events, isFakeRunning, readText, sleep, waitFor } from '../support/daemon-harness.js';
import { unavailable } from '../support/unavailable.js';

const ROUNDS = Number(process.env.PFASCIILOGD_STRESS_SIGNAL_ROUNDS ?? 2);
/** the flood is under way once this much is in the file */
const FLOOD_BYTES = 8 * 1024 * 1024;

test(`TERM and INT during a flood (${ROUNDS} rounds): every line written before is in the file, exit 0 within 2 s, no tcpdump left`, async (t) => {
  const figures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const sig: NodeJS.Signals = round % 2 === 0 ? 'SIGTERM' : 'SIGINT';
    const box = new Sandbox('flood');
    t.after(() => box.cleanup());
    const written = box.path('written');
    const fake = box.fake('flood', { FAKE_REPORT: written });
    const d = box.start([...TEXT_RELAY, '-u', '', '--tcpdump', fake]);
    await waitFor('the flood', () => {
      try {
        return fs.statSync(box.log).size > FLOOD_BYTES;
      } catch {
        return false;
      }
    }, 20_000);
    const before = fs.statSync(box.log).size;
    const sentAt = Date.now();
    d.signal(sig);
    const st = await d.waitExit(5000);
    const ms = Date.now() - sentAt;
    assert.deepEqual(st, { code: 0, signal: null }, `${sig}: exit status; stderr ${d.stderr}`);
    assert.ok(ms < 2000, `${sig}: exited ${ms} ms after the signal`);
    assert.equal(fs.existsSync(box.pidfile), false, 'pidfile removed');
    const pids = box.fakePids();
    assert.equal(pids.length, 1);
    assert.equal(isFakeRunning(pids[0]!), false, 'tcpdump is not left running');

    const n = Number(readText(written).trim());
    assert.ok(n > 0, `the fake recorded how many lines it wrote (${readText(written)})`);
    // every line once, whole, in order; nothing after the last one the fake wrote
    const text = readText(box.log);
    assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
    const lineRe = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d (.*)$/;
    let expected = 1;
    const ev: string[] = [];
    for (let start = 0; start < text.length; ) {
      const nl = text.indexOf('\n', start);
      const m = lineRe.exec(text.slice(start, nl));
      assert.ok(m, `not a stamped line: ${JSON.stringify(text.slice(start, Math.min(nl, start + 120)))}`);
      start = nl + 1;
      const payload = m[1]!;
      if (payload.startsWith('pfasciilogd: ')) {
        ev.push(payload.slice(13));
        continue;
      }
      const sp = payload.indexOf(' ', 4);
      const k = Number(payload.slice(4, sp));
      if (k !== expected || payload !== `seq ${k} ${'x'.repeat((k * 7919) % 61)}`) assert.fail(`${sig}: expected seq ${expected}, got ${JSON.stringify(payload.slice(0, 120))}`);
      expected++;
    }
    assert.equal(expected - 1, n, `${sig}: the file holds lines 1..${expected - 1}; the fake wrote ${n}`);
    assert.deepEqual(ev.slice(-3), [`caught signal ${sig}`, `${fake} exited with status 0`, 'exiting'], JSON.stringify(ev));
    assert.equal(d.stderr, '');
    figures.push(`${sig}: ${n} lines, ${((text.length - before) / 1e6).toFixed(1)} MB written after the signal, exit 0 after ${ms} ms`);
  }
  for (const f of figures) t.diagnostic(f);
});

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The TCP ports a process listens on: its socket inodes among the LISTEN rows of its network namespace's tables. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'latin1');
    } catch {
      continue; // no IPv6
    }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      // sl local_address rem_address st ... inode (column 10)
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

test('SIGUSR1 never opens an inspector: not on process.debugPort, no listening socket at all', async (t) => {
  if (!fs.existsSync('/proc/self/net/tcp')) return unavailable(t, 'needs /proc/PID/net/tcp to see listening sockets');
  const box = new Sandbox('usr1');
  t.after(() => box.cleanup());

  // The control: plain node, given the same signal, does open one, and the checks see it.
  const controlPort = await freePort();
  const control = spawn(process.execPath, [`--inspect-port=127.0.0.1:${controlPort}`, '-e', 'setInterval(() => {}, 1 << 30)'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => control.kill('SIGKILL'));
  let controlErr = '';
  control.stderr!.setEncoding('latin1').on('data', (s: string) => (controlErr += s));
  await sleep(300);
  process.kill(control.pid!, 'SIGUSR1');
  const seen = await waitFor('the control inspector', () => {
    const p = listeningPorts(control.pid!);
    return p.includes(controlPort) ? p : undefined;
  }, 5000).catch(() => null);
  if (seen === null) return unavailable(t, `this node opens no inspector on SIGUSR1 (built without one?): ${controlErr}`);
  assert.equal(await canConnect(controlPort), true, 'the control inspector accepts connections');
  control.kill('SIGKILL');

  // The daemon, with a debug port of ours and with the default one (NODE_OPTIONS empty).
  const port = await freePort();
  const fake = box.fake('argv');
  const daemon = (log: string, nodeOptions: string) =>
    box.start([...TEXT_RELAY, '--tcpdump', fake, '-f', box.path(`${log}.log`), '-p', box.path(`${log}.pid`)], { files: false, env: { NODE_OPTIONS: nodeOptions } });
  const withPort = daemon('a', `--inspect-port=127.0.0.1:${port}`);
  const plain = daemon('b', '');
  for (const [d, log] of [[withPort, 'a'], [plain, 'b']] as const) {
    await box.waitForLine(/^argv /, 5000, box.path(`${log}.log`));
    assert.deepEqual(listeningPorts(d.pid), [], 'nothing listening before');
    for (let i = 0; i < 3; i++) {
      d.signal('SIGUSR1');
      await sleep(100);
    }
  }
  await sleep(500); // more than the control needed
  for (const d of [withPort, plain]) {
    assert.ok(d.running, `still running after SIGUSR1: ${d.stderr}`);
    assert.deepEqual(listeningPorts(d.pid), [], `pid ${d.pid} listens on no TCP port after SIGUSR1`);
    assert.doesNotMatch(d.stderr, /Debugger listening/);
  }
  assert.equal(await canConnect(port), false, `nothing accepts connections on the daemon's debug port ${port}`);
  for (const [d, log] of [[withPort, 'a'], [plain, 'b']] as const) {
    const reopened = events(box.lines(box.path(`${log}.log`))).filter((e) => e === 'log reopened').length;
    assert.equal(reopened, 3, 'each USR1 reopened the log instead');
    d.signal('SIGTERM');
    assert.deepEqual(await d.waitExit(5000), { code: 0, signal: null });
  }
  t.diagnostic(`control: plain node listened on ${controlPort} after SIGUSR1; the daemon (debug port ${port}, and the default) listened on nothing`);
});


test('SIGUSR1 during start-up: an inspector Node opened before any JavaScript ran is closed at once', async (t) => {
  if (!fs.existsSync('/proc/self/net/tcp')) return unavailable(t, 'needs /proc/PID/net/tcp to see listening sockets');
  const box = new Sandbox('usr1start');
  t.after(() => box.cleanup());
  const fake = box.fake('argv');
  // side by side, each signalled at its own moment of its start-up
  const delays = [20, 40, 60, 80, 100, 130, 160, 200, 250, 300];
  const runs = delays.map((ms, i) => {
    const d = box.start([...TEXT_RELAY, '--tcpdump', fake, '-f', box.path(`${i}.log`), '-p', box.path(`${i}.pid`)], {
      files: false,
      env: { NODE_OPTIONS: '--inspect-port=127.0.0.1:0' },
    });
    const timer = setTimeout(() => d.signal('SIGUSR1'), ms);
    return { ms, d, timer };
  });
  t.after(() => runs.forEach((r) => clearTimeout(r.timer)));
  await sleep(Math.max(...delays) + 1500);
  const opened: number[] = [];
  const killed: number[] = [];
  for (const r of runs) {
    if (!r.d.running) {
      // before Node installs any handler the signal's default action ends the process: no port either
      assert.deepEqual(r.d.status, { code: null, signal: 'SIGUSR1' }, `signalled at ${r.ms} ms: ${r.d.stderr}`);
      killed.push(r.ms);
      continue;
    }
    assert.deepEqual(listeningPorts(r.d.pid), [], `signalled ${r.ms} ms into its start-up, pid ${r.d.pid} still listens: ${r.d.stderr}`);
    if (/Debugger listening/.test(r.d.stderr)) opened.push(r.ms);
    r.d.signal('SIGTERM');
    assert.deepEqual(await r.d.waitExit(5000), { code: 0, signal: null }, r.d.stderr);
  }
  t.diagnostic(`USR1 at ${delays.join(', ')} ms: an inspector opened (and was closed) for ${opened.join(', ') || 'none'}; ended by the signal's default action (before Node's handlers): ${killed.join(', ') || 'none'}`);
});
