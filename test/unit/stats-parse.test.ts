// `stats`: one log line to a record. Every form the log can hold, events and
// lines that are not ours, JSON lines, and a differential check: records from
// decoded packets and from the text lines printed for them agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../../src/decode/frame.js';
import { packetText } from '../../src/format/tcpdump-text.js';
import { packetJson } from '../../src/format/json.js';
import { formatStamp } from '../../src/format/timestamp.js';
import { PacketRecords } from '../../src/stats/packet-record.js';
import { TextLineParser, parseLine } from '../../src/stats/parse-text-line.js';
import { LineKind, ipv4Text, newRecord, nflogAction, parseIpv4, type StatsRecord } from '../../src/stats/record.js';
import { Rng, randomPacket } from '../support/random-packets.js';

const T = '2023-05-01T01:48:13.748353+02:00';
/** T in ms since the epoch */
const T_MS = Date.UTC(2023, 3, 30, 23, 48, 13) + 748.353;

interface Want {
  action?: string;
  direction?: string;
  proto?: string;
  src?: string;
  dport?: number;
  rule?: string;
  iface?: string;
}

function packet(line: string): StatsRecord {
  const { kind, record } = parseLine(line);
  assert.equal(kind, LineKind.PACKET, `a packet: ${line}`);
  return record!;
}

function check(line: string, want: Want): void {
  const r = packet(line);
  const got: Want = {};
  for (const k of Object.keys(want) as Array<keyof Want>) {
    if (k === 'src') got.src = r.src4 >= 0 ? ipv4Text(r.src4) : r.src6;
    else (got as Record<string, unknown>)[k] = r[k];
  }
  assert.deepEqual(got, want, line);
}

test('stats parse: the stamp, to the microsecond, with its UTC offset', () => {
  const r = packet(`${T} rule 1/0(match): block in on vtnet0: 121.224.77.46.41854 > 46.38.233.77.6379: Flags [S], seq 1, win 29200, length 0`);
  assert.ok(Math.abs(r.time - T_MS) < 1e-6, `${r.time} vs ${T_MS}`);
  assert.equal(packet(`2023-04-30T23:48:13.748353Z rule 1/0(match): block in on em0: 192.0.2.1 > 192.0.2.2: ip-proto-6`).time, r.time);
  assert.equal(packet(`2023-04-30T19:18:13.748353-04:30 rule 1/0(match): block in on em0: 192.0.2.1 > 192.0.2.2: ip-proto-6`).time, r.time);
  assert.equal(packet(`2023-04-30T23:48:13Z rule 1/0(match): block in on em0: 192.0.2.1 > 192.0.2.2: ip-proto-6`).time, T_MS - 748.353);
});

test('stats parse: pflog headers of upstream, FreeBSD and OpenBSD tcpdump, and anchors', () => {
  check(`${T} rule 1/0(match): block in on vtnet0: 121.224.77.46.41854 > 46.38.233.77.6379: Flags [S], seq 1929621329, win 29200, length 0`, {
    action: 'block', direction: 'in', proto: 'tcp', src: '121.224.77.46', dport: 6379, rule: '1', iface: 'vtnet0',
  });
  check(`${T} rule 5/0(match) [uid 0] [ridentifier 1234]: block in on em0: 192.0.2.11.51234 > 198.51.100.1.443: Flags [SEW], seq 3281, win 65535, length 0`, {
    action: 'block', rule: '5', iface: 'em0', dport: 443, proto: 'tcp',
  });
  check(`${T} rule 3.scanners/web.0/0(match): block in on igb0.100: 192.0.2.14.1900 > 198.51.100.1.1900: UDP, length 120`, {
    rule: '3.scanners/web.0', iface: 'igb0.100', proto: 'udp', dport: 1900,
  });
  check(`${T} rule 10/unkn(99): pass out on em0: 192.0.2.16.1 > 198.51.100.1.80: Flags [FS], seq 1, win 512, length 0`, {
    action: 'pass', direction: 'out', rule: '10',
  });
  check(`${T} rule 1/0(match): block in/out on em0: 192.0.2.42.1 > 198.51.100.1.22: Flags [S], seq 1, win 1024, length 0`, { direction: 'in/out' });
  check(`${T} rule 1/0(match): unkn(12) in on em0: 192.0.2.43.1 > 198.51.100.1.22: Flags [S], seq 1, win 1024, length 0`, { action: 'unkn(12)' });
  // OpenBSD: "rule N/(reason) action", old TCP and UDP text, "def" rules
  check(`${T} rule 2/(match) block in on em0: 203.0.113.1.40000 > 198.51.100.1.22: S 2846582436:2846582436(0) win 16384 <mss 1460> (DF)`, {
    action: 'block', direction: 'in', rule: '2', proto: 'tcp', dport: 22, src: '203.0.113.1',
  });
  check(`${T} rule def/(match) block in on em0: 203.0.113.3.4000 > 198.51.100.1.5000: udp 12`, { rule: 'def', proto: 'udp', dport: 5000 });
  check(`${T} rule 3.scanners/web.def/(match) block in on em0: 203.0.113.6.40000 > 198.51.100.1.80: S 1:1(0) win 16384`, { rule: '3.scanners/web.def', proto: 'tcp' });
  check(`${T} rule 12/(unkn 99) block in on vlan100: 203.0.113.7.40000 > 198.51.100.1.80: . ack 1 win 16384`, { rule: '12', iface: 'vlan100', proto: 'tcp' });
  check(`${T} rule 4/(match) block in on em0: 203.0.113.4.5353 > 198.51.100.1.53: 4711+ A? example.com. (29)`, { proto: 'udp', dport: 53 });
  // an anchor name with '/' and parentheses: the reason is found by its form
  check(`${T} rule 7.a(b)/c.1/0(match): block in on em0: 192.0.2.9.1 > 198.51.100.1.25: Flags [S], seq 1, win 1, length 0`, { rule: '7.a(b)/c.1', dport: 25 });
  // an escaped interface name
  check(`${T} rule 12345/1(bad-offset): block in on em^J0M-i^?: 192.0.2.15 > 198.51.100.1: ICMP 192.0.2.15 udp port 33434 unreachable, length 36`, {
    iface: 'em^J0M-i^?', proto: 'icmp', dport: 3,
  });
});

test('stats parse: IPv4 and IPv6 sources, ports, fragments, truncation', () => {
  check(`${T} rule 0/0(match): block in on vtnet0: 2001:db8::17.40000 > 2001:db8::1.22: Flags [S], seq 1000, win 64240, length 0`, { src: '2001:db8::17', dport: 22, proto: 'tcp' });
  check(`${T} rule 0/0(match): block in on vtnet0: ::ffff:192.0.2.1.40000 > ::ffff:198.51.100.1.443: Flags [S], seq 1, win 1, length 0`, { src: '::ffff:192.0.2.1', dport: 443 });
  check(`${T} rule 0/0(match): block in on vtnet0: ::ffff:192.0.2.1 > ::ffff:198.51.100.1: ICMP6, echo request, id 1, seq 2, length 64`, { src: '::ffff:192.0.2.1', proto: 'icmp6', dport: 128 });
  check(`${T} rule 2/0(match): block in on em0: 192.0.2.20 > 198.51.100.1: ip-proto-6`, { src: '192.0.2.20', proto: 'tcp', dport: -1 });
  check(`${T} rule 2/0(match): block in on em0: truncated-ip - 160 bytes missing! 192.0.2.21.1 > 198.51.100.1.2: Flags [S], seq 1000:1160, win 64240, length 160`, { src: '192.0.2.21', dport: 2, proto: 'tcp' });
  check(`${T} rule 2/0(match): block in on em0: truncated-ip6 - 480 bytes missing!2001:db8::22.1 > 2001:db8::1.2: Flags [S], seq 1000:1480, win 64240, length 480`, { src: '2001:db8::22', dport: 2 });
  check(`${T} rule 1/0(match): block in on em0: 192.0.2.36.1 > 198.51.100.1.22:  [|tcp]`, { proto: 'tcp', dport: 22 });
  check(`${T} rule 1/0(match): block in on em0: 192.0.2.40.1 > 198.51.100.1.22:  tcp 16 [bad hdr length 4 - too short, < 20]`, { proto: 'tcp', dport: 22 });
  check(`${T} rule 1/0(match): block in on vtnet0: 2001:db8::18 > 2001:db8::1: HBH 1 > 22: Flags [SE], seq 1000, win 64240, length 0`, { proto: 'tcp', dport: 22 });
  check(`${T} rule 1/0(match): block in on vtnet0: 2001:db8::19 > 2001:db8::1: HBH DSTOPT RT6 (len=0, type=0 [Deprecated], segleft=0) frag (0|20) 1 > 22: Flags [S], seq 1000, win 64240, length 0`, { proto: 'tcp', dport: 22 });
  check(`${T} rule 1/0(match): block in on vtnet0: 2001:db8::1a > 2001:db8::1: frag (1280|24)`, { src: '2001:db8::1a', proto: 'ip-proto-44', dport: -1 });
  check(`${T} rule 1/0(match): block in on em0: 192.0.2.39 > 198.51.100.1: AH(spi=0x00001001,seq=0x5,icv=0xaaaa): 1 > 22: Flags [.], ack 1, win 64240, length 0`, { proto: 'tcp', dport: 22 });
  check(`${T} rule 1/0(match): block in on vtnet0: 2001:db8::1 > 2001:db8::2: DSTOPT DSTOPT ICMP6, echo request, id 1, seq 1, length 16`, { proto: 'icmp6', dport: 128 });
  check(`${T} rule 2/0(match): block in on em0: 192.0.2.19 > 198.51.100.1: GREv0, proto IPv4 (0x0800), length 48: IP 10.1.1.1 > 10.1.1.2: ICMP echo request, id 1, seq 1, length 8`, { proto: 'ip-proto-47', src: '192.0.2.19' });
  check(`${T} rule 1/0(match): block in on em0: 192.0.2.27 > 198.51.100.1: ESP(spi=0x00000001,seq=0x1), length 100`, { proto: 'ip-proto-50' });
  check(`${T} rule 1/0(match): block in on em0: 192.0.2.27 > 198.51.100.1:  ip-proto-47 48`, { proto: 'ip-proto-47', dport: -1 });
  // the pflog header only: counted, without a source
  const r = packet(`${T} rule 1/0(match): block in on em0: IP6, wrong link-layer encapsulation (invalid)`);
  assert.equal(r.src4, -1);
  assert.equal(r.src6, '');
  assert.equal(r.proto, 'other');
});

test('stats parse: ICMP and ICMPv6 types from their names', () => {
  const icmp: Array<[string, number]> = [
    ['ICMP echo request, id 7, seq 1, length 64', 8],
    ['ICMP echo reply, id 7, seq 1, length 64', 0],
    ['ICMP time exceeded in-transit, length 36', 11],
    ['ICMP host 192.0.2.1 unreachable - admin prohibited filter, length 36', 3],
    ['ICMP type-#42, length 8', 42],
    ['ICMP router solicitation, length 8', 10],
    ['icmp: echo request', 8],
    ['icmp: time exceeded in-transit', 11],
    [' [|icmp]', -1],
  ];
  for (const [text, type] of icmp) check(`${T} rule 1/0(match): block in on em0: 192.0.2.1 > 192.0.2.2: ${text}`, { proto: 'icmp', dport: type });
  const icmp6: Array<[string, number]> = [
    ['ICMP6, echo request, id 1, seq 2, length 64', 128],
    ['ICMP6, neighbor solicitation, length 32', 135],
    ['ICMP6, multicast listener report v2, length 28', 143],
    ['ICMP6, multicast listener report, length 24', 131],
    ['ICMP6, unknown icmp6 type (200), length 8', 200],
    ['ICMP6, echo reply [|icmp6]', 129],
    ['icmp6: echo request', 128],
  ];
  for (const [text, type] of icmp6) check(`${T} rule 1/0(match): block in on em0: 2001:db8::1 > 2001:db8::2: ${text}`, { proto: 'icmp6', dport: type });
});

test('stats parse: NFLOG lines, their interfaces, and an action read from the prefix', () => {
  check(`2026-11-25T18:20:01.123456+00:00 nflog 1 "pf-block" in on eth0: 10.77.0.1.55202 > 10.77.0.2.23: Flags [S], seq 1, win 64240, length 0`, {
    action: 'block', direction: 'in', iface: 'eth0', rule: 'nflog 1 "pf-block"', src: '10.77.0.1', dport: 23, proto: 'tcp',
  });
  check(`${T} nflog 2 "fw accept" in on eth0 out on eth1: 10.77.0.1.5 > 10.77.0.2.53: UDP, length 30`, { action: 'pass', direction: 'in', iface: 'eth0', rule: 'nflog 2 "fw accept"' });
  check(`${T} nflog 3 "" out on if7: 10.77.0.2 > 10.77.0.1: ICMP echo reply, id 1, seq 1, length 64`, { action: 'log', direction: 'out', iface: 'if7', rule: 'nflog 3 ""' });
  check(`${T} nflog 3 "say \\"hi\\": \\\\ DROP" in on eth0: 10.77.0.1 > 10.77.0.2: ip-proto-47`, { action: 'block', rule: 'nflog 3 "say \\"hi\\": \\\\ DROP"' });
  check(`${T} nflog 4 "x": 10.77.0.1 > 10.77.0.2: ip-proto-47`, { direction: '-', iface: '-', rule: 'nflog 4 "x"' });
  assert.equal(nflogAction('"pf-block"'), 'block');
  assert.equal(nflogAction('"Dropped: "'), 'block');
  assert.equal(nflogAction('"REJECT"'), 'block');
  assert.equal(nflogAction('"ACCEPT"'), 'pass');
  assert.equal(nflogAction('"new-conn"'), 'log');
});

test('stats parse: text later in a line never changes what is counted', () => {
  check(`${T} rule 12/0(match): pass in on igb0.100: 192.0.2.61.5353 > 198.51.100.1.53: 1+ A? rule 1/0(match): block in on vtnet0: 6.6.6.6.1 > 1.1.1.1.1.x. (78)`, {
    action: 'pass', src: '192.0.2.61', dport: 53, proto: 'udp', rule: '12', iface: 'igb0.100',
  });
  check(`${T} rule 12/0(match): block in on em0: 192.0.2.63.1 > 198.51.100.1.80: Flags [P.], seq 1:87, ack 1, win 502, length 86: HTTP: GET /rule 1/0(match): block in on vtnet0: 7.7.7.7.1 > 1.1.1.1.1: Flags [S] HTTP/1.1`, {
    src: '192.0.2.63', dport: 80, rule: '12', iface: 'em0',
  });
});

test('stats parse: events, blank lines, and lines that are not ours', () => {
  const kind = (l: string) => parseLine(l).kind;
  assert.equal(kind(`${T} pfasciilogd: log reopened`), LineKind.EVENT);
  assert.equal(kind(`${T} pfasciilogd: unparsable: rule 1/0(match): block in on em0: 192.0.2.50.1 > 198.51.100.1.22: Flags [S]`), LineKind.EVENT);
  assert.equal(kind(`${T} tcpdump: listening on pflog0, link-type PFLOG (OpenBSD pflog file), snapshot length 262144 bytes`), LineKind.EVENT);
  assert.equal(kind(`${T} reading from file demo/pflog.pcap, link-type PFLOG (OpenBSD pflog file), snapshot length 262144`), LineKind.EVENT);
  assert.equal(kind(''), LineKind.BLANK);
  assert.equal(kind('\r'), LineKind.BLANK);
  for (const l of [
    '# a comment',
    'rule 1/0(match): block in on em0: 192.0.2.64.1 > 198.51.100.1.22: Flags [S], seq 1, win 1024, length 0',
    `x ${T} rule 1/0(match): block in on em0: 192.0.2.65.1 > 198.51.100.1.22: Flags [S]`,
    `${T} ${T} rule 1/0(match): block in on em0: 192.0.2.66.1 > 198.51.100.1.22: Flags [S]`,
    `${T} \t0x0000:  4500 0028 1234 4000 4006 1889 0102 0304  E..(.4@.@.......`,
    `${T} rule 1/0(match) block`,
    `${T} rule nothing here`,
    '2023-13-01T01:48:13.748353+02:00 rule 1/0(match): block in on em0: 192.0.2.1 > 192.0.2.2: ip-proto-6',
    '2023-05-01T01:48:13.+02:00 rule 1/0(match): block in on em0: 192.0.2.1 > 192.0.2.2: ip-proto-6',
    '{"time": "yesterday"}',
    '{not json',
    '\x00\x01\x02\xff',
  ]) assert.equal(kind(l), LineKind.UNPARSED, JSON.stringify(l));
  // a CR before the newline (a log copied from elsewhere) is not part of the line
  check(`${T} rule 1/0(match): block in on em0: 192.0.2.1 > 192.0.2.2: ip-proto-17\r`, { proto: 'udp' });
});

test('stats parse: --format json lines give the same record as the text line', () => {
  const rng = new Rng(99);
  const recs = new PacketRecords();
  let n = 0;
  for (let i = 0; i < 2000; i++) {
    const g = randomPacket(rng, { hostLittleEndian: true, oneLine: true });
    const p = decodeFrame({ linktype: 117, tsSec: 1700000000 + i, tsUsec: 250000, bytes: g.data, start: 0, end: g.data.length, wireLength: g.origLen, littleEndian: true });
    const want = newRecord();
    recs.fill(p, want);
    // JSON gives the type of an ICMP message cut short; its text line does not (" [|icmp]")
    const t = p.net?.transport;
    if (t?.kind === 'icmp' && t.truncated) want.dport = t.type;
    const { kind, record } = parseLine(JSON.stringify(packetJson(p, formatStamp(p.tsSec, p.tsUsec))));
    assert.equal(kind, LineKind.PACKET);
    assert.deepEqual(record, want);
    n++;
  }
  assert.equal(n, 2000);
});

test('stats parse: records from decoded packets and from their text lines agree (random packets)', () => {
  const rng = new Rng(12345);
  const recs = new PacketRecords();
  const parser = new TextLineParser();
  const fields = ['time', 'action', 'direction', 'proto', 'src4', 'src6', 'dport', 'rule', 'iface'] as const;
  const differ: string[] = [];
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const g = randomPacket(rng, { hostLittleEndian: true, oneLine: true });
    const p = decodeFrame({ linktype: 117, tsSec: 1700000000, tsUsec: 5, bytes: g.data, start: 0, end: g.data.length, wireLength: g.origLen, littleEndian: true });
    const want = newRecord();
    recs.fill(p, want);
    const line = `2023-11-14T22:13:20.000005+00:00 ${packetText(p)}`;
    const got = newRecord();
    const kind = parser.parseString(line, got);
    const bad = kind !== LineKind.PACKET ? ['kind'] : fields.filter((f) => got[f] !== want[f]);
    if (bad.length > 0) differ.push(`${g.category} ${bad.join(',')}: ${line}`);
  }
  // Known, rare, on damaged or odd packets only: tcpdump repeating the
  // addresses after a routing header cut short, an IPv4 header cut short
  // (the text still shows the addresses), an interface name holding ": ".
  assert.ok(differ.length <= 5, `${differ.length} of ${N} differ:\n${differ.slice(0, 10).join('\n')}`);
});

test('stats parse: IPv4 text to number and back', () => {
  for (const a of ['0.0.0.0', '255.255.255.255', '192.0.2.1', '10.0.0.255']) assert.equal(ipv4Text(parseIpv4(a)), a);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '', '1.2.3.4 ']) assert.equal(parseIpv4(bad), -1, bad);
});
