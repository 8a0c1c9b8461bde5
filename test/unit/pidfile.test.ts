import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { acquirePidfile, releasePidfile } from '../../src/daemon/pidfile.js';
import { EX_CANTCREAT, EX_RUNNING, ExitError } from '../../src/util/sysexits.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-pidfile-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  assert.ok(pid > 0);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  return pid;
}

test('acquire writes our pid and a newline; release removes it', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  acquirePidfile(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${process.pid}\n`);
  assert.deepEqual(fs.readdirSync(dir), ['d.pid'], 'no temporary file left behind');
  releasePidfile(p);
  assert.equal(fs.existsSync(p), false);
  releasePidfile(p); // releasing again is harmless
});

test('a live holder is refused, naming its pid; the pidfile is left as it was', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  const holder = process.ppid; // alive: it is running this test
  fs.writeFileSync(p, `${holder}\n`);
  const before = fs.statSync(p);
  assert.throws(
    () => acquirePidfile(p),
    (err: unknown) => {
      assert.ok(err instanceof ExitError);
      assert.equal(err.exitCode, EX_RUNNING);
      assert.equal(EX_RUNNING, 1);
      assert.equal(err.message, `already running as pid ${holder} (pidfile ${p})`);
      return true;
    },
  );
  const after = fs.statSync(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${holder}\n`);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.deepEqual(fs.readdirSync(dir), ['d.pid'], 'no temporary file left behind');
  // and release by a non-holder leaves it alone
  releasePidfile(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${holder}\n`);
});

test('a stale pidfile (dead pid) is replaced', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  fs.writeFileSync(p, `${deadPid()}\n`);
  acquirePidfile(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${process.pid}\n`);
  assert.deepEqual(fs.readdirSync(dir), ['d.pid']);
});

test('garbage, empty or our own pid count as stale', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  for (const content of ['', 'garbage\n', '12ab\n', '-5\n', `${process.pid}\n`, '99999999999999\n']) {
    fs.writeFileSync(p, content);
    acquirePidfile(p);
    assert.equal(fs.readFileSync(p, 'latin1'), `${process.pid}\n`, JSON.stringify(content));
  }
});

test('an explicit pid: a second holder is refused while the first lives', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  acquirePidfile(p, process.pid);
  assert.throws(() => acquirePidfile(p, process.ppid), { message: `already running as pid ${process.pid} (pidfile ${p})` });
  // release only if ours: the other pid does not remove it
  releasePidfile(p, process.ppid);
  assert.equal(fs.readFileSync(p, 'latin1'), `${process.pid}\n`);
  releasePidfile(p, process.pid);
  assert.equal(fs.existsSync(p), false);
});

test('release leaves a pidfile another instance has since taken over', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  acquirePidfile(p);
  fs.writeFileSync(p, `${process.ppid}\n`);
  releasePidfile(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${process.ppid}\n`);
});

test('an unwritable location is EX_CANTCREAT with the path in the message', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'missing-dir', 'd.pid');
  assert.throws(
    () => acquirePidfile(p),
    (err: unknown) => err instanceof ExitError && err.exitCode === EX_CANTCREAT && err.message.startsWith(`cannot write pidfile ${p}: `),
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});
