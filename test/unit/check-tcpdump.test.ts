// `pfasciilogd check`, tcpdump: versions from `tcpdump --version`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTcpdumpVersion, hasImmediateMode, parseTcpdumpVersion } from '../../src/check/tcpdump.js';

test("Debian 12's tcpdump --version", () => {
  const text = 'tcpdump version 4.99.3\nlibpcap version 1.10.3 (with TPACKET_V3)\nOpenSSL 3.0.19 27 Jan 2026\n';
  const v = parseTcpdumpVersion(text);
  assert.deepEqual(v, { tcpdump: '4.99.3', libpcap: '1.10.3' });
  assert.equal(describeTcpdumpVersion(v!), 'tcpdump version 4.99.3 (libpcap 1.10.3)');
});

test("FreeBSD's and macOS's tcpdump --version", () => {
  assert.deepEqual(parseTcpdumpVersion('tcpdump version 4.9.3\nlibpcap version 1.9.1\nOpenSSL 1.1.1k-freebsd  24 Aug 2021\n'), { tcpdump: '4.9.3', libpcap: '1.9.1' });
  const apple = parseTcpdumpVersion('tcpdump version 4.99.1 -- Apple version 125.100.4\nlibpcap version 1.10.1\nLibreSSL 3.3.6\n');
  assert.deepEqual(apple, { tcpdump: '4.99.1', libpcap: '1.10.1' });
});

test('no libpcap line; no version at all', () => {
  const v = parseTcpdumpVersion('tcpdump version 4.99.5\n');
  assert.deepEqual(v, { tcpdump: '4.99.5', libpcap: undefined });
  assert.equal(describeTcpdumpVersion(v!), 'tcpdump version 4.99.5');
  // OpenBSD's tcpdump answers --version with its usage
  assert.equal(parseTcpdumpVersion('tcpdump: unknown option -- -\nusage: tcpdump [-AadefILlNnOopqStvXx] [-B fildrop] [-c count]\n'), null);
  assert.equal(parseTcpdumpVersion(''), null);
});

test('--immediate-mode: tcpdump 4.6 and later', () => {
  const has = (tcpdump: string) => hasImmediateMode({ tcpdump, libpcap: undefined });
  assert.equal(has('4.99.3'), true);
  assert.equal(has('4.6.0'), true);
  assert.equal(has('5.0.0-PRE-GIT'), true);
  assert.equal(has('4.5.1'), false);
  assert.equal(has('3.9.8'), false);
  assert.equal(has('weird'), true, 'unknown: left to the daemon, which notices a refusal');
});
