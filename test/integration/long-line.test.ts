// --decoder tcpdump and a line longer than 64 KiB: a blocked ~65 KB TCP SYN
// (LRO, reassembly) whose payload is an HTTP request line. Without -v the real
// tcpdump prints the request line in full, so its line is longer than the
// daemon's limit, and the payload decides what comes after the cut: here a
// fake pf line naming 6.6.6.6, placed exactly at the limit. The daemon must
// keep the head (the real sender's line) and drop the rest, and the real
// fail2ban-regex must never see 6.6.6.6, in either mode.
//
//   npm run build && node --test dist/test/integration/long-line.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { MAX_LINE_BYTES } from '../../src/format/stamp-lines.js';
import { TCP, ipv4, pcapFile, pflogHeader, tcp } from '../support/capture-builder.js';
import { Sandbox, TEXT_RELAY, events } from '../support/daemon-harness.js';
import { fail2banRegex, filterArg } from '../support/fail2ban-regex.js';
import { findTool, unavailable } from '../support/unavailable.js';

const SENDER = '192.0.2.7';
const NEXT = '192.0.2.8';
const FAKE = 'rule 1/0(match): block in on em0: 6.6.6.6.1 > 1.1.1.1.1: Flags [S], seq 1';
/** the largest IPv4 packet: 65535 bytes, of which 40 are IP and TCP headers */
const PAYLOAD = 65535 - 40;

/** A blocked SYN from SENDER to port 80 whose payload is "GET /AAA...<fake at fakeAt>... HTTP/1.1\r\n". */
function bigSyn(fakeAt: number): Buffer {
  const req = Buffer.alloc(PAYLOAD, 'A');
  Buffer.from('GET /').copy(req, 0);
  if (fakeAt >= 0) Buffer.from(FAKE).copy(req, fakeAt);
  Buffer.from(' HTTP/1.1\r\n').copy(req, PAYLOAD - 11);
  const ip = ipv4({ src: SENDER, dst: '198.51.100.1', proto: 6, payload: tcp({ sport: 40000, dport: 80, flags: TCP.SYN, payload: req }) });
  return Buffer.concat([pflogHeader({}), ip]);
}

const smallSyn = (src: string) => Buffer.concat([pflogHeader({}), ipv4({ src, dst: '198.51.100.1', proto: 6, payload: tcp({ sport: 40001, dport: 22, flags: TCP.SYN }) })]);

test('--decoder tcpdump: an over-long line keeps its head, its rest never becomes a line', async (t) => {
  const tcpdump = findTool('tcpdump');
  const f2b = findTool('fail2ban-regex');
  if (!tcpdump || !f2b) {
    unavailable(t, `${!tcpdump ? 'tcpdump' : 'fail2ban-regex'} not found`);
    return;
  }
  const s = new Sandbox('longline');
  t.after(() => rmSync(s.dir, { recursive: true, force: true }));

  // where tcpdump starts printing the payload in the line: the fake goes exactly to the cut
  const probe = s.path('probe.pcap');
  writeFileSync(probe, pcapFile([bigSyn(-1)]));
  const p = spawnSync(tcpdump, ['-t', '-l', '-e', '-n', '-r', probe], { encoding: 'latin1', maxBuffer: 1 << 20 });
  assert.equal(p.status, 0, p.stderr);
  const printed = p.stdout.split('\n')[0]!;
  const get = printed.indexOf('HTTP: GET /');
  assert.ok(get > 0, `tcpdump prints the request line: ${printed.slice(0, 200)}`);
  const payloadAt = get + 'HTTP: '.length;
  const fakeAt = MAX_LINE_BYTES - payloadAt;
  assert.ok(fakeAt + FAKE.length <= PAYLOAD - 11, 'the fake fits before the end of the request line');

  const pcap = s.path('long.pcap');
  writeFileSync(pcap, pcapFile([smallSyn('192.0.2.6'), bigSyn(fakeAt), smallSyn(NEXT)]));
  const direct = spawnSync(tcpdump, ['-t', '-l', '-e', '-n', '-r', pcap], { encoding: 'latin1', maxBuffer: 1 << 20 });
  const long = direct.stdout.split('\n')[1]!;
  assert.ok(long.length > MAX_LINE_BYTES, `tcpdump's line is over the limit: ${long.length}`);
  assert.equal(long.slice(MAX_LINE_BYTES, MAX_LINE_BYTES + FAKE.length), FAKE, 'the fake starts exactly at the limit');

  const r = await s.run([...TEXT_RELAY, '--tcpdump', tcpdump, '-u', '', '-r', pcap], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = s.lines();
  for (const mode of ['normal', 'syn']) {
    const hits = fail2banRegex(f2b, s.log, filterArg(s.dir, mode));
    assert.deepEqual(hits.map((h) => h.ip), ['192.0.2.6', SENDER, NEXT], `[${mode}] the real senders, once each, and never 6.6.6.6`);
  }
  const packets = lines.filter((l) => l.payload.startsWith('rule '));
  assert.deepEqual(
    packets.map((l) => l.payload.slice(0, 60)),
    [direct.stdout.split('\n')[0]!.slice(0, 60), long.slice(0, 60), direct.stdout.split('\n')[2]!.slice(0, 60)],
    'one line per packet, in order',
  );
  assert.equal(packets[1]!.payload, long.slice(0, MAX_LINE_BYTES), 'the head, unchanged');
  assert.ok(!lines.some((l) => l.payload.includes('6.6.6.6')), 'nothing of the rest is in the log');
  assert.ok(
    events(lines).some((e) => /^tcpdump stdout: 1 line longer than 65536 bytes: kept the first 65536 bytes, dropped the other \d+ \(1 cut since start\)$/.test(e)),
    `the cut is reported:\n${events(lines).join('\n')}`,
  );
});
