// `pfasciilogd check`, the log file and pidfile locations.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkLogFile, checkPidFile } from '../../src/check/paths.js';
import { unavailable } from '../support/unavailable.js';

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
  if (spawnSync('mkfifo', [fifo]).status === 0) {
    assert.match(checkLogFile(fifo).detail, /a FIFO, not a regular file that fail2ban can read/);
    // an -o output may be a FIFO, as the daemon accepts one of its user's
    const out = checkLogFile(fifo, `-o filterlog:${fifo}`);
    assert.equal(out.status, 'ok', out.detail);
    assert.match(out.detail, /a FIFO of the daemon's user; start its reader before the daemon/);
  }
  assert.equal(checkLogFile('/dev/null', '-o json:/dev/null').status, 'ok', 'a character device as an -o output');
  assert.equal(checkLogFile('/dev/null').status, 'problem', '-f is what fail2ban reads');
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

/** A live process titled as the daemon titles itself, until the test ends. */
async function livePfasciilogd(t: TestContext): Promise<number> {
  const child = spawn(process.execPath, ['-e', "process.title = 'pfasciilogd'; process.stdout.write('ready'); setInterval(() => {}, 1e9)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`exited (${code}) before it was ready`)));
  });
  return child.pid!;
}

test('pidfile: missing, stale, naming a running pfasciilogd or another live process, a directory, a symlink', async (t) => {
  const dir = tempDir(t);
  const pid = path.join(dir, 'p.pid');
  assert.match(checkPidFile(pid).detail, /does not exist yet/);
  const daemon = await livePfasciilogd(t);
  fs.writeFileSync(pid, `${daemon}\n`);
  assert.deepEqual(checkPidFile(pid), { status: 'ok', subject: `pidfile ${pid}`, detail: `names pid ${daemon}, a running pfasciilogd (with this pidfile a second instance refuses to start)` });
  fs.writeFileSync(pid, `${process.pid}\n`);
  assert.equal(checkPidFile(pid).detail, `stale: pid ${process.pid} is running but is not pfasciilogd; the daemon replaces it`);
  fs.writeFileSync(pid, 'garbage\n');
  assert.match(checkPidFile(pid).detail, /stale/);
  fs.rmSync(pid);
  fs.mkdirSync(pid);
  assert.equal(checkPidFile(pid).status, 'problem');
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, `${daemon}\n`);
  const link = path.join(dir, 'link.pid');
  fs.symlinkSync(target, link);
  const l = checkPidFile(link);
  assert.equal(l.status, 'problem');
  assert.equal(l.detail, 'a symbolic link, not a pidfile: the daemon refuses to start with it (exit 73)');
});

test('log file: a hard link, a mode others can write', (t) => {
  const dir = tempDir(t);
  const other = path.join(dir, 'other');
  fs.writeFileSync(other, 'x\n');
  const log = path.join(dir, 'pf.log');
  fs.linkSync(other, log);
  const l = checkLogFile(log);
  assert.equal(l.status, 'problem');
  assert.equal(l.detail, 'has 2 links (a hard link to another file), which the daemon refuses to write through');
  assert.match(l.fix!, /^rm .*pf\.log \(the daemon creates it\)/);
  fs.rmSync(log);
  fs.writeFileSync(log, 'x\n');
  fs.chmodSync(log, 0o666);
  assert.deepEqual(checkLogFile(log), { status: 'problem', subject: `log file ${log}`, detail: 'writable by others (mode 0666): they can add lines that fail2ban acts on', fix: `chmod 640 ${log}` });
  fs.chmodSync(log, 0o640);
  assert.equal(checkLogFile(log).status, 'ok');
});

test('the log or pidfile directory, or one above it, writable by group or others without the sticky bit', (t) => {
  const dir = tempDir(t);
  const open = path.join(dir, 'open');
  fs.mkdirSync(open);
  for (const [mode, who] of [
    [0o777, 'others'],
    [0o770, 'its group'],
    [0o757, 'others'],
  ] as const) {
    fs.chmodSync(open, mode);
    for (const r of [checkLogFile(path.join(open, 'pf.log')), checkPidFile(path.join(open, 'p.pid'))]) {
      assert.equal(r.status, 'problem', `${mode.toString(8)}: ${r.detail}`);
      assert.equal(r.detail, `directory ${open} (mode 0${mode.toString(8)}) is writable by ${who} without the sticky bit: they can replace the file or put a link in its place`);
      assert.match(r.fix!, new RegExp(`^chmod go-w ${open}, or pass -[fp] with a path in a directory only root can write$`));
    }
  }
  // one level up counts too: whoever can rename `open` can put another directory in its place
  fs.chmodSync(open, 0o777);
  const below = path.join(open, 'below');
  fs.mkdirSync(below, { mode: 0o755 });
  assert.match(checkLogFile(path.join(below, 'pf.log')).detail, new RegExp(`^directory ${open} \\(mode 0777\\) is writable by others`));
  // sticky and root's (as /tmp is), or only ours: fine
  fs.chmodSync(open, 0o755);
  assert.equal(checkLogFile(path.join(below, 'pf.log')).status, 'ok');
  assert.equal(fs.statSync(os.tmpdir()).mode & 0o1000, 0o1000, `${os.tmpdir()} is sticky`);
  if (process.geteuid?.() === 0) {
    fs.chmodSync(open, 0o1777);
    assert.equal(checkLogFile(path.join(open, 'pf.log')).status, 'ok', 'sticky and root-owned');
  }
});

test("a sticky directory not root's, a directory of another user, a log of another user (root only)", (t) => {
  if (process.geteuid?.() !== 0) {
    unavailable(t, 'needs root, to give a directory to another user');
    return;
  }
  const dir = tempDir(t);
  const sticky = path.join(dir, 'sticky');
  fs.mkdirSync(sticky);
  fs.chmodSync(sticky, 0o1777);
  fs.chownSync(sticky, 65534, 65534);
  const s = checkLogFile(path.join(sticky, 'pf.log'));
  assert.equal(s.status, 'problem');
  assert.equal(s.detail, `directory ${sticky} (mode 1777) is sticky but owned by uid 65534, not root: its owner can replace the file or put a link in its place`);
  assert.match(s.fix!, new RegExp(`^chown root ${sticky}, or pass -f `));
  const theirs = path.join(dir, 'theirs');
  fs.mkdirSync(theirs, { mode: 0o755 });
  fs.chownSync(theirs, 65534, 65534);
  const p = checkPidFile(path.join(theirs, 'p.pid'));
  assert.equal(p.status, 'problem');
  assert.equal(p.detail, `directory ${theirs} is owned by uid 65534, who can replace the file or put a link in its place`);
  const log = path.join(dir, 'pf.log');
  fs.writeFileSync(log, '');
  fs.chownSync(log, 65534, 65534);
  assert.match(checkLogFile(log).detail, /^owned by uid 65534, not by uid 0, the daemon's \(run as root\): the daemon refuses to write to it$/);
});
