import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureFailure, readsItself } from '../../src/daemon/capture.js';
import { DAEMON_DEFAULTS } from '../../src/cli/options.js';
import type { ExitInfo } from '../../src/daemon/supervisor.js';

const info = (o: Partial<ExitInfo>): ExitInfo => ({ code: 1, signal: null, spawnError: null, failedAtStart: false, lastError: null, ...o });
const live = { tcpdump: 'tcpdump', readFile: undefined };
const file = { tcpdump: 'tcpdump', readFile: '/x.pcap' };

test('captureFailure: which ends of tcpdump end the daemon, with what status', () => {
  // a live capture that had started: respawned, never a failure
  assert.equal(captureFailure(info({}), live), null);
  // -r read to its end
  assert.equal(captureFailure(info({ code: 0 }), file), null);
  assert.deepEqual(captureFailure(info({ failedAtStart: true, lastError: 'tcpdump: em9: No such device exists' }), live), {
    message: 'tcpdump failed at start, not restarting: tcpdump: em9: No such device exists (exit status 1)',
    code: 69,
  });
  for (const e of ['tcpdump: syntax error in filter expression', "tcpdump: can't parse filter expression: syntax error", "tcpdump: unknown host 'prot'", 'tcpdump: expression rejects all packets']) {
    assert.equal(captureFailure(info({ failedAtStart: true, lastError: e }), live)?.code, 64, e);
    assert.equal(captureFailure(info({ lastError: e }), file)?.code, 64, e);
  }
  assert.equal(captureFailure(info({ lastError: 'tcpdump: /x.pcap: No such file or directory' }), file)?.code, 66);
  assert.equal(captureFailure(info({ code: null, signal: 'SIGSEGV' }), file)?.message, 'tcpdump could not read /x.pcap: killed by signal SIGSEGV');
  const missing = captureFailure(info({ code: null, spawnError: 'spawn tcpdump ENOENT (ENOENT)' }), live)!;
  assert.equal(missing.code, 69);
  assert.match(missing.message, /^cannot run tcpdump: spawn tcpdump ENOENT \(ENOENT\); install tcpdump \(Debian, Ubuntu: apt-get install tcpdump;/);
  assert.doesNotMatch(captureFailure(info({ code: null, spawnError: 'EACCES' }), live)!.message, /install/);
  // what tcpdump printed is escaped: one printable line
  assert.match(captureFailure(info({ failedAtStart: true, lastError: 'tcpdump: a\x1bb' }), live)!.message, /a\^\[b/);
});

test('readsItself: only the native decoder, -r, and no expression', () => {
  const o = { ...DAEMON_DEFAULTS, expression: [] as string[] };
  assert.equal(readsItself({ ...o, readFile: 'x' }), true);
  assert.equal(readsItself(o), false);
  assert.equal(readsItself({ ...o, readFile: 'x', expression: ['tcp'] }), false);
  assert.equal(readsItself({ ...o, readFile: 'x', decoder: 'tcpdump' }), false);
});
