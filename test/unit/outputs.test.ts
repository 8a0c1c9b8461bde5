// The daemon's outputs (sink/outputs.ts): lines routed by format, events to
// all, reopen of all, and the backpressure rule: write() says stop while ANY
// output is above its high-water mark, 'drain' comes once ALL such outputs
// have written their queue.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Outputs } from '../../src/sink/outputs.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-outputs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('lines go to the outputs of their format, events to all, in the order of the first output of each format', async (t) => {
  const dir = tempDir(t);
  const p = (n: string) => path.join(dir, n);
  const outs = new Outputs(
    [
      { format: 'text', path: p('a') },
      { format: 'filterlog', path: p('b') },
      { format: 'text', path: p('c') },
      { format: 'json', path: p('d') },
    ],
    {},
  );
  assert.deepEqual(outs.formats, ['text', 'filterlog', 'json']);
  assert.equal(outs.write(0, Buffer.from('T1\n')), true);
  assert.equal(outs.write(1, Buffer.from('F1\n')), true);
  assert.equal(outs.writeAll(Buffer.from('E\n')), true);
  assert.equal(outs.write(2, Buffer.from('J1\n')), true);
  // lines queued when the signal comes go to the new file: let these reach the old one
  await Promise.all(outs.files.map((f) => f.flush()));
  outs.onReopened = () => Buffer.from('R\n');
  fs.renameSync(p('a'), p('a.0'));
  fs.renameSync(p('d'), p('d.0'));
  outs.reopen();
  outs.write(0, Buffer.from('T2\n'));
  outs.write(2, Buffer.from('J2\n'));
  await outs.close();
  const read = (n: string) => fs.readFileSync(p(n), 'latin1');
  assert.equal(read('a.0'), 'T1\nE\n');
  assert.equal(read('a'), 'R\nT2\n');
  assert.equal(read('b'), 'F1\nE\nR\n');
  assert.equal(read('c'), 'T1\nE\nR\nT2\n');
  assert.equal(read('d.0'), 'E\nJ1\n');
  assert.equal(read('d'), 'R\nJ2\n');
});

test('backpressure: stop while any output is above its mark, drain once every one has written its queue', async (t) => {
  const dir = tempDir(t);
  const fifo = path.join(dir, 'slow');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('mkfifo is not available');
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.after(() => fs.closeSync(fd));
  const regular = path.join(dir, 'regular');
  const outs = new Outputs(
    [
      { format: 'text', path: regular },
      { format: 'json', path: fifo },
    ],
    { highWaterMark: 4096 },
  );
  let drains = 0;
  outs.on('drain', () => drains++);
  // Fill the FIFO's kernel buffer first, so that the output's first write blocks
  const filler = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  let fill = 0;
  try {
    for (;;) fill += fs.writeSync(filler, Buffer.alloc(4096, 0x2d)); // <= PIPE_BUF: all or EAGAIN
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
  }
  fs.closeSync(filler);
  // then the slow output's queue passes its mark
  const line = Buffer.from(`${'x'.repeat(99)}\n`);
  let jsonLines = 0;
  while (outs.write(1, line)) {
    jsonLines++;
    assert.ok(jsonLines < 1000, 'the slow output never asked to stop');
  }
  jsonLines++;
  // a line for the output that keeps up is written, yet the answer is still "stop"
  assert.equal(outs.write(0, Buffer.from('T\n')), false, 'stop while the slow output is above its mark');
  assert.equal(outs.writeAll(Buffer.from('E\n')), false);
  const drained = outs.drained();
  let settled = false;
  void drained.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(settled, false, 'no drain while the FIFO is not read');
  assert.equal(drains, 0);
  // read the FIFO: its queue empties, and 'drain' comes
  const buf = Buffer.alloc(1 << 16);
  let got = '';
  while (!settled) {
    try {
      got += buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, null));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(drains, 1);
  const closed = outs.close();
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    got += buf.toString('latin1', 0, n);
    if (n === 0 && got.endsWith('E\n')) break;
    if (n === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await closed;
  assert.equal(got, '-'.repeat(fill) + line.toString('latin1').repeat(jsonLines) + 'E\n', 'every line, whole and in order, to the slow output');
  assert.equal(fs.readFileSync(regular, 'latin1'), 'T\nE\n', 'the output that keeps up got its lines');
});

test('an output that cannot be opened: the error names its path; those opened before it are closed', async (t) => {
  const dir = tempDir(t);
  const link = path.join(dir, 'link');
  fs.symlinkSync(path.join(dir, 'target'), link);
  const before = new Set(fs.readdirSync('/proc/self/fd'));
  assert.throws(
    () =>
      new Outputs(
        [
          { format: 'text', path: path.join(dir, 'ok') },
          { format: 'json', path: link },
        ],
        {},
      ),
    new RegExp(`^Error: ${link}: is a symbolic link; refusing to write through it$`),
  );
  assert.equal(fs.existsSync(path.join(dir, 'target')), false, 'nothing written through the link');
  await new Promise((r) => setImmediate(r)); // LogFile.close() closes after its (empty) flush
  const leaked = fs.readdirSync('/proc/self/fd').filter((fd) => !before.has(fd));
  assert.deepEqual(leaked, [], 'no descriptor left open');
});

test('one file reached by two paths (a symlinked directory) is refused: the lines would interleave', async (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'real'));
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'alias'));
  assert.throws(
    () =>
      new Outputs(
        [
          { format: 'text', path: path.join(dir, 'real/pf.log') },
          { format: 'json', path: path.join(dir, 'alias/pf.log') },
        ],
        {},
      ),
    new RegExp(`^Error: ${dir}/alias/pf\\.log: the same file as ${dir}/real/pf\\.log; give each output its own file$`),
  );
  // /dev/null may be named twice
  const devnull = new Outputs([{ format: 'text', path: '/dev/null' }, { format: 'json', path: '/dev/./null' }], {});
  await devnull.close();
});
