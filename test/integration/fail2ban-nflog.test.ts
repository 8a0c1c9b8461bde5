// The shipped filter on Linux NFLOG lines, as the native decoder prints them:
// the real `pfasciilogd read` renders NFLOG captures built here, the real
// fail2ban-regex judges them in both modes, with and without the `prefix`
// parameter, and the multiset of banned addresses must be exactly the one
// computed from the packets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LINKTYPE_NFLOG, TCP, dnsQuery, echo, icmp, ipv4, ipv6, nflogFrame, pcapFile, tcp, udp } from '../support/capture-builder.js';
import { unavailable } from '../support/unavailable.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FILTER = join(ROOT, 'etc/fail2ban/filter.d/pfasciilogd.conf');
const MAIN = join(ROOT, 'dist/bin/pfasciilogd.js');

interface Case {
  frame: Buffer;
  src: string;
  prefix: string;
  /** counted at all: came in on an interface */
  inbound: boolean;
  /** TCP without SYN, or with ACK: not counted in syn mode */
  tcpNotSyn: boolean;
}

const cases: Case[] = [];
function add(src: string, prefix: string, packet: Buffer, o: { family?: number; indev?: number; outdev?: number; tcpNotSyn?: boolean } = {}): void {
  const frame = nflogFrame(packet, { group: 1, prefix, family: o.family ?? 2, ...(o.indev !== undefined ? { indev: o.indev } : {}), ...(o.outdev !== undefined ? { outdev: o.outdev } : {}) });
  cases.push({ frame, src, prefix, inbound: o.indev !== undefined, tcpNotSyn: o.tcpNotSyn ?? false });
}
const D4 = '10.77.0.2';
const D6 = '2001:db8::2';
const syn4 = (src: string, dport: number, flags: number = TCP.SYN) => ipv4({ src, dst: D4, proto: 6, payload: tcp({ sport: 40000, dport, flags }) });

for (let p = 20; p < 30; p++) add('10.77.0.1', 'pf-block', syn4('10.77.0.1', p), { indev: 3 });
add('10.77.0.3', 'pf-block', syn4('10.77.0.3', 443, TCP.ACK), { indev: 3, tcpNotSyn: true });
add('10.77.0.3', 'pf-block', syn4('10.77.0.3', 443, TCP.FIN | TCP.ACK), { indev: 3, tcpNotSyn: true });
add('10.77.0.4', 'other', syn4('10.77.0.4', 22), { indev: 3 });
add('10.77.0.5', 'pf-block', ipv4({ src: '10.77.0.5', dst: D4, proto: 1, payload: icmp(8, 0, echo(1, 1)) }), { indev: 2, outdev: 3 });
add('10.77.0.6', 'pf-block', syn4('10.77.0.6', 25), { outdev: 3 });
add('2001:db8::7', '', ipv6({ src: '2001:db8::7', dst: D6, proto: 17, payload: udp(5353, 53, Buffer.alloc(8)) }), { family: 10, indev: 3 });
add('2001:db8::8', 'pf-block', ipv6({ src: '2001:db8::8', dst: D6, proto: 6, payload: tcp({ sport: 1, dport: 22, flags: TCP.SYN | TCP.ACK }) }), { family: 10, indev: 3, tcpNotSyn: true });
// a DNS name shaped like a log line: never decoded, never banned
add('10.77.0.9', 'pf-block', ipv4({ src: '10.77.0.9', dst: D4, proto: 17, payload: udp(1, 53, dnsQuery(1, ['nflog 1 "pf-block" in on x: 6', '6', '6', '6'])) }), { indev: 3 });


test('fail2ban filter on NFLOG lines: modes and the prefix parameter', async (t) => {
  if (spawnSync('fail2ban-regex', ['--version']).error) return unavailable(t, 'fail2ban-regex not found');
  const tmp = mkdtempSync(join(tmpdir(), 'pfasciilogd-f2b-nflog-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const pcap = join(tmp, 'nflog.pcap');
  writeFileSync(pcap, pcapFile(cases.map((c) => c.frame), { linktype: LINKTYPE_NFLOG, startSec: Math.floor(Date.now() / 1000) - 60 }));
  const rd = spawnSync(process.execPath, [MAIN, 'read', pcap], { encoding: 'latin1' });
  assert.equal(rd.status, 0, rd.stderr);
  const lines = rd.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, cases.length);
  assert.match(lines[0]!, / nflog 1 "pf-block" in on if3: 10\.77\.0\.1\.40000 > 10\.77\.0\.2\.20: Flags \[S\]/);
  const log = join(tmp, 'pf.log');
  writeFileSync(log, lines.join('\n') + '\n');

  const sorted = (a: string[]) => [...a].sort();
  for (const mode of ['normal', 'syn'] as const) {
    for (const prefix of [undefined, 'pf-block']) {
      await t.test(`mode=${mode}${prefix ? `, prefix=${prefix}` : ''}`, () => {
        const opts = prefix ? `mode=${mode}, prefix=${prefix}` : `mode=${mode}`;
        const r = spawnSync('fail2ban-regex', ['-o', 'ip', log, `${FILTER}[${opts}]`], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const got = sorted(r.stdout.split('\n').filter((l) => l !== ''));
        const want = sorted(
          cases
            .filter((c) => c.inbound && (prefix === undefined || c.prefix === prefix) && !(mode === 'syn' && c.tcpNotSyn))
            .map((c) => c.src),
        );
        assert.deepEqual(got, want);
        assert.ok(!got.includes('6.6.6.6'));
      });
    }
  }
});
