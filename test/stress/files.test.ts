// Files. A log directory removed while the daemon writes (rm -rf), then
// created again: reported on stderr and, once back, in the log; not fatal;
// every line is accounted for: in the removed file (written before the
// daemon noticed), counted as dropped, or in the new file, which has every
// line written after the directory came back. The pidfile is written
// atomically (a reader polling it through many starts, some over a stale
// pidfile, never sees it empty or partial) and removed on exit. A symlink at
// the log path is refused at start with a clear error, nothing written
// through it. (A second instance and a stale pidfile: test/integration/daemon.test.ts;
// a symlink put in place at a reopen: test/unit/log-file.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox, TEXT_RELAY, events, parseLog, readText, sleep, waitFor } from '../support/daemon-harness.js';

const STARTS = Number(process.env.PFASCIILOGD_STRESS_PIDFILE_STARTS ?? 20);

/** The tick numbers and their write times (ms) in log text, in file order. */
function ticks(text: string): Array<{ n: number; at: number }> {
  return [...text.matchAll(/ tick (\d+) (\d+)$/gm)].map((m) => ({ n: Number(m[1]), at: Number(m[2]) }));
}

function assertConsecutive(list: Array<{ n: number }>, what: string): void {
  for (let i = 1; i < list.length; i++) if (list[i]!.n !== list[i - 1]!.n + 1) assert.fail(`${what}: tick ${list[i]!.n} after ${list[i - 1]!.n}`);
}

test('the log directory removed and created again: reported, retried, every line accounted for, lines after its return all arrive', async (t) => {
  const box = new Sandbox('logdir');
  t.after(() => box.cleanup());
  const logs = box.path('logs');
  fs.mkdirSync(logs);
  const log = path.join(logs, 'pf.log');
  const d = box.start([...TEXT_RELAY, '-u', '', '--tcpdump', box.fake('tick', { FAKE_COUNT: 1e6, FAKE_INTERVAL_MS: 10 }), '-f', log, '-p', box.pidfile], { files: false });
  await box.waitForLine(/^tick 20 /, 10_000, log);
  const old = fs.openSync(log, 'r'); // what still reaches the removed file stays readable through this
  t.after(() => fs.closeSync(old));
  const removedAt = Date.now();
  fs.rmSync(logs, { recursive: true });
  await waitFor('the removal reported on stderr', () => /cannot reopen log/.test(d.stderr), 3000);
  const noticedMs = Date.now() - removedAt;
  await sleep(1000);
  assert.ok(d.running, `still running without its log directory; stderr: ${d.stderr}`);
  const backAt = Date.now();
  fs.mkdirSync(logs);
  await waitFor('lines in the new log', () => ticks(readText(log)).some((x) => x.at > backAt + 300), 5000);
  d.signal('SIGTERM');
  assert.deepEqual(await d.waitExit(5000), { code: 0, signal: null }, d.stderr);

  const warnings = d.stderr.split('\n').filter(Boolean);
  assert.equal(warnings.filter((w) => /pf\.log was removed; creating it again/.test(w)).length, 1, d.stderr);
  assert.equal(warnings.filter((w) => /^pfasciilogd: cannot reopen log: .*pf\.log: .*ENOENT.*; retrying every 1 s$/.test(w)).length, 1, d.stderr);
  assert.equal(warnings.length, 2, `reported once, not per line: ${d.stderr}`);

  const size = fs.fstatSync(old).size;
  const buf = Buffer.alloc(size);
  fs.readSync(old, buf, 0, size, 0);
  const dead = ticks(buf.toString('latin1'));
  const lines = parseLog(readText(log), 'new log');
  const report = /^pfasciilogd: (\d+) lines dropped: log file removed$/.exec(lines[0]?.payload ?? '');
  assert.ok(report, `the new log starts with the drop report: ${JSON.stringify(lines.slice(0, 3))}`);
  assert.equal(lines[1]!.payload, 'pfasciilogd: log reopened');
  const dropped = Number(report[1]);
  const fresh = ticks(readText(log));
  assertConsecutive(dead, 'removed file');
  assertConsecutive(fresh, 'new file');
  assert.equal(dead[0]!.n, 1);
  const lastDead = dead.at(-1)!.n;
  const firstFresh = fresh[0]!.n;
  assert.ok(dropped > 0, 'lines came while the directory was gone');
  assert.equal(firstFresh - lastDead - 1, dropped, `every tick is in the removed file (1..${lastDead}), counted as dropped (${dropped}), or in the new file (${firstFresh}..)`);
  // lines written after the directory came back all arrive: the first one kept
  // was written as it came back (waiting for the 1 s retry timer would lose up to a second)
  assert.ok(dead.at(-1)!.at <= backAt, 'nothing was written into the removed file after the directory came back');
  assert.ok(Math.abs(fresh[0]!.at - backAt) <= 100, `the first line kept was written ${fresh[0]!.at - backAt} ms after the directory came back`);
  assert.ok(fresh.at(-1)!.at > backAt + 300);
  assert.equal(events(lines).at(-1), 'exiting');
  t.diagnostic(`removal noticed and reported ${noticedMs} ms after rm -rf; ${dead.filter((x) => x.at > removedAt).length} ticks written after rm -rf went to the removed file first, ${dropped} dropped and counted, ${fresh.length} in the new file`);
});

const READER = `
const fs = require('fs');
const [file, stop] = process.argv.slice(1);
let reads = 0, pids = 0, absent = 0, badCount = 0;
const bad = [];
const deadline = Date.now() + 120000;
while (!fs.existsSync(stop) && Date.now() < deadline) {
  for (let i = 0; i < 500; i++) {
    let s;
    try { s = fs.readFileSync(file, 'latin1'); } catch { absent++; continue; }
    reads++;
    if (/^[0-9]+\\n$/.test(s)) pids++;
    else { badCount++; if (bad.length < 5) bad.push(s); }
  }
}
process.stdout.write(JSON.stringify({ reads, pids, absent, badCount, bad }));
`;

test(`the pidfile through ${STARTS} starts: a reader never sees it empty or partial; it names the daemon and is removed on exit`, async (t) => {
  const box = new Sandbox('pidrace');
  t.after(() => box.cleanup());
  const stop = box.path('stop');
  const reader = spawn(process.execPath, ['-e', READER, box.pidfile, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  reader.stdout!.setEncoding('latin1').on('data', (s: string) => (out += s));
  const readerDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
  t.after(() => reader.kill('SIGKILL'));
  const fake = box.fake('argv');
  const deadPid = () => {
    const r = spawn(process.execPath, ['-e', '0']);
    return new Promise<number>((resolve) => r.on('close', () => resolve(r.pid!)));
  };
  let staleReplaced = 0;
  for (let i = 0; i < STARTS; i++) {
    if (i % 3 === 2) {
      // a stale pidfile left by a crash, put in place atomically as a crash would have left it
      fs.writeFileSync(`${box.pidfile}.stale`, `${await deadPid()}\n`);
      fs.renameSync(`${box.pidfile}.stale`, box.pidfile);
      staleReplaced++;
    }
    const d = box.start([...TEXT_RELAY, '-u', '', '--tcpdump', fake]);
    await waitFor(`start ${i + 1}: the pidfile naming the daemon`, () => box.readPidfile() === d.pid || !d.running, 10_000, 1);
    assert.ok(d.running, `start ${i + 1}: ${d.stderr}`);
    d.signal('SIGTERM');
    assert.deepEqual(await d.waitExit(5000), { code: 0, signal: null }, d.stderr);
    assert.equal(fs.existsSync(box.pidfile), false, `start ${i + 1}: removed on exit`);
  }
  fs.writeFileSync(stop, '');
  await readerDone;
  const r = JSON.parse(out) as { reads: number; pids: number; absent: number; badCount: number; bad: string[] };
  assert.equal(r.badCount, 0, `the reader saw an empty or partial pidfile ${r.badCount} times: ${JSON.stringify(r.bad)}`);
  assert.ok(r.pids > STARTS, `the reader saw the pidfile (${r.pids} reads)`);
  assert.deepEqual(fs.readdirSync(box.dir).filter((f) => f.includes('pfasciilogd.pid')), [], 'no temporary pidfiles left');
  t.diagnostic(`${STARTS} starts (${staleReplaced} over a stale pidfile): ${r.reads + r.absent} reads, ${r.pids} saw a whole pid, ${r.absent} no file, 0 empty or partial`);
});

test('a symlink at the log path: refused at start with a clear error, nothing written through it, pidfile removed', async (t) => {
  const box = new Sandbox('symlink');
  t.after(() => box.cleanup());
  const target = box.path('target');
  fs.writeFileSync(target, 'precious\n');
  fs.symlinkSync(target, box.log);
  const r = await box.run([...TEXT_RELAY, '-u', '', '--tcpdump', box.fake('argv')]);
  assert.equal(r.code, 73, `EX_CANTCREAT; stderr ${r.stderr}`);
  assert.equal(r.stderr, `pfasciilogd: cannot open log: ${box.log}: is a symbolic link; refusing to write through it\n`);
  assert.equal(readText(target), 'precious\n');
  assert.equal(fs.lstatSync(box.log).isSymbolicLink(), true, 'the link left alone');
  assert.equal(fs.existsSync(box.pidfile), false);
  assert.deepEqual(box.fakePids(), [], 'no tcpdump started');
});
