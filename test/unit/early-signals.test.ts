// Node starts an inspector on SIGUSR1 unless the process listens for the
// signal itself. The entry point imports early-signals before anything else
// (static imports run in order), and importing it installs a listener, so a
// SIGUSR1 (log rotation) can never reach Node's default.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import inspector from 'node:inspector';

test('importing early-signals installs a SIGUSR1 listener; the signal then opens no inspector', async () => {
  const before = process.listenerCount('SIGUSR1');
  await import('../../src/cli/early-signals.js');
  assert.equal(process.listenerCount('SIGUSR1'), before + 1);
  assert.equal(inspector.url(), undefined);
  process.kill(process.pid, 'SIGUSR1');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(inspector.url(), undefined, 'no inspector after SIGUSR1');
});

test('the entry point imports early-signals first', () => {
  const main = fs.readFileSync(new URL('../../src/cli/main.js', import.meta.url), 'utf8');
  const imports = main.split('\n').filter((l) => /^import\b/.test(l));
  assert.equal(imports[0], "import './early-signals.js';", `first import of main.js: ${imports[0]}`);
});
