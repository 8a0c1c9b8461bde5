// `stats`: what the aggregator makes of records. Exact totals on the fail2ban
// sample log; sources, their ports and their forgetting when there are too
// many; the timeline and its chart buckets; --since/--until.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aggregator, bucketWidth } from '../../src/stats/aggregate.js';
import { readInput } from '../../src/stats/input.js';
import { ProtoCode, newRecord, parseIpv4, type StatsRecord } from '../../src/stats/record.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SAMPLE = path.join(ROOT, 'test/fail2ban/pfasciilogd.log');

function rec(o: Partial<StatsRecord> & { src?: string }): StatsRecord {
  const r = newRecord();
  r.time = 0;
  r.action = 'block';
  r.direction = 'in';
  r.proto = 'tcp';
  r.protoCode = ProtoCode.TCP;
  r.rule = '1';
  r.iface = 'em0';
  Object.assign(r, o);
  if (o.src !== undefined) {
    const n = parseIpv4(o.src);
    if (n >= 0) r.src4 = n;
    else r.src6 = o.src;
  }
  return r;
}

test('stats aggregate: exact totals of the fail2ban sample log', async () => {
  const agg = new Aggregator();
  const warnings: string[] = [];
  assert.equal(await readInput(SAMPLE, agg, { warn: (m) => warnings.push(m) }), 0);
  const s = agg.summary(1000);
  assert.equal(s.lines, 253);
  assert.equal(s.packets, 102);
  assert.equal(s.events, 5);
  // comments, and the lines the filter must not match because they are not ours
  assert.equal(s.unparsed, 131);
  assert.deepEqual(warnings, [`${SAMPLE}: 131 lines not understood (the first: line 1)`]);
  assert.deepEqual(Object.fromEntries(s.actions), { block: 91, pass: 4, nat: 2, match: 1, rdr: 1, scrub: 1, 'unkn(12)': 1, 'unkn(99)': 1 });
  assert.deepEqual(Object.fromEntries(s.directions), { in: 99, out: 2, 'in/out': 1 });
  assert.deepEqual(Object.fromEntries(s.protocols), { tcp: 82, udp: 7, icmp6: 5, icmp: 4, other: 1, 'ip-proto-44': 1, 'ip-proto-47': 1, 'ip-proto-50': 1 });
  assert.deepEqual(Object.fromEntries(s.interfaces.top), { em0: 84, vtnet0: 11, 'igb0.100': 4, 'em^J0M-i^?': 1, eth0: 1, vlan100: 1 });
  assert.equal(s.rules.distinct, 15);
  assert.deepEqual(s.rules.top.slice(0, 3), [['1', 57], ['2', 19], ['12', 7]]);
  assert.equal(s.sources.distinct, 73);
  assert.equal(s.sources.exact, true);
  assert.deepEqual(s.sources.top[0], { src: '::ffff:198.51.100.7', packets: 6, ports: 4, first: Date.parse('2023-04-30T23:55:00Z'), last: Date.parse('2023-04-30T23:55:12Z') });
  assert.deepEqual(s.ports.top.slice(0, 3), [{ proto: 'tcp', port: 22, packets: 50 }, { proto: 'tcp', port: 443, packets: 9 }, { proto: 'tcp', port: 2, packets: 6 }]);
  assert.ok(Math.abs(s.first! - (Date.parse('2023-01-15T11:00:00.123Z') + 0.456)) < 1e-3, `first ${s.first}`);
  assert.equal(s.last, Date.parse('2023-07-01T04:30:00Z'));
  assert.equal(s.blocked.total, 91);
  assert.equal(s.blocked.buckets.reduce((n, b) => n + b.packets, 0), 91);
  // every line of the sample's IPv4-mapped/compatible section: the ones the filter never matches
  assert.equal(s.v4InV6NotBanned, 13);
});

test('stats aggregate: distinct ports per source, past the set and into the bitmap', () => {
  const agg = new Aggregator();
  // 3,000 ports twice each, plus UDP and ICMP keys that share the numbers
  for (let round = 0; round < 2; round++) for (let p = 1; p <= 3000; p++) agg.add(rec({ src: '198.51.100.9', dport: p, time: p }));
  agg.add(rec({ src: '198.51.100.9', dport: 22, proto: 'udp', protoCode: ProtoCode.UDP, time: 1 }));
  agg.add(rec({ src: '198.51.100.9', dport: 8, proto: 'icmp', protoCode: ProtoCode.ICMP, time: 1 }));
  agg.add(rec({ src: '198.51.100.9', dport: -1, proto: 'ip-proto-47', protoCode: ProtoCode.NONE, time: 1 }));
  for (let i = 0; i < 5; i++) agg.add(rec({ src: '2001:db8::1', dport: 443, time: 10 + i }));
  agg.add(rec({ src: '2001:db8::1', dport: 80, time: 3 }));
  const s = agg.summary(10);
  assert.deepEqual(s.sources.top, [
    { src: '198.51.100.9', packets: 6003, ports: 3002, first: 1, last: 3000 },
    { src: '2001:db8::1', packets: 6, ports: 2, first: 3, last: 14 },
  ]);
  assert.equal(s.ports.distinct, 3002);
});

test('stats aggregate: too many sources: the fewest-packet half is forgotten, heavy sources stay exact', () => {
  const agg = new Aggregator({ maxSources: 1000 });
  // ten heavy sources of 50 packets each among 20,000 one-packet sources
  const heavy = Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 1}`);
  let t = 0;
  for (let i = 0; i < 20000; i++) {
    agg.add(rec({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, dport: 22, time: t++ }));
    if (i % 400 === 0) for (const h of heavy) agg.add(rec({ src: h, dport: 1 + (i % 7), time: t++ }));
  }
  const s = agg.summary(10);
  assert.equal(s.sources.exact, false);
  assert.ok(Math.abs(s.sources.distinct - 20010) / 20010 < 0.03, `estimate ${s.sources.distinct}`);
  assert.deepEqual(s.sources.top.map((r) => r.src).sort(), [...heavy].sort());
  for (const r of s.sources.top) {
    assert.equal(r.packets, 50);
    assert.equal(r.ports, 7);
  }
  assert.ok(s.sources.maxUndercount >= 1 && s.sources.maxUndercount < 50, `undercount ${s.sources.maxUndercount}`);
  assert.equal(s.packets, 20500, 'totals are never approximate');
});

test('stats aggregate: --since and --until keep [since, until)', () => {
  const agg = new Aggregator({ since: 1000, until: 2000 });
  for (const time of [999, 1000, 1500, 1999.999, 2000, 5000]) agg.add(rec({ src: '192.0.2.1', dport: 22, time }));
  const s = agg.summary(10);
  assert.equal(s.packets, 3);
  assert.equal(s.outside, 3);
  assert.equal(s.first, 1000);
  assert.equal(s.last, 1999.999);
});

test('stats aggregate: the timeline widens its buckets; the chart has at most 24, summing to the blocked packets', () => {
  const agg = new Aggregator();
  const start = Date.parse('2026-11-01T00:00:00Z');
  // 30 days, a blocked packet every 17 s and a passed one every 60 s
  let blocked = 0;
  for (let t = 0; t < 30 * 86400; t += 17) {
    agg.add(rec({ src: '192.0.2.1', dport: 22, time: start + t * 1000 }));
    blocked++;
    if (t % 60 === 0) agg.add(rec({ src: '192.0.2.2', dport: 22, action: 'pass', time: start + t * 1000 }));
  }
  const s = agg.summary(10);
  assert.equal(s.blocked.total, blocked);
  assert.ok(s.blocked.buckets.length <= 24 && s.blocked.buckets.length >= 4, `${s.blocked.buckets.length} buckets`);
  assert.equal(s.blocked.buckets.reduce((n, b) => n + b.packets, 0), blocked);
  assert.equal(s.blocked.bucket, 7 * 86400000, 'weeks');
  // weeks start on Mondays, in local time at the UTC offset of the first packet
  const offset = -new Date(start).getTimezoneOffset() * 60000;
  for (const b of s.blocked.buckets) assert.equal(new Date(b.start + offset).getUTCDay(), 1);
  for (let i = 1; i < s.blocked.buckets.length; i++) assert.equal(s.blocked.buckets[i]!.start - s.blocked.buckets[i - 1]!.start, s.blocked.bucket);
});

test('stats aggregate: a short span gets small buckets', () => {
  const agg = new Aggregator();
  for (let i = 0; i < 19; i++) agg.add(rec({ src: '192.0.2.1', dport: 22, time: 1682898493748 + i * 1000 }));
  const s = agg.summary(10);
  assert.equal(s.blocked.bucket, 1000);
  assert.equal(s.blocked.buckets.length, 19);
  assert.ok(s.blocked.buckets.every((b) => b.packets === 1));
  assert.deepEqual([1, 5, 10, 30, 60, 300].map((_, i) => bucketWidth(i) / 1000), [1, 5, 10, 30, 60, 300]);
  for (let i = 1; i < 20; i++) assert.equal(bucketWidth(i) % bucketWidth(i - 1), 0, 'each width a multiple of the one before');
});

test('stats aggregate: nothing counted', () => {
  const s = new Aggregator().summary(10);
  assert.equal(s.packets, 0);
  assert.equal(s.first, null);
  assert.deepEqual(s.blocked.buckets, []);
  assert.deepEqual(s.sources.top, []);
});
