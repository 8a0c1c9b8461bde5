// NFLOG (LINKTYPE_NFLOG 239) decoding and its line: TLVs in both byte
// orders, the ones our own traffic rarely produces (uid/gid, mark, output
// interface only, physical interfaces), a payload cut by the snaplen, and
// malformed TLVs. Real kernel captures are exercised by the e2e test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketLines } from '../../src/format/packet-lines.js';
import { TCP, ipv4, ipv6, nflogFrame, pcapFile, tcp, udp, LINKTYPE_NFLOG } from '../support/capture-builder.js';

process.env.TZ = 'UTC';

function lines(frames: Buffer[], opts: { littleEndian?: boolean; format?: 'text' | 'json'; names?: (i: number) => string | null } = {}): string[] {
  const warnings: string[] = [];
  const pl = new PacketLines(opts.format ?? 'text', (m) => warnings.push(m), opts.names);
  const out = pl.push(pcapFile(frames, { linktype: LINKTYPE_NFLOG, littleEndian: opts.littleEndian ?? true, startSec: 1764094424 }));
  const end = pl.end();
  assert.deepEqual(warnings, []);
  return Buffer.concat([out ?? Buffer.alloc(0), end ?? Buffer.alloc(0)]).toString('latin1').split('\n').filter((l) => l !== '').map((l) => l.replace(/^\S+ /, ''));
}

const SYN = ipv4({ src: '10.77.0.1', dst: '10.77.0.2', proto: 6, payload: tcp({ sport: 55202, dport: 23, flags: TCP.SYN, seq: 1 }) });

test('nflog: group, prefix and input interface before the packet, in both TLV byte orders', () => {
  for (const littleEndian of [true, false]) {
    const got = lines([nflogFrame(SYN, { group: 1, prefix: 'pf-block', indev: 3, littleEndian })], { littleEndian });
    assert.deepEqual(got, ['nflog 1 "pf-block" in on if3: 10.77.0.1.55202 > 10.77.0.2.23: Flags [S], seq 1, win 64240, length 0']);
  }
});

test('nflog: interface names come from the resolver; output-only and forwarded packets', () => {
  const names = (i: number) => ({ 2: 'eth0', 3: 'eth1' })[i] ?? null;
  const got = lines(
    [
      nflogFrame(SYN, { group: 5, prefix: 'fwd', indev: 2, outdev: 3 }),
      nflogFrame(SYN, { group: 5, prefix: 'out', outdev: 3 }),
      nflogFrame(SYN, { group: 5, indev: 9 }),
    ],
    { names },
  );
  assert.deepEqual(got.map((l) => l.slice(0, l.indexOf(': ') + 1)), [
    'nflog 5 "fwd" in on eth0 out on eth1:',
    'nflog 5 "out" out on eth1:',
    'nflog 5 "" in on if9:',
  ]);
});

test('nflog: uid, gid, mark and physical-interface TLVs are read past, IPv6 is decoded', () => {
  const v6 = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto: 17, payload: udp(5353, 53, Buffer.alloc(12)) });
  const got = lines([nflogFrame(v6, { family: 10, group: 2, prefix: 'v6', indev: 4, physindev: 7, uid: 1000, gid: 100, mark: 0x2a })]);
  assert.deepEqual(got, ['nflog 2 "v6" in on if4: 2001:db8::1.5353 > 2001:db8::2.53: UDP, length 12']);
  const json = JSON.parse(lines([nflogFrame(v6, { family: 10, group: 2, prefix: 'v6', indev: 4 })], { format: 'json' })[0]!.replace(/^/, '')) as Record<string, unknown>;
  assert.equal(json.group, 2);
  assert.equal(json.prefix, 'v6');
  assert.equal(json.in_interface, 'if4');
  assert.equal(json.out_interface, null);
  assert.equal(json.direction, 'in');
  assert.equal(json.family, 'inet6');
  assert.equal(json.rule, null);
});

test('nflog: a payload cut by the snaplen keeps its real length; hostile prefixes stay one field of printable text', () => {
  const cut = nflogFrame(SYN.subarray(0, 30), { group: 1, prefix: 'p', indev: 1, payloadLength: SYN.length });
  assert.match(lines([cut])[0]!, /^nflog 1 "p" in on if1: 10\.77\.0\.1\.55202 > 10\.77\.0\.2\.23: {1,2}\[\|tcp\]$/);
  const evil = nflogFrame(SYN, { group: 1, prefix: 'a"b\\c\nrule 1/0(match): block in on x: 6.6.6.6.1 > ', indev: 1 });
  const [line] = lines([evil]);
  assert.match(line!, /^nflog 1 "a\\"b\\\\c\^Jrule 1\/0\(match\): block in on x: 6\.6\.6\.6\.1 > " in on if1: 10\.77\.0\.1\.55202 > /);
  assert.match(line!, /^[\x20-\x7e]+$/);
});

test('nflog: malformed TLVs and missing payloads give one line saying so', () => {
  const bad = Buffer.concat([Buffer.from([2, 0, 0, 1]), Buffer.from([2, 0, 9, 0])]); // TLV length 2 < 4
  assert.deepEqual(lines([bad]), ['nflog 1 "": [nflog: bad TLV length]']);
  const noPayload = Buffer.from([2, 0, 0, 1]);
  assert.deepEqual(lines([noPayload]), ['nflog 1 "": no packet']);
  assert.deepEqual(lines([Buffer.from([2, 0])]), [' [|nflog]']);
});

test('nflog: the kernel TIMESTAMP TLV, when present, is the stamp (libpcap stamps batches late)', () => {
  const pl = new PacketLines('text', () => {});
  const frames = [nflogFrame(SYN, { group: 1, indev: 1, timestamp: { sec: 1764094423, usec: 373353 } }), nflogFrame(SYN, { group: 1, indev: 1 })];
  const out = pl.push(pcapFile(frames, { linktype: LINKTYPE_NFLOG, startSec: 1764094424 }))!.toString('latin1').split('\n');
  assert.match(out[0]!, /^2025-11-25T18:13:43\.373353\+00:00 nflog 1 "" in on if1: /);
  assert.match(out[1]!, /^2025-11-25T18:13:45\.748353\+00:00 nflog 1 "" in on if1: /, 'no TLV: the record time');
});
