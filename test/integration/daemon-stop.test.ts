// Stopping when the capture process cannot be signalled: under a hardened
// service manager the daemon may lack CAP_KILL, and tcpdump runs as another
// user after -Z, so even root's TERM and KILL fail with EPERM. The daemon
// must say so and still exit, not hang. Needs root and setpriv(1).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unavailable } from '../support/unavailable.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = join(ROOT, 'dist/bin/pfasciilogd.js');


test('SIGTERM when tcpdump cannot be signalled (no CAP_KILL): logged, and the daemon still exits', async (t) => {
  if (process.getuid?.() !== 0) return unavailable(t, 'needs root to drop CAP_KILL and change user');
  if (spawnSync('setpriv', ['--version']).error) return unavailable(t, 'setpriv not found');
  const dir = mkdtempSync(join(tmpdir(), 'pfasciilogd-stop-'));
  chmodSync(dir, 0o755);
  const marker = `pfasciilogd-stop-${process.pid}`;
  t.after(() => {
    spawnSync('pkill', ['-KILL', '-f', marker]);
    rmSync(dir, { recursive: true, force: true });
  });
  // a "tcpdump" that becomes another user and then only waits
  const fake = join(dir, 'tcpdump');
  writeFileSync(fake, `#!/bin/sh\necho "tcpdump: listening on pflog0" >&2\nexec setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'sleep 20; true ${marker}'\n`, { mode: 0o755 });
  const log = join(dir, 'pf.log');
  const daemon = spawn('setpriv', ['--bounding-set', '-kill', '--', process.execPath, MAIN, '--decoder', 'tcpdump', '--tcpdump', fake, '-f', log, '-p', join(dir, 'pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((res) => daemon.on('exit', (code) => res(code)));
  for (let i = 0; i < 200 && !readText(log).includes('listening on pflog0'); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(readText(log), /listening on pflog0/);
  await new Promise((r) => setTimeout(r, 200)); // let it change user
  const stoppedAt = Date.now();
  daemon.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8000))]);
  assert.notEqual(code, 'hung', `the daemon hung:\n${readText(log)}`);
  assert.equal(code, 0);
  assert.ok(Date.now() - stoppedAt < 5000, 'exits within the KILL grace period and a little');
  const text = readText(log);
  assert.match(text, /pfasciilogd: cannot send SIGTERM to .*tcpdump \(pid \d+\): .*EPERM/);
  assert.match(text, /pfasciilogd: cannot send SIGKILL to /);
  assert.match(text, /pfasciilogd: exiting\n$/);
});

function readText(file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}
