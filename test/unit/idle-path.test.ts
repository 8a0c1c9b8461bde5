// The daemon adds no delay on an idle path: one packet in, its line handed to
// write(2) before the call that received it returns, with no timer involved.
// Timers are mocked (none fires unless the test ticks, and it never does), and
// fs.write as log-file.ts sees it is recorded: a batching timer, a deferral to
// setImmediate, or a decoder holding a record back until the next one arrives
// would leave no write here. Under load, batching stays as it is: everything
// queued while a write is in flight goes in the next one (log-file.test.ts).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { LogFile } from '../../src/sink/log-file.js';
import { PacketLines } from '../../src/format/packet-lines.js';
import { LineStamper } from '../../src/format/stamp-lines.js';
import { ipv4, pcapFileHeader, pcapRecord, pflogHeader, udp } from '../support/capture-builder.js';

type WriteFn = (fd: number, buf: Buffer, off: number, len: number, pos: number | null, cb: (err: NodeJS.ErrnoException | null, n: number) => void) => void;

/** Records every fs.write that src/sink/log-file.ts makes, for the rest of the test. */
function recordWrites(t: TestContext): string[] {
  const real = fs.write as unknown as WriteFn;
  const calls: string[] = [];
  (fs as unknown as { write: WriteFn }).write = (fd, buf, off, len, pos, cb) => {
    calls.push(buf.subarray(off, off + len).toString('latin1'));
    real(fd, buf, off, len, pos, cb);
  };
  syncBuiltinESMExports();
  t.after(() => {
    (fs as unknown as { write: WriteFn }).write = real;
    syncBuiltinESMExports();
  });
  return calls;
}

function logFile(t: TestContext): { log: LogFile; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-idle-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'pf.log');
  return { log: new LogFile(file), file };
}

const PACKET = Buffer.concat([pflogHeader({ length: 100, ifname: 'em0' }), ipv4({ src: '203.0.113.7', dst: '198.51.100.1', proto: 17, payload: udp(40000, 53) })]);

test('native decoder: one packet in, its line written at once, no timer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate'] });
  const writes = recordWrites(t);
  const { log, file } = logFile(t);
  const lines = new PacketLines('text', (m) => assert.fail(m));
  assert.equal(lines.push(pcapFileHeader()), null, 'the stream header makes no line');
  const out = lines.push(pcapRecord(PACKET, { sec: 1_700_000_000 }));
  assert.ok(out !== null, 'the record is decoded when it arrives, not when the next one does');
  log.write(out);
  assert.equal(writes.length, 1, 'write(2) is issued before write() returns');
  assert.match(writes[0]!, /^2023-11-14T\S+ rule 1\/0\(match\): block in on em0: 203\.0\.113\.7\.40000 > 198\.51\.100\.1\.53: UDP, length 0\n$/);
  await log.flush();
  assert.equal(fs.readFileSync(file, 'latin1'), writes[0]);
  await log.close();
});

test('text relay: one line in, stamped and written at once, no timer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate'] });
  const writes = recordWrites(t);
  const { log } = logFile(t);
  const out = new LineStamper().push(Buffer.from('rule 1/0(match): block in on em0: 203.0.113.7.40000 > 198.51.100.1.53: UDP, length 0\n'), Buffer.from('STAMP '));
  assert.ok(out !== null);
  log.write(out);
  assert.deepEqual(writes, ['STAMP rule 1/0(match): block in on em0: 203.0.113.7.40000 > 198.51.100.1.53: UDP, length 0\n']);
  await log.flush();
  await log.close();
});
