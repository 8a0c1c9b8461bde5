// FIFOs that stop moving must not keep a process from ending: a capture
// FIFO no writer opens (read, and the daemon's -r), and an -o FIFO whose
// reader stops reading. Before the fix each of these waited for ever: the
// open, the read or the write cannot be cancelled, and held the process
// after it had said "exiting" (the pidfile still there).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoFrames } from '../support/demo-capture.js';
import { pcapFile } from '../support/capture-builder.js';
import { MAIN_JS, sleep, waitFor } from '../support/daemon-harness.js';

const ENV = { ...process.env, TZ: 'UTC' };
/** Only ends a wait that the fix should have ended long before, so the assertions report it. */
const BOUND_MS = 20000;

function scratch(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-fifo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fifoIn(dir: string, name: string): string {
  const fifo = path.join(dir, name);
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  return fifo;
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
  /** the exit code, or 'still running' once `ms` have passed */
  exit: (ms: number) => Promise<number | string | null>;
}

function start(t: TestContext, args: string[]): Run {
  const child = spawn(process.execPath, [MAIN_JS, ...args], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let err = '';
  child.stderr!.setEncoding('latin1').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exit: (ms) => Promise.race([exited, sleep(ms).then(() => 'still running')]),
  };
}

test('read: SIGINT while opening a FIFO no writer has opened: exit 130 at once', async (t) => {
  const dir = scratch(t);
  const r = start(t, ['read', fifoIn(dir, 'capture.fifo')]);
  await sleep(500); // blocked in the open by now
  r.child.kill('SIGINT');
  assert.equal(await r.exit(BOUND_MS), 130, r.stderr());
  assert.equal(r.stderr(), '');
});

test('daemon -r FIFO no writer has opened: TERM ends it, pidfile removed, no "finished reading"', async (t) => {
  const dir = scratch(t);
  const log = path.join(dir, 'pf.log');
  const pid = path.join(dir, 'd.pid');
  const r = start(t, ['-u', '', '-r', fifoIn(dir, 'capture.fifo'), '-f', log, '-p', pid]);
  await waitFor('the pidfile', () => fs.existsSync(pid), 10000);
  await sleep(300);
  r.child.kill('SIGTERM');
  assert.equal(await r.exit(BOUND_MS), 0, r.stderr());
  assert.equal(fs.existsSync(pid), false, 'pidfile removed');
  const text = fs.readFileSync(log, 'latin1');
  assert.match(text, /pfasciilogd: exiting\n$/);
  assert.doesNotMatch(text, /finished reading/, 'the read was abandoned, not finished');
});

test('an -o FIFO whose reader stops reading: the daemon still exits, says which output kept its lines, and removes its pidfile', async (t) => {
  const dir = scratch(t);
  const fifo = fifoIn(dir, 'out.fifo');
  // a reader that opens the FIFO and never reads: the pipe fills at 64 KiB
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.after(() => fs.closeSync(reader));
  // about 3,800 lines, 500 KB: more than the pipe holds, less than an output queues before it throttles the read
  const frames = demoFrames();
  const capture = path.join(dir, 'c.pcap');
  fs.writeFileSync(capture, pcapFile(Array.from({ length: 200 }, () => frames).flat()));
  const log = path.join(dir, 'pf.log');
  const pid = path.join(dir, 'd.pid');
  const r = start(t, ['-u', '', '-r', capture, '-f', log, '-o', `text:${fifo}`, '-p', pid]);
  // it reads to the end and exits on its own; TERM, should it throttle first, must end it too
  let code = await r.exit(4000);
  if (code === 'still running') {
    r.child.kill('SIGTERM');
    code = await r.exit(BOUND_MS);
  }
  assert.equal(code, 0, r.stderr());
  assert.match(r.stderr(), new RegExp(`^pfasciilogd: exiting without all lines written: ${fifo.replace(/[.]/g, '\\.')} \\(\\d+ bytes queued\\) did not take them within 5 s\\n$`));
  assert.equal(fs.existsSync(pid), false, 'pidfile removed');
  assert.match(fs.readFileSync(log, 'latin1'), /pfasciilogd: exiting\n$/, 'the output that kept up has every line and the end');
});
