// Disk full: the log lives on a small tmpfs that fills while a fake tcpdump
// keeps printing numbered lines. The daemon must keep running, leave no
// partial line, count what it drops, say so on stderr once (not per line),
// and resume by itself once a rotation frees the space, reporting the count
// in the new file. Needs root (mount).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Daemon, Sandbox, TEXT_RELAY, parseLog, readText, sleep, waitFor } from '../support/daemon-harness.js';
import { unavailable } from '../support/unavailable.js';


const COUNT = 5000;

test('a full disk: no partial line, drops counted and reported, writing resumes after rotation', async (t) => {
  if (process.getuid?.() !== 0) return unavailable(t, 'needs root to mount a small tmpfs');
  const box = new Sandbox('diskfull');
  const logs = box.path('logs');
  fs.mkdirSync(logs);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', logs], { encoding: 'utf8' });
  if (mount.status !== 0) return unavailable(t, `cannot mount tmpfs: ${mount.stderr.trim()}`);
  const log = path.join(logs, 'pf.log');
  let daemon: Daemon | null = null;
  t.after(async () => {
    daemon?.signal('SIGKILL');
    spawnSync('umount', ['-l', logs]);
    await box.cleanup(); // also kills a fake left behind
  });
  const fake = box.fake('numbered', { FAKE_COUNT: COUNT, FAKE_PER_TICK: 1 });
  daemon = new Daemon([...TEXT_RELAY, '-u', '', '--tcpdump', fake, '-f', log, '-p', box.pidfile]);
  await waitFor('the disk to fill', () => /write failed/.test(daemon!.stderr), 15000);
  await sleep(300);
  assert.ok(daemon.running, 'still running with the disk full');
  const full = readText(log);
  assert.ok(full.endsWith('\n'), 'no partial line at the end of the full file');
  const first = parseLog(full, 'full log');
  // rotate the way newsyslog does, with the old file taken off the disk
  fs.renameSync(log, `${log}.0`);
  fs.rmSync(`${log}.0`);
  daemon.signal('SIGHUP');
  await waitFor('the fake to finish', () => / done$/m.test(readText(log)), 20000);
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitExit(5000)).code, 0);

  const second = parseLog(readText(log), 'new log');
  const report = second.map((l) => /^pfasciilogd: (\d+) lines dropped: write failed: .*ENOSPC/.exec(l.payload)).find((m) => m !== null);
  assert.ok(report, `the new file reports the drops:\n${second.slice(0, 5).map((l) => l.payload).join('\n')}`);
  const dropped = Number(report![1]);
  const seqs = [...first, ...second].map((l) => /^seq (\d+) /.exec(l.payload)).filter((m) => m !== null).map((m) => Number(m![1]));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `in order, no duplicates: ${seqs[i - 1]} then ${seqs[i]}`);
  assert.equal(seqs.length + dropped, COUNT, `every line either written or counted as dropped (${seqs.length} written, ${dropped} dropped)`);
  assert.ok(dropped > 0);
  const warnings = daemon.stderr.split('\n').filter((l) => /write failed/.test(l));
  assert.equal(warnings.length, 1, `reported once, not per line:\n${daemon.stderr}`);
  assert.match(warnings[0]!, /^pfasciilogd: .*pf\.log: write failed: .*ENOSPC/);
  t.diagnostic(`${COUNT} lines on a 256 KiB tmpfs: ${seqs.length} written, ${dropped} dropped and counted, 1 stderr warning, no partial line; resumed after a rotation`);
});
