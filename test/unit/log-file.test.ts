import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { syncBuiltinESMExports } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import { LOG_MODE, LogFile, openLogFile } from '../../src/sink/log-file.js';
import { unavailable } from '../support/unavailable.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-logfile-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (p: string) => fs.statSync(p).mode & 0o7777;
const read = (p: string) => fs.readFileSync(p, 'latin1');

type WriteFn = (fd: number, buf: Buffer, off: number, len: number, pos: number | null, cb: (err: NodeJS.ErrnoException | null, n: number) => void) => void;

/**
 * Replaces fs.write, as seen by src/sink/log-file.ts, for the rest of the test.
 * `impl` gets the real write to call; every call is recorded.
 */
function patchWrite(t: TestContext, impl?: (real: WriteFn, fd: number, buf: Buffer, off: number, len: number, pos: number | null, cb: (err: NodeJS.ErrnoException | null, n: number) => void) => void) {
  const real = fs.write as unknown as WriteFn;
  const calls: Array<{ len: number; text: string }> = [];
  (fs as unknown as { write: WriteFn }).write = (fd, buf, off, len, pos, cb) => {
    calls.push({ len, text: buf.subarray(off, off + len).toString('latin1') });
    if (impl) impl(real, fd, buf, off, len, pos, cb);
    else real(fd, buf, off, len, pos, cb);
  };
  syncBuiltinESMExports();
  t.after(() => {
    (fs as unknown as { write: WriteFn }).write = real;
    syncBuiltinESMExports();
  });
  return calls;
}

function lines(from: number, to: number, prefix = 'line'): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${prefix} ${i}\n`;
  return s;
}

test('creates the file 0640, whatever the umask', async (t) => {
  const dir = tempDir(t);
  const old = process.umask(0o077);
  t.after(() => process.umask(old));
  for (const umask of [0o077, 0o022, 0o000]) {
    process.umask(umask);
    const p = path.join(dir, `new-${umask.toString(8)}.log`);
    const log = new LogFile(p);
    assert.equal(LOG_MODE, 0o640);
    assert.equal(mode(p), 0o640, `umask ${umask.toString(8)}`);
    await log.close();
  }
});

test('an existing file keeps its mode (only a file the daemon creates is made 0640); one writable by group or others is warned about', async (t) => {
  const dir = tempDir(t);
  const expected: Array<[number, RegExp | null]> = [
    [0o644, null],
    [0o600, null],
    [0o4640, null],
    [0o755, null],
    [0o660, /is writable by its group \(mode 0660\): they can add lines that fail2ban acts on; chmod 640 it$/],
    [0o666, /is writable by others \(mode 0666\)/],
  ];
  for (const [m, warning] of expected) {
    const p = path.join(dir, `old-${m.toString(8)}.log`);
    fs.writeFileSync(p, 'kept\n');
    fs.chmodSync(p, m);
    const warnings: string[] = [];
    const log = new LogFile(p, { warn: (w) => warnings.push(w) });
    assert.equal(mode(p), m, `${m.toString(8)} left alone`);
    log.write(Buffer.from('appended\n'));
    await log.close();
    assert.equal(read(p), 'kept\nappended\n');
    if (warning === null) assert.deepEqual(warnings, [], m.toString(8));
    else {
      assert.equal(warnings.length, 1, m.toString(8));
      assert.ok(warnings[0]!.startsWith(`${p} is writable by `));
      assert.match(warnings[0]!, warning);
    }
  }
});

test('refuses a hard link at the log path: the other file is neither written nor chmodded', (t) => {
  const dir = tempDir(t);
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 'secret\n', { mode: 0o600 });
  fs.chmodSync(secret, 0o600);
  const p = path.join(dir, 'pf.log');
  fs.linkSync(secret, p);
  assert.throws(() => new LogFile(p), { message: `${p}: has 2 links (a hard link to another file); refusing to write through it` });
  assert.equal(read(secret), 'secret\n');
  assert.equal(mode(secret), 0o600);
});

/** Root is needed to give a file to another user. */
function asRoot(t: TestContext): boolean {
  if (process.geteuid?.() === 0) return true;
  unavailable(t, 'needs root, to make a file owned by another user');
  return false;
}

test("refuses a file, or a FIFO, owned by another user: someone else's file is not ours to write or chmod", async (t) => {
  if (!asRoot(t)) return;
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  fs.writeFileSync(p, 'theirs\n', { mode: 0o644 });
  fs.chownSync(p, 65534, 65534);
  assert.throws(() => new LogFile(p), { message: `${p}: owned by uid 65534, not by the daemon's uid 0; refusing to write to it` });
  assert.equal(read(p), 'theirs\n');
  assert.equal(mode(p), 0o644);

  const fifo = path.join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  fs.chownSync(fifo, 65534, 65534);
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'ignore', 'inherit'] }); // without a reader, the open fails with ENXIO first
  t.after(() => reader.kill('SIGKILL'));
  let message = '';
  for (let i = 0; i < 100; i++) {
    assert.throws(() => openLogFile(fifo), (err: Error) => ((message = err.message), true));
    if (!/no reader/.test(message)) break;
    spawnSync('sleep', ['0.05']); // cat has not opened its end yet
  }
  assert.equal(message, `${fifo}: a FIFO owned by uid 65534, not by the daemon's uid 0; refusing to write to it`);
});

test('a FIFO with no reader at the log path is refused at once, not waited on (the open would block the daemon)', (t) => {
  const dir = tempDir(t);
  const fifo = path.join(dir, 'pf.log');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  // in a child: on the old code the open blocks for ever, and the timeout ends it
  const module = new URL('../../src/sink/log-file.js', import.meta.url).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { openLogFile } from ${JSON.stringify(module)}; try { openLogFile(process.argv[1]); console.log('opened'); } catch (e) { console.log(e.message); }`, fifo], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(r.signal, null, 'the open returned (it did not block until the timeout)');
  assert.equal(r.stdout, `${fifo}: a FIFO with no reader; start its reader first\n`);
  // with a reader, our own FIFO is opened, blocking (so a full pipe waits rather than failing)
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.after(() => reader.kill('SIGKILL'));
  let fd = -1;
  for (let i = 0; i < 100 && fd < 0; i++) {
    try {
      fd = openLogFile(fifo);
    } catch {
      spawnSync('sleep', ['0.05']); // cat has not opened its end yet
    }
  }
  assert.ok(fd >= 0, 'opened once the reader is there');
  fs.closeSync(fd);
});

test('refuses a symlink with a clear error, and creates nothing through it', (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, 'secret\n');
  fs.chmodSync(target, 0o600);
  const link = path.join(dir, 'pf.log');
  fs.symlinkSync(target, link);
  assert.throws(() => new LogFile(link), { message: `${link}: is a symbolic link; refusing to write through it` });
  assert.equal(read(target), 'secret\n');
  assert.equal(mode(target), 0o600, 'the target mode is not touched');

  const dangling = path.join(dir, 'dangling.log');
  const nowhere = path.join(dir, 'nowhere');
  fs.symlinkSync(nowhere, dangling);
  assert.throws(() => openLogFile(dangling), /is a symbolic link/);
  assert.equal(fs.existsSync(nowhere), false, 'a dangling link is not followed to create its target');
});

test('other errors name the path', (t) => {
  const dir = tempDir(t);
  assert.throws(() => new LogFile(dir), (err: Error) => err.message.startsWith(`${dir}: `));
  const missing = path.join(dir, 'no', 'such', 'dir', 'pf.log');
  assert.throws(() => new LogFile(missing), (err: Error) => err.message.startsWith(`${missing}: `) && /ENOENT/.test(err.message));
});

test('a character device is accepted and its mode left alone', async () => {
  const before = fs.statSync('/dev/null').mode;
  const log = new LogFile('/dev/null');
  log.write(Buffer.from('x\n'));
  await log.close();
  assert.equal(fs.statSync('/dev/null').mode, before);
});

test('an idle write starts at once; writes arriving meanwhile are batched into the next write', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const calls = patchWrite(t);
  const log = new LogFile(p);
  log.write(Buffer.from('first\n'));
  assert.equal(calls.length, 1, 'the first line is being written before write() returns');
  for (let i = 0; i < 1000; i++) log.write(Buffer.from(`line ${i}\n`));
  assert.equal(calls.length, 1, 'nothing more while a write is in flight');
  await log.flush();
  assert.equal(calls.length, 2, `1000 queued lines went out in one write, not ${calls.length - 1}`);
  assert.equal(calls[1]!.text, lines(0, 1000));
  await log.close();
  assert.equal(read(p), 'first\n' + lines(0, 1000));
});

test('flush resolves at once when idle, and after the data is in the file otherwise', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const log = new LogFile(p);
  await log.flush();
  log.write(Buffer.from('a\n'));
  log.write(Buffer.from('b\n'));
  await log.flush();
  assert.equal(read(p), 'a\nb\n');
  assert.equal(log.queuedBytes, 0);
  await log.close();
});

test('short writes are finished: every byte arrives once, in order', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const calls = patchWrite(t, (real, fd, buf, off, len, pos, cb) => real(fd, buf, off, Math.min(len, 7), pos, cb));
  const log = new LogFile(p);
  const want = lines(0, 200, 'short write');
  for (const l of want.split(/(?<=\n)/)) log.write(Buffer.from(l));
  await log.close();
  assert.equal(read(p), want);
  assert.ok(calls.length >= want.length / 7, 'the writes really were short');
});

test('a write failing half way: the partial line is cut off, the loss counted and reported', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  let failing = false;
  let step = 0;
  patchWrite(t, (real, fd, buf, off, len, pos, cb) => {
    if (!failing) return real(fd, buf, off, len, pos, cb);
    step++;
    if (step === 1) return real(fd, buf, off, 8, pos, cb); // "line1\nli": short, with half a line
    const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    setImmediate(() => cb(err, 0));
  });
  const warnings: string[] = [];
  const log = new LogFile(p, { warn: (m) => warnings.push(m), stamp: () => 'STAMP' });
  log.write(Buffer.from('line0\n'));
  await log.flush();
  failing = true;
  log.write(Buffer.from('line1\nline2\nline3\n'));
  await log.flush();
  assert.equal(read(p), 'line0\nline1\n', 'only whole lines stay in the file');
  assert.equal(log.droppedLines, 2);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /write failed: no space left on device \(ENOSPC\); 2 lines dropped so far/);
  failing = false;
  log.write(Buffer.from('line4\n'));
  await log.close();
  assert.equal(read(p), 'line0\nline1\nSTAMP pfasciilogd: 2 lines dropped: write failed: no space left on device (ENOSPC)\nline4\n');
});

test('repeated failures: warned once per interval, counted once each, reported once when writes work again', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  let failing = true;
  patchWrite(t, (real, fd, buf, off, len, pos, cb) => {
    if (!failing) return real(fd, buf, off, len, pos, cb);
    setImmediate(() => cb(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }), 0));
  });
  const warnings: string[] = [];
  const log = new LogFile(p, { warn: (m) => warnings.push(m), warnIntervalMs: 60_000, stamp: () => 'STAMP' });
  for (let i = 0; i < 5; i++) {
    log.write(Buffer.from(`x${i}\n`));
    await log.flush();
  }
  // Each retry carries the pending drop report at its head; a lost report is not a lost line.
  assert.equal(log.droppedLines, 5);
  assert.equal(warnings.length, 1);
  assert.equal(read(p), '');
  failing = false;
  log.write(Buffer.from('ok\n'));
  await log.close();
  assert.equal(read(p), 'STAMP pfasciilogd: 5 lines dropped: write failed: i/o error (EIO)\nok\n');
});

test('reopen: lines written before go to the old file, the rest to the new one, none split or doubled', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const log = new LogFile(p);
  let reopened = 0;
  log.onReopened = () => {
    reopened++;
    return Buffer.from('REOPENED\n');
  };
  log.write(Buffer.from(lines(0, 10))); // in flight to the old file
  fs.renameSync(p, `${p}.0`);
  log.reopen();
  log.write(Buffer.from(lines(10, 20))); // queued behind the reopen
  await log.flush();
  assert.equal(reopened, 1);
  assert.equal(read(`${p}.0`), lines(0, 10));
  assert.equal(read(p), 'REOPENED\n' + lines(10, 20));
  assert.equal(mode(p), 0o640, 'the new file is created 0640');

  // Idle reopen: the new file appears at once, with the announcement.
  fs.renameSync(p, `${p}.1`);
  log.reopen();
  await log.flush();
  assert.equal(read(p), 'REOPENED\n');
  log.write(Buffer.from('after\n'));
  await log.close();
  assert.equal(read(p), 'REOPENED\nafter\n');
  assert.equal(read(`${p}.1`), 'REOPENED\n' + lines(10, 20));
});

test('reopen under a stream of writes: concatenating the files gives every line once, in order', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const log = new LogFile(p);
  log.onReopened = () => null;
  let n = 0;
  const rotated: string[] = [];
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 50; i++, n++) log.write(Buffer.from(`n ${n}\n`));
    if (round % 3 === 0) await new Promise((r) => setImmediate(r));
    const name = `${p}.${round}`;
    fs.renameSync(p, name);
    rotated.push(name);
    log.reopen();
    for (let i = 0; i < 50; i++, n++) log.write(Buffer.from(`n ${n}\n`));
    // like newsyslog, rotate again only once the new file is there
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(p) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  }
  await log.close();
  const all = [...rotated, p].map(read).join('');
  assert.equal(all, lines(0, n, 'n'));
});

test('a failed reopen keeps writing to the old file and retries', async (t) => {
  const dir = tempDir(t);
  const logDir = path.join(dir, 'log');
  fs.mkdirSync(logDir);
  const p = path.join(logDir, 'pf.log');
  const warnings: string[] = [];
  const log = new LogFile(p, { warn: (m) => warnings.push(m), reopenRetryMs: 30 });
  log.onReopened = () => Buffer.from('REOPENED\n');
  log.write(Buffer.from('a\n'));
  await log.flush();
  fs.renameSync(logDir, `${logDir}.old`); // the old fd follows the file
  log.reopen();
  log.write(Buffer.from('b\n'));
  await log.flush();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^cannot reopen log: .*ENOENT.*; retrying every 0\.03 s$/);
  assert.equal(read(path.join(`${logDir}.old`, 'pf.log')), 'a\nb\n', 'nothing lost meanwhile');
  fs.mkdirSync(logDir);
  const deadline = Date.now() + 5000;
  while (!fs.existsSync(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await log.flush();
  log.write(Buffer.from('c\n'));
  await log.close();
  assert.equal(read(p), 'REOPENED\nc\n');
  assert.equal(read(path.join(`${logDir}.old`, 'pf.log')), 'a\nb\n');
});

test('reopen refuses a symlink put in place of the log', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, '');
  const warnings: string[] = [];
  const log = new LogFile(p, { warn: (m) => warnings.push(m), reopenRetryMs: 60_000 });
  fs.renameSync(p, `${p}.0`);
  fs.symlinkSync(target, p);
  log.reopen();
  log.write(Buffer.from('x\n'));
  await log.close();
  assert.equal(read(target), '');
  assert.equal(read(`${p}.0`), 'x\n');
  assert.match(warnings.join('\n'), /is a symbolic link; refusing to write through it/);
});

test('reopen refuses a hard link, or a file of another user, put in place of the log; keeps the old file and retries', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 'secret\n');
  fs.chmodSync(secret, 0o600);
  const warnings: string[] = [];
  const log = new LogFile(p, { warn: (m) => warnings.push(m), reopenRetryMs: 20 });
  log.onReopened = () => Buffer.from('REOPENED\n');
  fs.renameSync(p, `${p}.0`);
  fs.linkSync(secret, p);
  log.reopen();
  log.write(Buffer.from('x\n'));
  await log.flush();
  assert.equal(read(secret), 'secret\n');
  assert.equal(mode(secret), 0o600);
  assert.equal(read(`${p}.0`), 'x\n', 'the old file is still written');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^cannot reopen log: .*pf\.log: has 2 links \(a hard link to another file\); refusing to write through it; retrying every 0\.02 s$/);
  if (process.geteuid?.() === 0) {
    fs.rmSync(p);
    fs.writeFileSync(p, 'theirs\n');
    fs.chownSync(p, 65534, 65534);
    await new Promise((r) => setTimeout(r, 60)); // a retry or two
    log.write(Buffer.from('y\n'));
    await log.flush();
    assert.equal(read(p), 'theirs\n', 'not written');
    assert.equal(read(`${p}.0`), 'x\ny\n');
  }
  // once the path is fit again, the retry takes it
  fs.rmSync(p);
  const deadline = Date.now() + 5000;
  while (!fs.existsSync(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  log.write(Buffer.from('z\n'));
  await log.close();
  assert.equal(read(p), 'REOPENED\nz\n');
  assert.equal(mode(p), 0o640);
  assert.equal(read(secret), 'secret\n');
});

test('backpressure: write() says false above the high-water mark, then drain', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const log = new LogFile(p, { highWaterMark: 100 });
  assert.equal(log.write(Buffer.from('x'.repeat(300) + '\n')), true, 'goes straight to the kernel');
  assert.equal(log.write(Buffer.from('y'.repeat(50) + '\n')), true, 'queued, under the mark');
  assert.equal(log.write(Buffer.from('z'.repeat(50) + '\n')), false, 'over the mark');
  await once(log, 'drain');
  await log.close();
  assert.equal(read(p), 'x'.repeat(300) + '\n' + 'y'.repeat(50) + '\n' + 'z'.repeat(50) + '\n');
});

test('a log whose directory is removed: noticed, reported, lines dropped and counted until it can be created again', async (t) => {
  const dir = tempDir(t);
  const logDir = path.join(dir, 'log');
  fs.mkdirSync(logDir);
  const p = path.join(logDir, 'pf.log');
  const warnings: string[] = [];
  const log = new LogFile(p, { warn: (m) => warnings.push(m), reopenRetryMs: 60_000, stamp: () => 'STAMP' });
  log.onReopened = () => Buffer.from('REOPENED\n');
  log.write(Buffer.from('a\n'));
  await log.flush();
  const old = fs.openSync(p, 'r'); // to see what still reaches the removed file
  t.after(() => fs.closeSync(old));
  fs.rmSync(logDir, { recursive: true });
  await new Promise((r) => setTimeout(r, 120)); // past the link check interval
  log.write(Buffer.from('b1\nb2\n'));
  await log.flush();
  log.write(Buffer.from('b3\n'));
  await log.flush();
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /pf\.log was removed; creating it again/);
  assert.match(warnings[1]!, /^cannot reopen log: .*ENOENT/);
  fs.mkdirSync(logDir);
  log.write(Buffer.from('c\n')); // the next write creates it: no wait for the retry timer
  await log.close();
  assert.equal(read(p), 'STAMP pfasciilogd: 3 lines dropped: log file removed\nREOPENED\nc\n');
  const buf = Buffer.alloc(100);
  assert.equal(buf.toString('latin1', 0, fs.readSync(old, buf, 0, 100, 0)), 'a\n', 'nothing written into the removed file');
  assert.equal(log.droppedLines, 3);
});

test('a deleted log file is created again at the next write, with the reopen notice', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'pf.log');
  const warnings: string[] = [];
  const log = new LogFile(p, { warn: (m) => warnings.push(m) });
  log.onReopened = () => Buffer.from('REOPENED\n');
  log.write(Buffer.from('a\n'));
  await log.flush();
  fs.rmSync(p);
  await new Promise((r) => setTimeout(r, 120));
  log.write(Buffer.from('b\n'));
  await log.close();
  assert.equal(read(p), 'REOPENED\nb\n');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /pf\.log was removed; creating it again/);
});
