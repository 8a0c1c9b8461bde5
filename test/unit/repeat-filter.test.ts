// --dedupe's filter: one line per (source, protocol, port) per window of
// capture time, bounded memory, and a summary the fail2ban filter can't match.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../../src/decode/frame.js';
import type { Packet } from '../../src/decode/packet.js';
import { RepeatFilter, describeKey, repeatKey, summaryText } from '../../src/dedupe/repeat-filter.js';
import { ICMP_ECHO_FRAME, icmpFrame, ipv6Frame, oneport, probeFrame, scan, type Probe } from '../support/scan-capture.js';

function packet(p: Probe): Packet {
  const f = probeFrame(p);
  const sec = Math.floor(p.time);
  return decodeFrame({ linktype: 117, tsSec: sec, tsUsec: Math.round((p.time - sec) * 1e6), bytes: f, start: 0, end: f.length, wireLength: f.length, littleEndian: true });
}

function admitted(filter: RepeatFilter, probes: readonly Probe[]): number {
  return probes.filter((p) => filter.admit(packet(p))).length;
}

test('a client retrying one port gets one line per window; a scan gets one per port', () => {
  const f = new RepeatFilter({ windowSeconds: 600, max: 1000 });
  assert.equal(admitted(f, oneport('198.51.100.9', 443, 500, 1000)), 1);
  assert.equal(admitted(f, scan('203.0.113.7', 20, 3, 1000)), 20);
  const s = f.takeSummary()!;
  assert.equal(s.suppressed, 499 + 40);
  assert.equal(s.keys, 21);
  assert.deepEqual(s.top, { key: '198.51.100.9 tcp/443', count: 499 });
  assert.equal(f.takeSummary(), null, 'a summary starts a new period');
});

test('the window is capture time: a repeat after the window is written again, and so is one from a clock that went back', () => {
  const f = new RepeatFilter({ windowSeconds: 10, max: 10 });
  const at = (time: number) => f.admit(packet({ src: '198.51.100.9', dport: 22, time }));
  assert.equal(at(100), true);
  assert.equal(at(109.999), false);
  assert.equal(at(110), true, 'a new window starts at the first packet written');
  assert.equal(at(115), false);
  assert.equal(at(50), true, 'capture time went back: written');
});

test('protocol, port and address family are part of the key', () => {
  const f = new RepeatFilter({ windowSeconds: 600, max: 100 });
  const src = '198.51.100.9';
  assert.equal(f.admit(packet({ src, dport: 53, time: 1 })), true);
  assert.equal(f.admit(packet({ src, dport: 53, proto: 'udp', time: 1 })), true);
  assert.equal(f.admit(packet({ src, dport: 54, proto: 'udp', time: 1 })), true);
  assert.equal(f.admit(packet({ src: '198.51.100.10', dport: 53, time: 1 })), true);
  assert.equal(f.admit(packet({ src, dport: 53, proto: 'udp', time: 2 })), false);
  const v6 = ipv6Frame('2001:db8::7', 22);
  const v6packet = () => decodeFrame({ linktype: 117, tsSec: 5, tsUsec: 0, bytes: v6, start: 0, end: v6.length, wireLength: v6.length, littleEndian: true });
  assert.equal(f.admit(v6packet()), true);
  assert.equal(f.admit(v6packet()), false);
  assert.equal(describeKey(repeatKey(v6packet())!), '2001:db8::7 tcp/22');
});

test('ICMP is keyed by its type', () => {
  const f = new RepeatFilter({ windowSeconds: 600, max: 100 });
  const at = (b: Buffer) => f.admit(decodeFrame({ linktype: 117, tsSec: 5, tsUsec: 0, bytes: b, start: 0, end: b.length, wireLength: b.length, littleEndian: true }));
  assert.equal(at(ICMP_ECHO_FRAME), true);
  assert.equal(at(ICMP_ECHO_FRAME), false);
  assert.equal(at(icmpFrame(13)), true, 'a timestamp request is another key');
  assert.match(summaryText(f.takeSummary()!), /most from 198\.51\.100\.77 icmp\/8 \(1\)/);
});

test('memory is bounded: never more keys than --dedupe-max, the least recently seen go first', () => {
  const f = new RepeatFilter({ windowSeconds: 600, max: 3 });
  const probe = (src: string, time: number) => f.admit(packet({ src, dport: 22, time }));
  probe('10.0.0.1', 1);
  probe('10.0.0.2', 2);
  probe('10.0.0.3', 3);
  assert.equal(probe('10.0.0.1', 4), false, 'seen again: now the most recent');
  assert.equal(probe('10.0.0.4', 5), true);
  assert.equal(f.size, 3);
  assert.equal(probe('10.0.0.1', 6), false, '10.0.0.1 was kept');
  assert.equal(probe('10.0.0.2', 7), true, '10.0.0.2, the least recently seen, was forgotten: written again');
  const s = f.takeSummary()!;
  assert.equal(s.evicted, 2);
  assert.equal(s.tracked, 3);

  const big = new RepeatFilter({ windowSeconds: 600, max: 5000 });
  for (let i = 0; i < 10_000; i++) {
    for (let port = 0; port < 3; port++) big.admit(packet({ src: `10.${i >> 8 & 255}.${i & 255}.1`, dport: 1000 + port, time: i }));
    assert.ok(big.size <= 5000);
  }
  assert.equal(big.takeSummary()!.evicted, 30_000 - 5000);
});

test('packets without a network layer are always written', () => {
  const f = new RepeatFilter({ windowSeconds: 600, max: 10 });
  const junk = Buffer.alloc(20);
  const p = () => decodeFrame({ linktype: 117, tsSec: 1, tsUsec: 0, bytes: junk, start: 0, end: 3, wireLength: 3, littleEndian: true });
  assert.equal(f.admit(p()), true);
  assert.equal(f.admit(p()), true);
  assert.equal(f.takeSummary(), null);
});

test('the summary line names no pf header, so the filter cannot take it for a packet', () => {
  const f = new RepeatFilter({ windowSeconds: 600, max: 10 });
  admitted(f, oneport('198.51.100.9', 443, 3, 1000));
  const text = summaryText(f.takeSummary()!);
  assert.equal(text, 'dedupe: 2 repeated packets not logged (1 source/port pairs; most from 198.51.100.9 tcp/443 (2)); 0 pairs forgotten early, 1 of 10 remembered, window 600 s');
  assert.doesNotMatch(text, /\brule\b|\bblock\b|\bnflog\b| on /);
});

test('the window and size must be positive', () => {
  assert.throws(() => new RepeatFilter({ windowSeconds: 0, max: 10 }), RangeError);
  assert.throws(() => new RepeatFilter({ windowSeconds: 10, max: 0 }), RangeError);
});
