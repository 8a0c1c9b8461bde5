// Node starts an inspector on SIGUSR1 unless the process listens for the
// signal itself. The installed entry point (the bundle's dist/bin/pfasciilogd.js)
// statically imports only early-signals, and importing it installs a listener;
// the program itself is imported after that. So a SIGUSR1 (log rotation) can
// never reach Node's default once our modules load.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

test('main.js (tsc\'s modules, as run directly) imports early-signals first', () => {
  const main = fs.readFileSync(new URL('../../src/cli/main.js', import.meta.url), 'utf8');
  const imports = main.split('\n').filter((l) => /^import\b/.test(l));
  assert.equal(imports[0], "import './early-signals.js';", `first import of main.js: ${imports[0]}`);
});

/** The static import specifiers of an ES module (esbuild prints one per statement, from "...";). */
function staticImports(source: string): string[] {
  return [...source.matchAll(/^import\b[^;]*?["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
}

test('the installed entry point loads only early-signals before it imports the program', () => {
  const entry = fileURLToPath(new URL('../../bin/pfasciilogd.js', import.meta.url));
  const source = fs.readFileSync(entry, 'utf8');
  const imports = staticImports(source);
  assert.equal(imports.length, 1, `one static import in the entry: ${imports.join(', ')}`);
  const first = fs.readFileSync(path.resolve(path.dirname(entry), imports[0]!), 'utf8');
  assert.match(first, /^process\.on\("SIGUSR1", /m, `${imports[0]} installs the listener`);
  const itsImports = staticImports(first);
  assert.ok(itsImports.length > 0 && itsImports.every((s) => s.startsWith('node:')), `${imports[0]} imports only Node's modules: ${itsImports.join(', ')}`);
  assert.match(source, /^await import\("\.\/main-[\w-]+\.js"\);$/m, 'the program comes after, by a dynamic import');
});
