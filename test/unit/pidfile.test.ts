import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { acquirePidfile, releasePidfile } from '../../src/daemon/pidfile.js';
import { argvNamesPfasciilogd, isPfasciilogd, processIdentity } from '../../src/daemon/process-identity.js';
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

/**
 * A live process of ours, running until the test ends: `node -e SCRIPT`, or
 * `node FILE` when `file` is given. It says "ready" once its title is set.
 */
async function liveProcess(t: TestContext, script: string, file?: string): Promise<number> {
  const body = `${script}; process.stdout.write('ready'); setInterval(() => {}, 1e9);`;
  if (file !== undefined) fs.writeFileSync(file, body);
  const child = spawn(process.execPath, file !== undefined ? [file] : ['-e', body], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the helper process exited (${code}) before it was ready`)));
  });
  return child.pid!;
}

/** A live process titled as the daemon titles itself. */
const livePfasciilogd = (t: TestContext) => liveProcess(t, "process.title = 'pfasciilogd'");

function assertRefusedAsRunning(p: string, holder: number, pid?: number): void {
  assert.throws(
    () => acquirePidfile(p, pid),
    (err: unknown) => {
      assert.ok(err instanceof ExitError);
      assert.equal(err.exitCode, EX_RUNNING);
      assert.equal(err.message, `already running as pid ${holder} (pidfile ${p})`);
      return true;
    },
  );
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

test('a live pfasciilogd holder is refused, naming its pid; the pidfile is left as it was', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  const holder = await livePfasciilogd(t);
  fs.writeFileSync(p, `${holder}\n`);
  const before = fs.statSync(p);
  assertRefusedAsRunning(p, holder);
  assert.equal(EX_RUNNING, 1);
  const after = fs.statSync(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${holder}\n`);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.deepEqual(fs.readdirSync(dir), ['d.pid'], 'no temporary file left behind');
  // and release by a non-holder leaves it alone
  releasePidfile(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${holder}\n`);
});

test('a live pfasciilogd started as rc.d starts it (node .../pfasciilogd, no title) is refused too', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  const holder = await liveProcess(t, '0', path.join(dir, 'pfasciilogd'));
  fs.writeFileSync(p, `${holder}\n`);
  assertRefusedAsRunning(p, holder);
});

test('a stale pidfile naming a live process that is not pfasciilogd (pid 1, a sleeping node) is replaced', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  const other = await liveProcess(t, "process.title = 'pfasciilogd-not'");
  for (const pid of [1, process.ppid, other]) {
    assert.ok(processIdentity(pid) !== null, `pid ${pid} is alive`);
    fs.writeFileSync(p, `${pid}\n`);
    acquirePidfile(p);
    assert.equal(fs.readFileSync(p, 'latin1'), `${process.pid}\n`, `pid ${pid}`);
    assert.deepEqual(fs.readdirSync(dir), ['d.pid']);
  }
});

test('identity: /proc and ps agree on a titled daemon, an rc.d-style start, and a plain node', async (t) => {
  const dir = tempDir(t);
  const titled = await livePfasciilogd(t);
  const script = await liveProcess(t, '0', path.join(dir, 'pfasciilogd'));
  const plain = await liveProcess(t, '0');
  for (const source of ['proc', 'ps'] as const) {
    if (source === 'proc' && !fs.existsSync('/proc/self/cmdline')) continue;
    assert.equal(isPfasciilogd(titled, source), true, `${source}: titled`);
    assert.equal(isPfasciilogd(script, source), true, `${source}: node .../pfasciilogd`);
    assert.equal(isPfasciilogd(plain, source), false, `${source}: plain node`);
    assert.equal(isPfasciilogd(deadPid(), source), false, `${source}: dead`);
    assert.equal(processIdentity(titled, source)?.argv[0], 'pfasciilogd', `${source}: what the title shows`);
    assert.equal(processIdentity(plain, source)?.euid, process.geteuid!());
  }
});

test('identity: the argument lists that name pfasciilogd, and those that do not', () => {
  for (const argv of [
    ['pfasciilogd'],
    ['node:', 'pfasciilogd'],
    ['node:', 'pfasciilogd', '(node)'],
    ['/usr/local/bin/node', '/usr/local/bin/pfasciilogd', '-p', '/var/run/pfasciilogd.pid', '-i', 'pflog0'],
    ['node', '--max-old-space-size=64', '/usr/bin/pfasciilogd'],
    ['node', '/usr/local/lib/node_modules/pfasciilogd/dist/bin/pfasciilogd.js', '-i', 'pflog0'],
  ]) {
    assert.equal(argvNamesPfasciilogd(argv), true, JSON.stringify(argv));
  }
  for (const argv of [
    [],
    ['/sbin/init'],
    ['pfasciilogd-evil'],
    ['vi', '/usr/local/bin/pfasciilogd'],
    ['node', '/usr/local/bin/other', 'pfasciilogd'],
    ['node', 'dist/src/cli/main.js'],
    ['node', 'pfasciilogd.jsx'],
  ]) {
    assert.equal(argvNamesPfasciilogd(argv), false, JSON.stringify(argv));
  }
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

test('an explicit pid: a second holder is refused while the first lives', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  const first = await livePfasciilogd(t);
  acquirePidfile(p, first);
  assertRefusedAsRunning(p, first, process.pid);
  // release only if ours: the other pid does not remove it
  releasePidfile(p, process.pid);
  assert.equal(fs.readFileSync(p, 'latin1'), `${first}\n`);
  releasePidfile(p, first);
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

test('symlinks planted at the names the old code wrote through: their targets untouched', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  const target = path.join(dir, 'precious');
  fs.writeFileSync(target, 'precious\n', { mode: 0o600 });
  // the temporary names of this and the next few pids
  const planted = [0, 1, 2, 3].map((k) => `${p}.${process.pid + k}.tmp`);
  for (const l of planted) fs.symlinkSync(target, l);
  acquirePidfile(p);
  assert.equal(fs.readFileSync(target, 'latin1'), 'precious\n');
  assert.equal(fs.statSync(target).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(p, 'latin1'), `${process.pid}\n`);
  assert.equal(fs.lstatSync(p).isFile(), true);
  for (const l of planted) assert.equal(fs.lstatSync(l).isSymbolicLink(), true, 'not ours: left alone');
  releasePidfile(p);
  assert.equal(fs.readFileSync(target, 'latin1'), 'precious\n');
});

test('a pidfile that is a symlink, a dangling symlink, a directory or a FIFO: refused (EX_CANTCREAT), left alone', (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'precious');
  fs.writeFileSync(target, 'precious\n');
  const cases: Array<[string, (p: string) => void, RegExp]> = [
    ['link.pid', (p) => fs.symlinkSync(target, p), /is a symbolic link, not a regular file; refusing to replace it/],
    ['dangling.pid', (p) => fs.symlinkSync(path.join(dir, 'nowhere'), p), /is a symbolic link/],
    ['dir.pid', (p) => fs.mkdirSync(p), /is a directory, not a regular file/],
  ];
  if (spawnSync('mkfifo', ['--help']).status === 0) cases.push(['fifo.pid', (p) => spawnSync('mkfifo', [p]), /is a FIFO, not a regular file/]);
  for (const [name, make, message] of cases) {
    const p = path.join(dir, name);
    make(p);
    const before = fs.lstatSync(p);
    assert.throws(
      () => acquirePidfile(p),
      (err: unknown) => err instanceof ExitError && err.exitCode === EX_CANTCREAT && message.test(err.message) && err.message.startsWith(`pidfile ${p} `),
      name,
    );
    const after = fs.lstatSync(p);
    assert.equal(after.ino, before.ino, `${name} left in place`);
    assert.equal(after.mode, before.mode);
  }
  assert.equal(fs.readFileSync(target, 'latin1'), 'precious\n');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');
});

test('release is not fooled: a pidfile replaced since (same pid in it, or a link) is left alone', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  acquirePidfile(p);
  // another file put in its place, with our pid in it
  fs.writeFileSync(`${p}.new`, `${process.pid}\n`);
  fs.renameSync(`${p}.new`, p);
  releasePidfile(p);
  assert.equal(fs.readFileSync(p, 'latin1'), `${process.pid}\n`, 'not the file we published: left');
  fs.rmSync(p);
  acquirePidfile(p);
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, `${process.pid}\n`);
  fs.rmSync(p);
  fs.symlinkSync(target, p);
  releasePidfile(p);
  assert.equal(fs.lstatSync(p).isSymbolicLink(), true, 'a symlink in its place: left');
  assert.equal(fs.readFileSync(target, 'latin1'), `${process.pid}\n`);
});

test('the pidfile is mode 0644 whatever the umask', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'd.pid');
  const old = process.umask(0o077);
  t.after(() => process.umask(old));
  acquirePidfile(p);
  assert.equal(fs.statSync(p).mode & 0o777, 0o644);
});
