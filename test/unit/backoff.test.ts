import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, DEFAULT_BACKOFF } from '../../src/daemon/backoff.js';

test('default policy: 1 s doubling to 60 s, reset after 60 s of uptime', () => {
  assert.deepEqual(DEFAULT_BACKOFF, { initialMs: 1000, maxMs: 60000, stableMs: 60000 });
  const b = new Backoff();
  const delays = Array.from({ length: 9 }, () => b.afterExit(0));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});

test('a run of at least 60 s resets the delay; a shorter one does not', () => {
  const b = new Backoff();
  b.afterExit(10);
  b.afterExit(10);
  assert.equal(b.afterExit(59_999), 4000, 'just under 60 s of uptime keeps doubling');
  assert.equal(b.afterExit(60_000), 1000, '60 s of uptime resets to 1 s');
  assert.equal(b.afterExit(0), 2000, 'and it doubles again from there');
  assert.equal(b.afterExit(3_600_000), 1000);
});

test('reset from the cap', () => {
  const b = new Backoff();
  for (let i = 0; i < 20; i++) b.afterExit(0);
  assert.equal(b.afterExit(0), 60000);
  assert.equal(b.afterExit(120_000), 1000);
});

test('a tcpdump that fails at once starts 6 times in its first minute', () => {
  // A tcpdump that fails at once: starts at 0, 1, 3, 7, 15, 31 s, then 63 s.
  const b = new Backoff();
  let t = 0;
  const starts = [0];
  for (;;) {
    t += b.afterExit(0);
    if (t >= 60_000) break;
    starts.push(t / 1000);
  }
  assert.deepEqual(starts, [0, 1, 3, 7, 15, 31]);
});

test('custom policy', () => {
  const b = new Backoff({ initialMs: 10, maxMs: 35, stableMs: 100 });
  assert.deepEqual([b.afterExit(0), b.afterExit(0), b.afterExit(0), b.afterExit(0)], [10, 20, 35, 35]);
  assert.equal(b.afterExit(100), 10);
});
