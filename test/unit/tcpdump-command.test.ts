// The tcpdump command line each platform gets, for both decoders: the one
// place where Linux's, FreeBSD's and OpenBSD's tcpdumps differ for us.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonDefaults, parseDaemonArgs, type DaemonOptions } from '../../src/cli/options.js';
import { captureArgv, DEFAULT_SNAPLEN, NFLOG_SNAPLEN, textRelayArgv } from '../../src/capture/tcpdump-command.js';

const PLATFORMS = ['linux', 'freebsd', 'openbsd'] as const;
type Platform = (typeof PLATFORMS)[number];

function opts(argv: string[], platform: Platform): DaemonOptions {
  const cmd = parseDaemonArgs(argv, platform);
  assert.equal(cmd.kind, 'daemon');
  return (cmd as { kind: 'daemon'; options: DaemonOptions }).options;
}

test('the default user: nobody, but none on OpenBSD (its tcpdump has no -Z)', () => {
  assert.equal(daemonDefaults('linux').user, 'nobody');
  assert.equal(daemonDefaults('freebsd').user, 'nobody');
  assert.equal(daemonDefaults('openbsd').user, '');
  // -u still wins everywhere
  assert.equal(opts(['-u', '_pfal'], 'openbsd').user, '_pfal');
  assert.equal(opts(['-u', ''], 'linux').user, '');
});

test('the default snaplen leaves room for the largest pflog header, IPv6 with extension headers and TCP options', () => {
  // 100 (OpenBSD pflog) + 40 (IPv6) + 64 (extension headers) + 60 (TCP with options)
  assert.ok(DEFAULT_SNAPLEN >= 264);
  // NFLOG: libpcap's receive buffer is 128 + snaplen, and a datagram holds a batch: the maximum
  assert.equal(NFLOG_SNAPLEN, 262144);
  // and OpenBSD's own default (116; 160 for pflog) is not enough
  assert.ok(DEFAULT_SNAPLEN > 160);
});

test('argv per platform, both decoders, defaults', () => {
  const want: Record<Platform, { native: string[]; text: string[] }> = {
    linux: {
      native: ['-Z', 'nobody', '-U', '--immediate-mode', '-w', '-', '-i', 'pflog0', '-s', '512'],
      text: ['-Z', 'nobody', '--immediate-mode', '-t', '-l', '-e', '-n', '-i', 'pflog0', '-s', '512'],
    },
    freebsd: {
      native: ['-Z', 'nobody', '-U', '--immediate-mode', '-w', '-', '-i', 'pflog0', '-s', '512'],
      text: ['-Z', 'nobody', '--immediate-mode', '-t', '-l', '-e', '-n', '-i', 'pflog0', '-s', '512'],
    },
    // no -Z (tcpdump drops to _tcpdump itself), no -U (-w output is
    // unbuffered), no --immediate-mode (no such flag: its BPF read times out
    // after 1 s, and nothing on its command line changes that)
    openbsd: {
      native: ['-w', '-', '-i', 'pflog0', '-s', '512'],
      text: ['-t', '-l', '-e', '-n', '-i', 'pflog0', '-s', '512'],
    },
  };
  for (const p of PLATFORMS) {
    const o = opts([], p);
    assert.deepEqual(captureArgv(o, p), want[p].native, `${p}, native decoder`);
    assert.deepEqual(textRelayArgv(o, p), want[p].text, `${p}, text relay`);
  }
});

test('argv per platform: -s given wins, NFLOG and expressions, -r', () => {
  for (const p of PLATFORMS) {
    const given = opts(['-s', '1500', '--', 'inbound'], p);
    for (const argv of [captureArgv(given, p), textRelayArgv(given, p)]) {
      assert.deepEqual(argv.slice(-4), ['-s', '1500', '--', 'inbound'], p);
      assert.equal(argv.filter((a) => a === '-s').length, 1, p);
    }
    const nflog = opts(['-i', 'nflog:3'], p);
    assert.deepEqual(captureArgv(nflog, p).slice(-4), ['-i', 'nflog:3', '-s', '262144'], p);
    assert.deepEqual(textRelayArgv(nflog, p).slice(-4), ['-i', 'nflog:3', '-s', '262144'], p);
    // a capture file: no default -s (it would only cut what was saved)
    const file = opts(['-r', '/x.pcap'], p);
    assert.ok(!captureArgv(file, p).includes('-s'), p);
    assert.ok(!textRelayArgv(file, p).includes('-s'), p);
  }
});

test('argv per platform without --immediate-mode (a tcpdump that refused it), and never for -r', () => {
  const want: Record<Platform, { native: string[]; text: string[] }> = {
    linux: {
      native: ['-Z', 'nobody', '-U', '-w', '-', '-i', 'nflog:1', '-s', '262144'],
      text: ['-Z', 'nobody', '-t', '-l', '-e', '-n', '-i', 'nflog:1', '-s', '262144'],
    },
    freebsd: {
      native: ['-Z', 'nobody', '-U', '-w', '-', '-i', 'nflog:1', '-s', '262144'],
      text: ['-Z', 'nobody', '-t', '-l', '-e', '-n', '-i', 'nflog:1', '-s', '262144'],
    },
    openbsd: {
      native: ['-w', '-', '-i', 'nflog:1', '-s', '262144'],
      text: ['-t', '-l', '-e', '-n', '-i', 'nflog:1', '-s', '262144'],
    },
  };
  for (const p of PLATFORMS) {
    const o = opts(['-i', 'nflog:1'], p);
    assert.deepEqual(captureArgv(o, p, false), want[p].native, `${p}, native decoder`);
    assert.deepEqual(textRelayArgv(o, p, false), want[p].text, `${p}, text relay`);
    // with the flag: right after -U (native) or -Z (text)
    assert.equal(captureArgv(o, p, true).includes('--immediate-mode'), p !== 'openbsd', p);
    assert.equal(textRelayArgv(o, p, true).includes('--immediate-mode'), p !== 'openbsd', p);
    const file = opts(['-r', '/x.pcap'], p);
    assert.ok(!captureArgv(file, p, true).includes('--immediate-mode'), p);
    assert.ok(!textRelayArgv(file, p, true).includes('--immediate-mode'), p);
  }
});
