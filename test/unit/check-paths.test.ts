// `pfasciilogd check`, the log file and pidfile locations.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkLogFile, checkPidFile } from '../../src/check/paths.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-check-paths-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('log file: missing (created by the daemon), regular, symlink, directory, FIFO', (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'pf.log');
  assert.equal(checkLogFile(log).status, 'ok');
  assert.match(checkLogFile(log).detail, /does not exist yet; the daemon creates it/);
  fs.writeFileSync(log, 'x\n');
  assert.deepEqual(checkLogFile(log), { status: 'ok', subject: `log file ${log}`, detail: 'regular file, 2 bytes, writable' });
  const link = path.join(dir, 'link.log');
  fs.symlinkSync(log, link);
  const l = checkLogFile(link);
  assert.equal(l.status, 'problem');
  assert.match(l.detail, /a symbolic link to .*pf\.log, which the daemon refuses to write through/);
  assert.match(l.fix!, /rm .*link\.log/);
  const dangling = path.join(dir, 'dangling.log');
  fs.symlinkSync(path.join(dir, 'nowhere'), dangling);
  assert.equal(checkLogFile(dangling).status, 'problem');
  const sub = path.join(dir, 'sub');
  fs.mkdirSync(sub);
  assert.match(checkLogFile(sub).detail, /a directory, not a regular file/);
  const fifo = path.join(dir, 'fifo');
  if (spawnSync('mkfifo', [fifo]).status === 0) assert.match(checkLogFile(fifo).detail, /a FIFO/);
});

test('log file and pidfile: their directory missing, or a file', (t) => {
  const dir = tempDir(t);
  const missing = checkLogFile(path.join(dir, 'no/such/pf.log'));
  assert.equal(missing.status, 'problem');
  assert.match(missing.detail, /directory .*no\/such does not exist/);
  assert.match(missing.fix!, /mkdir -p .*no\/such/);
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, '');
  const under = checkPidFile(path.join(file, 'p.pid'));
  assert.equal(under.status, 'problem');
  assert.match(under.detail, /file is a file, not a directory/);
  assert.match(under.fix!, /pass -p/);
  const deeper = checkLogFile(path.join(file, 'x', 'pf.log'));
  assert.equal(deeper.status, 'problem');
  assert.match(deeper.detail, /not a directory/);
});

test('pidfile: missing, stale, naming a live process, a directory', (t) => {
  const dir = tempDir(t);
  const pid = path.join(dir, 'p.pid');
  assert.match(checkPidFile(pid).detail, /does not exist yet/);
  fs.writeFileSync(pid, `${process.pid}\n`);
  assert.match(checkPidFile(pid).detail, new RegExp(`names running pid ${process.pid}`));
  fs.writeFileSync(pid, 'garbage\n');
  assert.match(checkPidFile(pid).detail, /stale/);
  fs.rmSync(pid);
  fs.mkdirSync(pid);
  assert.equal(checkPidFile(pid).status, 'problem');
});
