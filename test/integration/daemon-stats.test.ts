// Drops are visible: with --stats-interval the daemon has the real tcpdump,
// capturing on a real interface in a namespace, print its packet counters
// into the log while traffic flows, and again when it exits. Needs root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unavailable } from '../support/unavailable.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const NS = `pfst${process.pid % 100000}`;


function readText(file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}

async function waitFor(what: string, probe: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('--stats-interval logs tcpdump counters during a capture and at exit', async (t) => {
  if (process.getuid?.() !== 0) return unavailable(t, 'needs root for a network namespace');
  if (spawnSync('tcpdump', ['--version']).error) return unavailable(t, 'tcpdump not found');
  const dir = mkdtempSync(join(tmpdir(), 'pfasciilogd-stats-'));
  chmodSync(dir, 0o755);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(spawnSync('ip', ['netns', 'add', NS]).status, 0);
  assert.equal(spawnSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']).status, 0);
  const log = join(dir, 'pf.log');
  const daemon = spawn('ip', ['netns', 'exec', NS, process.execPath, MAIN, '-u', '', '-i', 'lo', '--stats-interval', '1', '-f', log, '-p', join(dir, 'pid'), 'udp port 9'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => daemon.on('exit', (c) => r(c)));
  t.after(() => daemon.kill('SIGKILL'));
  await waitFor('tcpdump to listen', () => readText(log).includes('listening on lo'), 10000);
  // a small flood inside the namespace, on its loopback only
  const flood = `const d=require('dgram').createSocket('udp4');let n=0;const go=()=>{for(let i=0;i<50;i++)d.send('x',9,'127.0.0.1');if(++n<20)setTimeout(go,10);else setTimeout(()=>d.close(),50)};go();`;
  assert.equal(spawnSync('ip', ['netns', 'exec', NS, process.execPath, '-e', flood]).status, 0);
  const counters = /tcpdump: (\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel/g;
  await waitFor('a counters line with the flood in it', () => [...readText(log).matchAll(counters)].some((m) => Number(m[2]) >= 1000), 6000);
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0);
  const text = readText(log);
  assert.match(text, /\d+ packets received by filter\n.*\d+ packets dropped by kernel\n/, 'the counters at exit');
  // the UDP packets themselves are in the log, decoded natively (Ethernet on lo)
  assert.ok((text.match(/ 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.9: UDP, length 1$/gm) ?? []).length >= 1000, 'every flooded datagram logged');
});
