import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEDUPE_ENTRY_BYTES, heapProblem } from '../../src/daemon/heap.js';

const MB = 1024 * 1024;

test('the capped heap (102 MB) holds the default --dedupe table, and refuses one it cannot hold', () => {
  assert.equal(heapProblem({ dedupe: 0, dedupeMax: 10_000_000 }, 102 * MB), null, 'no --dedupe: no table');
  assert.equal(heapProblem({ dedupe: 600, dedupeMax: 100_000 }, 102 * MB), null, 'the default 100,000 entries');
  assert.equal(heapProblem({ dedupe: 600, dedupeMax: 250_000 }, 102 * MB), null, 'what the rc.d comment promises');
  const p = heapProblem({ dedupe: 600, dedupeMax: 1_000_000 }, 102 * MB);
  assert.match(p ?? '', /^--dedupe-max 1000000 needs about \d+ MB of V8 heap and node allows this process 102 MB: lower --dedupe-max, or raise --max-old-space-size/);
  assert.equal(heapProblem({ dedupe: 600, dedupeMax: 1_000_000 }, 4144 * MB), null, "node's own default heap");
  assert.ok(DEDUPE_ENTRY_BYTES >= 150, 'at least the ~150 bytes measured for an IPv4 entry');
});
