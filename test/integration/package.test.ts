// The install path the README gives: `npm pack` in a clone makes a tarball
// that holds the built program, and `npm install -g --ignore-scripts` of that
// file installs a working command without running any script (the tarball
// needs no build, and nothing is fetched by name from a registry).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, unavailable } from '../support/unavailable.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Scripts npm runs when a package is installed (from a registry or a .tgz). */
const INSTALL_TIME = ['preinstall', 'install', 'postinstall', 'prepare'];

interface Manifest {
  name: string;
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
}

function manifest(file: string): Manifest {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
}

test('package.json: no install-time scripts; the build runs when packing, starting and testing', () => {
  const m = manifest(path.join(ROOT, 'package.json'));
  // Fixed: "prepare" ran (and warned) on `npm install -g ./pfasciilogd-0.1.0.tgz`
  for (const s of INSTALL_TIME) assert.equal(m.scripts[s], undefined, `"${s}" would run on install`);
  assert.match(m.scripts['prepack'] ?? '', /npm run build/, 'npm pack builds dist/ first');
  assert.match(m.scripts['prestart'] ?? '', /npm run build/);
  assert.match(m.scripts['pretest'] ?? '', /npm run build/);
});

test('npm pack: the tarball holds the bundle (dist/bin) and installs with --ignore-scripts to a working pfasciilogd', (t: TestContext) => {
  const npm = findTool('npm');
  if (npm === undefined) {
    unavailable(t, 'npm is not installed');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-pack-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, npm_config_cache: path.join(dir, 'cache'), npm_config_update_notifier: 'false' };
  // dist/ is already built (pretest): --ignore-scripts skips prepack's second build
  const pack = spawnSync(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, env, encoding: 'utf8', timeout: 120000 });
  assert.equal(pack.status, 0, pack.stderr);
  const m = manifest(path.join(ROOT, 'package.json'));
  const tgz = path.join(dir, `${m.name}-${m.version}.tgz`);
  assert.ok(fs.existsSync(tgz), `${tgz} written (npm said: ${pack.stdout.trim()})`);

  const list = spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const files = list.stdout.split('\n');
  for (const f of ['package/package.json', 'package/dist/bin/pfasciilogd.js', 'package/man/pfasciilogd.8', 'package/etc/rc.d/pfasciilogd', 'package/etc/fail2ban/filter.d/pfasciilogd.conf']) {
    assert.ok(files.includes(f), `${f} in the tarball`);
  }
  // the bundle is what runs: tsc's per-module output, the tests and the benches stay home
  assert.ok(!files.some((f) => /^package\/(dist\/(src|test|bench)|node_modules)\//.test(f)), `only dist/bin of dist: ${files.filter((f) => f.startsWith('package/dist/')).join(' ')}`);
  const unpacked = path.join(dir, 'unpacked');
  fs.mkdirSync(unpacked);
  assert.equal(spawnSync('tar', ['-xzf', tgz, '-C', unpacked]).status, 0);
  const packed = manifest(path.join(unpacked, 'package/package.json'));
  for (const s of INSTALL_TIME) assert.equal(packed.scripts[s], undefined, `the tarball's package.json has no "${s}"`);

  // the README's install line, into a prefix of our own, offline: the package has no dependencies
  const prefix = path.join(dir, 'root');
  const inst = spawnSync(npm, ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', tgz], { env, encoding: 'utf8', timeout: 120000 });
  assert.equal(inst.status, 0, inst.stderr);
  const bin = path.join(prefix, 'bin', 'pfasciilogd');
  const v = spawnSync(bin, ['-V'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout, `pfasciilogd ${m.version}\n`);
});

test('README, man page and etc/ never tell anyone to install pfasciilogd by name from the registry', () => {
  const files = ['README.md', 'man/pfasciilogd.8'];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, d), { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else files.push(path.join(d, e.name));
    }
  };
  walk('etc');
  // an install command whose package is the bare name (not a ./file.tgz); the README's warning quotes it in backticks after "never"
  const byName = /npm\s+(?:install|i)\b[^\n`]*?\s(?:--\S+\s+\S*\s+)*pfasciilogd(?=\s|$|`)/;
  for (const f of files) {
    fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').forEach((line, i) => {
      if (/never `npm install -g pfasciilogd` by name/.test(line)) return;
      assert.doesNotMatch(line, byName, `${f}:${i + 1}`);
    });
  }
});
