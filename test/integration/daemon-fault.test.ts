// The daemon's last resort (src/daemon/last-resort.ts): an internal error
// nothing caught, provoked in a real daemon through its test hook, ends it
// with one line on stderr and in the log, its tcpdump killed, its pidfile
// removed, and exit 70 (EX_SOFTWARE), for a supervisor to restart it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Sandbox, TEXT_RELAY, events, isFakeRunning, waitFor } from '../support/daemon-harness.js';

for (const fault of ['exception', 'rejection'] as const) {
  test(`an internal error (${fault === 'exception' ? 'an uncaught exception' : 'an unhandled rejection'}): one line, tcpdump killed, pidfile removed, exit 70`, async (t) => {
    const box = new Sandbox('fault');
    t.after(() => box.cleanup());
    const fake = box.fake('argv');
    const d = box.start([...TEXT_RELAY, '-u', '', '--tcpdump', fake, '-i', 'lo'], { env: { PFASCIILOGD_TEST_FAULT: fault } });
    const st = await d.waitExit(15000);
    assert.deepEqual(st, { code: 70, signal: null }, `stderr: ${d.stderr}`);
    const origin = fault === 'exception' ? 'uncaught exception' : 'unhandled rejection';
    const want = `internal error (${origin}): Error: PFASCIILOGD_TEST_FAULT=${fault}; exiting`;
    assert.equal(d.stderr, `pfasciilogd: ${want}\n`, 'one line on stderr, no stack trace');
    assert.ok(!fs.existsSync(box.pidfile), 'pidfile removed');
    const pids = box.fakePids();
    assert.equal(pids.length, 1, 'the fake tcpdump ran once');
    // killed by the handler itself; the wait only covers the kernel's reaping of the process
    await waitFor('the fake tcpdump to be gone', () => !isFakeRunning(pids[0]!), 5000);
    const ev = events(box.lines());
    assert.equal(ev.filter((e) => e.startsWith('internal error')).length, 1, JSON.stringify(ev));
    assert.equal(ev.at(-1), want, 'the last line in the log');
  });
}
