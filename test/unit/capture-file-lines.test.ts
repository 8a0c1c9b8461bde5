// writeCaptureFileLines reports a file it cannot read (EX_NOINPUT, one line)
// but lets a fault of the code that takes its lines go on up: once, such a
// fault was reported as "FILE: ..." with exit 66, as if the input were bad.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCaptureFileLines } from '../../src/format/capture-file-lines.js';
import { EX_NOINPUT } from '../../src/util/sysexits.js';

const DEMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../demo/pflog.pcap');

function run(file: string, write: () => Promise<void>, warnings: string[]): Promise<number> {
  return writeCaptureFileLines(file, { format: 'text', follow: false, repeats: null, warn: (m) => warnings.push(m), write });
}

test('a file that cannot be read: one warning naming it, EX_NOINPUT', async () => {
  const warnings: string[] = [];
  assert.equal(await run('/nonexistent/c.pcap', async () => {}, warnings), EX_NOINPUT);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^\/nonexistent\/c\.pcap: .*(ENOENT|no such file)/i);
});

test('a fault in the code the lines go to is not the file\'s: it is thrown, not reported as unreadable', async () => {
  const warnings: string[] = [];
  await assert.rejects(
    run(DEMO, async () => {
      throw new TypeError('a bug');
    }, warnings),
    /a bug/,
  );
  assert.deepEqual(warnings, []);
});

test('a failed write (a system error) is still reported with the file, EX_NOINPUT', async () => {
  const warnings: string[] = [];
  const eio = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO', syscall: 'write', errno: -5 });
  assert.equal(await run(DEMO, async () => Promise.reject(eio), warnings), EX_NOINPUT);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^.*pflog\.pcap: /);
});
