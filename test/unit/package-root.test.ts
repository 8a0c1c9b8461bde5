// packageRoot finds pfasciilogd's own package.json above a module, from tsc's
// layout and from the bundle's, and takes no other project's for ours.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/util/package-root.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function tree(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-root-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

test('from the built modules and from the bundle, the root is the checkout', () => {
  assert.equal(packageRoot(), ROOT, 'this module (dist/src/util/)');
  assert.equal(packageRoot(path.join(ROOT, 'dist/bin/pfasciilogd.js')), ROOT);
  assert.equal(packageRoot(path.join(ROOT, 'dist/src/check/filter.js')), ROOT);
});

test('another project\'s package.json is passed over; ours further up is found', (t) => {
  const dir = tree(t, { 'package.json': '{"name":"pfasciilogd","version":"9.9.9"}', 'dist/package.json': '{"name":"evil"}', 'dist/bin/x.js': '' });
  assert.equal(packageRoot(path.join(dir, 'dist/bin/x.js')), dir);
});

test('nothing is found: no package.json, a broken one, or ours too far up', (t) => {
  const dir = tree(t, { 'a/package.json': '{not json', 'a/b/c/d/e/f/x.js': '', 'a/b/c/d/e/f/package.json': '{"name":"other"}' });
  assert.equal(packageRoot(path.join(dir, 'a/b/x.js')), undefined);
  const far = tree(t, { 'package.json': '{"name":"pfasciilogd"}', 'a/b/c/d/e/x.js': '' });
  assert.equal(packageRoot(path.join(far, 'a/b/c/d/e/x.js')), undefined, 'at most four levels up');
  assert.equal(packageRoot(path.join(far, 'a/b/c/d/x.js')), far);
});
