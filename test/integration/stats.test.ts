// `pfasciilogd stats`, the built CLI: the same figures from a capture, from
// the text and JSON logs `read` writes for it, gzipped, bzip2ed, split over
// several files and from standard input; --since/--until, --json, --ascii,
// COLUMNS; exit codes and one-line errors.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { AF, DIR, PF, TCP, echo, icmp, ipv4, ipv6, nflogFrame, pcapFileHeader, pcapRecord, pflogHeader, tcp, udp, LINKTYPE_NFLOG } from '../support/capture-builder.js';
import { prng } from '../support/prng.js';
import { findTool, unavailable } from '../support/unavailable.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'dist/bin/pfasciilogd.js');
const ENV = { ...process.env, TZ: 'UTC' };
const START = Date.parse('2026-11-25T06:00:00Z') / 1000;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], o: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [MAIN, 'stats', ...args], { env: o.env ?? ENV, input: o.input, encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Json = Record<string, unknown> & { packets: number; lines: number; events: number; unparsed: number; outside: number };

function json(args: string[], o: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Json {
  const r = run(['--json', ...args], o);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Json;
}

/** The figures that do not depend on how the packets were stored. */
function figures(j: Json): Json {
  const { files: _f, lines: _l, events: _e, unparsed: _u, ...rest } = j;
  return rest as Json;
}

/**
 * Three hours of a firewall's log: a scanner sweeping 300 ports, a botnet
 * hitting ssh, a client whose ACKs are blocked, IPv6 scans, pings, UDP
 * probes to an anchor's rule, and some passed outbound packets; quieter in
 * the second hour.
 */
function capture(): { pcap: Buffer; packets: number; blocked: number } {
  const r = prng(7);
  const n = (x: number) => Math.floor(r() * x);
  const server = '198.51.100.10';
  const frames: Array<{ t: number; data: Buffer }> = [];
  const block = (t: number, o: Parameters<typeof pflogHeader>[0], ip: Buffer) => frames.push({ t, data: Buffer.concat([pflogHeader({ action: PF.DROP, dir: DIR.IN, ifname: 'vtnet0', ...o }), ip]) });
  for (let p = 0; p < 300; p++) block(START + 600 + p * 0.5, { rulenr: 4 }, ipv4({ src: '203.0.113.77', dst: server, proto: 6, payload: tcp({ sport: 40000, dport: 1 + p, flags: TCP.SYN }) }));
  const bots = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`);
  for (let i = 0; i < 2000; i++) {
    const t = START + n(3 * 3600);
    if (t >= START + 3600 && t < START + 7200 && i % 4 !== 0) continue;
    block(t, { rulenr: 4 }, ipv4({ src: bots[n(bots.length)]!, dst: server, proto: 6, payload: tcp({ sport: 1024 + n(60000), dport: 22, flags: TCP.SYN }) }));
  }
  for (let i = 0; i < 50; i++) block(START + 100 + i, { rulenr: 7, ifname: 'em0' }, ipv4({ src: '192.0.2.200', dst: server, proto: 6, payload: tcp({ sport: 51515, dport: 443, flags: TCP.ACK, ack: 1 }) }));
  for (let i = 0; i < 120; i++) {
    const src = `2001:db8:bad::${(i % 6) + 1}`;
    block(START + 9000 + i * 3, { af: AF.INET6_FREEBSD, rulenr: 12 }, ipv6({ src, dst: '2001:db8::10', proto: 6, payload: tcp({ sport: 55000, dport: [22, 80, 443, 3389][i % 4]!, flags: TCP.SYN }) }));
  }
  for (let i = 0; i < 80; i++) block(START + n(10800), { rulenr: 12 }, ipv4({ src: `198.18.0.${n(20) + 1}`, dst: server, proto: 1, payload: icmp(8, 0, echo(7, i), Buffer.alloc(56)) }));
  for (let i = 0; i < 60; i++) {
    block(START + n(10800), { rulenr: 3, subrulenr: 0, ruleset: 'scanners/udp' }, ipv4({ src: `198.18.1.${n(30) + 1}`, dst: server, proto: 17, payload: udp(5353, [53, 123, 1900, 11211][i % 4]!, Buffer.alloc(20)) }));
  }
  for (let i = 0; i < 30; i++) {
    frames.push({
      t: START + i * 300,
      data: Buffer.concat([pflogHeader({ action: PF.PASS, dir: DIR.OUT, rulenr: 2 }), ipv4({ src: server, dst: '192.0.2.1', proto: 17, payload: udp(123, 123, Buffer.alloc(48)) })]),
    });
  }
  frames.sort((a, b) => a.t - b.t);
  const parts = [pcapFileHeader()];
  for (const f of frames) {
    const sec = Math.floor(f.t);
    parts.push(pcapRecord(f.data, { sec, frac: Math.round((f.t - sec) * 1e6) }));
  }
  return { pcap: Buffer.concat(parts), packets: frames.length, blocked: frames.length - 30 };
}

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-stats-'));
}

function read(args: string[]): Buffer {
  const r = spawnSync(process.execPath, [MAIN, 'read', ...args], { env: ENV, timeout: 60000 });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

test('stats: the same figures from a capture, its text and JSON logs, gzipped, split, and from stdin', () => {
  const dir = tmpdir();
  try {
    const c = capture();
    const pcap = path.join(dir, 'pflog');
    fs.writeFileSync(pcap, c.pcap);
    const text = read([pcap]);
    const log = path.join(dir, 'pf.log');
    // with the daemon's own lines around the packets, as in a real log
    fs.writeFileSync(log, Buffer.concat([Buffer.from('2026-11-25T05:59:59.000000+00:00 pfasciilogd: starting tcpdump -U -w - -i pflog0\n'), text, Buffer.from('2026-11-25T09:00:01.000000+00:00 pfasciilogd: exiting\n')]));
    const jsonLog = path.join(dir, 'pf.json');
    fs.writeFileSync(jsonLog, read(['--format', 'json', pcap]));
    const gz = path.join(dir, 'pf.log.0.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(log)));
    // a capture gzipped is a capture too; the names say nothing
    const pcapGz = path.join(dir, 'capture.txt');
    fs.writeFileSync(pcapGz, zlib.gzipSync(c.pcap));

    const want = json([pcap]);
    assert.equal(want.packets, c.packets);
    assert.equal((want['blocked'] as { total: number }).total, c.blocked);
    assert.equal(want.lines, 0);
    const fromLog = json([log]);
    assert.equal(fromLog.lines, c.packets + 2);
    assert.equal(fromLog.events, 2);
    assert.equal(fromLog.unparsed, 0);
    assert.deepEqual(figures(fromLog), figures(want));
    assert.deepEqual(figures(json([jsonLog])), figures(want));
    assert.deepEqual(figures(json([gz])), figures(want));
    assert.deepEqual(figures(json([pcapGz])), figures(want));
    assert.deepEqual(figures(json(['-'], { input: fs.readFileSync(gz) })), figures(want));
    assert.deepEqual(figures(json([], { input: fs.readFileSync(log) })), figures(want));
    // a log and its rotated, compressed half: counted together
    const lines = text.toString('latin1').split('\n');
    const half = Math.floor(lines.length / 2);
    const old = path.join(dir, 'pf.log.1.gz');
    const current = path.join(dir, 'pf.log.now');
    fs.writeFileSync(old, zlib.gzipSync(Buffer.from(`${lines.slice(0, half).join('\n')}\n`, 'latin1')));
    fs.writeFileSync(current, lines.slice(half).join('\n'), 'latin1');
    assert.deepEqual(figures(json([current, old])), figures(want));

    // what the figures are
    const s = want['sources'] as { distinct: number; exact: boolean; top: Array<{ src: string; packets: number; ports: number }> };
    assert.equal(s.exact, true);
    assert.deepEqual(s.top[0], { ...s.top[0], src: '203.0.113.77', packets: 300, ports: 300 });
    assert.deepEqual(want['actions'], { block: c.blocked, pass: 30 });
    const p = (want['ports'] as { top: Array<{ protocol: string; port: number }> }).top[0];
    assert.deepEqual(p, { ...p, protocol: 'tcp', port: 22 });
    const rules = (want['rules'] as { top: Array<{ rule: string }> }).top.map((x) => x.rule);
    assert.deepEqual(rules.sort(), ['12', '2', '3.scanners/udp.0', '4', '7']);
    assert.deepEqual((want['interfaces'] as { top: unknown[] }).top, [{ interface: 'vtnet0', packets: c.packets - 50 }, { interface: 'em0', packets: 50 }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats: bzip2-compressed logs through bzcat; a clear error without it', (t: TestContext) => {
  const bzip2 = findTool('bzip2');
  if (bzip2 === undefined || findTool('bzcat') === undefined) {
    unavailable(t, 'bzip2 is not installed (Debian: apt-get install bzip2)');
    return;
  }
  const dir = tmpdir();
  try {
    const c = capture();
    const pcap = path.join(dir, 'pflog');
    fs.writeFileSync(pcap, c.pcap);
    const log = path.join(dir, 'pf.log');
    fs.writeFileSync(log, read([pcap]));
    const bz = path.join(dir, 'pf.log.0.bz2');
    const r = spawnSync(bzip2, ['-c', log]);
    assert.equal(r.status, 0);
    fs.writeFileSync(bz, r.stdout);
    assert.deepEqual(figures(json([bz])), figures(json([log])));
    // gzip inside bzip2, from stdin
    const both = spawnSync(bzip2, ['-c'], { input: zlib.gzipSync(fs.readFileSync(log)) }).stdout;
    assert.deepEqual(figures(json(['-'], { input: both })), figures(json([log])));

    // bzcat missing: one line, exit 69, and the other files still counted
    const empty = path.join(dir, 'bin');
    fs.mkdirSync(empty);
    const nobz = run([bz, log], { env: { ...ENV, PATH: empty } });
    assert.equal(nobz.status, 69);
    assert.equal(nobz.stderr, `pfasciilogd: ${bz}: bzip2-compressed, and bzcat was not found on PATH (install bzip2)\n`);
    assert.match(nobz.stdout, new RegExp(`^Packets +${c.packets.toLocaleString('en-US')}$`, 'm'));

    // damaged bzip2: the file's name and bzcat's whole reason (not the last line of its advice), exit 65
    const bad = path.join(dir, 'bad.bz2');
    fs.writeFileSync(bad, Buffer.concat([fs.readFileSync(bz).subarray(0, 200), Buffer.alloc(100, 0x55)]));
    const br = run([bad]);
    assert.equal(br.status, 65, br.stderr);
    assert.match(br.stderr, /^pfasciilogd: .*bad\.bz2: bzcat: .+\n$/);
    assert.doesNotMatch(br.stderr, /undamaged sections/);
    const whole = fs.readFileSync(bz);
    const flipped = Buffer.from(whole);
    for (let i = 100; i < 140; i++) flipped[i]! ^= 0x55; // inside the first block: its CRC fails
    const flip = path.join(dir, 'flipped.bz2');
    fs.writeFileSync(flip, flipped);
    const fr = run([flip]);
    assert.equal(fr.status, 65, fr.stderr);
    assert.equal(fr.stderr, `pfasciilogd: ${flip}: bzcat: Data integrity error when decompressing.\n`);
    const cutBz = path.join(dir, 'cut.bz2');
    fs.writeFileSync(cutBz, whole.subarray(0, whole.length >> 1));
    const cr = run(['--json', cutBz]);
    assert.equal(cr.status, 65, cr.stderr);
    assert.match(cr.stderr, new RegExp(`^pfasciilogd: ${cutBz.replace(/[.]/g, '\\.')}: bzcat: Compressed file ends unexpectedly; perhaps it is corrupted\\? .*\n$`));
    assert.equal(cr.stderr.split('\n').length, 2, 'one line');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats: NFLOG captures and the lines read writes for them agree', () => {
  const dir = tmpdir();
  try {
    const parts = [pcapFileHeader({ linktype: LINKTYPE_NFLOG })];
    const prefixes = ['pf-block', 'ssh "drop"', 'accepted'];
    for (let i = 0; i < 90; i++) {
      const ip = ipv4({ src: `10.77.0.${(i % 9) + 1}`, dst: '10.77.0.100', proto: 6, payload: tcp({ sport: 40000 + i, dport: [22, 23, 80][i % 3]!, flags: TCP.SYN }) });
      const frame = nflogFrame(ip, { group: 1 + (i % 2), prefix: prefixes[i % 3], indev: i % 5 === 0 ? undefined : 2, outdev: i % 5 === 0 ? 3 : undefined });
      parts.push(pcapRecord(frame, { sec: START + i * 10 }));
    }
    const pcap = path.join(dir, 'nflog.pcap');
    fs.writeFileSync(pcap, Buffer.concat(parts));
    const log = path.join(dir, 'nflog.log');
    fs.writeFileSync(log, read([pcap]));
    const want = json([pcap]);
    assert.deepEqual(figures(json([log])), figures(want));
    assert.equal(want.packets, 90);
    // the action comes from the prefix: "block" and "drop" block, "accept" passes
    assert.deepEqual(want['actions'], { block: 60, pass: 30 });
    assert.deepEqual(want['directions'], { in: 72, out: 18 });
    assert.deepEqual((want['interfaces'] as { top: unknown[] }).top, [{ interface: 'if2', packets: 72 }, { interface: 'if3', packets: 18 }]);
    const rules = (want['rules'] as { top: Array<{ rule: string }> }).top.map((x) => x.rule).sort();
    assert.deepEqual(rules, ['nflog 1 "accepted"', 'nflog 1 "pf-block"', 'nflog 1 "ssh \\"drop\\""', 'nflog 2 "accepted"', 'nflog 2 "pf-block"', 'nflog 2 "ssh \\"drop\\""']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats --since/--until: only the packets in [since, until) are counted', () => {
  const dir = tmpdir();
  try {
    const c = capture();
    const pcap = path.join(dir, 'pflog');
    fs.writeFileSync(pcap, c.pcap);
    const log = path.join(dir, 'pf.log');
    fs.writeFileSync(log, read([pcap]));
    const all = json([log]);
    const first = json(['--until', '2026-11-25T07:00:00Z', log]);
    const rest = json(['--since=2026-11-25T07:00:00Z', log]);
    assert.equal(first.packets + rest.packets, all.packets);
    assert.equal(first.outside, rest.packets);
    assert.ok(first.packets > 0 && rest.packets > 0);
    assert.ok((first['last'] as string) < '2026-11-25T07:00:00', first['last'] as string);
    assert.ok((rest['first'] as string) >= '2026-11-25T07:00:00', rest['first'] as string);
    // the same instant with an offset, and in local time (TZ=UTC here)
    assert.equal(json(['--since', '2026-11-25T08:00:00+01:00', log]).packets, rest.packets);
    assert.equal(json(['--since', '2026-11-25T07:00', log]).packets, rest.packets);
    assert.equal(json(['--since', '2026-11-26', log]).packets, 0);
    assert.equal(json(['--until', '2026-11-25', log]).packets, 0);
    assert.equal(json(['--since', '2026-11-25', '--until', '2026-11-26', log]).packets, all.packets);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats text: the chart is as wide as COLUMNS; --ascii prints ASCII only', () => {
  const dir = tmpdir();
  try {
    const pcap = path.join(dir, 'pflog');
    fs.writeFileSync(pcap, capture().pcap);
    for (const columns of [50, 80, 200]) {
      const r = run([pcap], { env: { ...ENV, COLUMNS: String(columns) } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const chart = r.stdout.slice(r.stdout.indexOf('\nBlocked packets per') + 1).trimEnd().split('\n');
      assert.match(chart[0]!, /^Blocked packets per (10|30) minutes \([\d,]+ in all\)$/);
      assert.ok(chart.length >= 7 && chart.length <= 25, `${chart.length - 1} bars`);
      const widths = chart.slice(1).map((l) => [...l].length);
      assert.equal(Math.max(...widths), columns, `the longest bar ends at column ${columns}`);
      assert.match(r.stdout, /\u2588/);
    }
    const a = run(['--ascii', pcap], { env: { ...ENV, COLUMNS: '60' } });
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /^[\x20-\x7e\n]+$/, 'ASCII only');
    assert.match(a.stdout, /^ {2}2026-11-25 \d\d:\d\d +[\d,]+ #+$/m);
    assert.match(a.stdout, /^Top sources \(\d+ in all\)$/m);
    assert.match(a.stdout, /^ {2}203\.0\.113\.77 +300 +300 +2026-11-25 06:10:00 +2026-11-25 06:12:29$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats: exit 64 for bad flags, 66 for a missing file (the others still counted), 65 for damaged input', () => {
  const dir = tmpdir();
  try {
    for (const args of [['--bogus'], ['--top', '0'], ['--since', 'yesterday'], ['--until']]) {
      const r = run(args);
      assert.equal(r.status, 64, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^pfasciilogd: [^\n]+ \(see pfasciilogd stats -h\)\n$/);
    }
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: pfasciilogd stats /);

    const missing = path.join(dir, 'nope.log');
    const only = run([missing]);
    assert.equal(only.status, 66);
    assert.equal(only.stdout, '');
    assert.equal(only.stderr, `pfasciilogd: ${missing}: no such file or directory (ENOENT)\n`);

    const pcap = path.join(dir, 'pflog');
    fs.writeFileSync(pcap, capture().pcap);
    const some = run([missing, pcap, path.join(dir)]);
    assert.equal(some.status, 66);
    assert.match(some.stdout, /^Packets +\d/m, 'the readable file is still counted');
    const errs = some.stderr.trimEnd().split('\n');
    assert.equal(errs.length, 2, some.stderr);
    assert.match(errs[1]!, /: illegal operation on a directory \(EISDIR\)$/);

    // a gzip file cut short: what was read is counted, exit 65
    const gz = zlib.gzipSync(read([pcap]));
    const cut = path.join(dir, 'cut.gz');
    fs.writeFileSync(cut, gz.subarray(0, gz.length >> 1));
    const r = run(['--json', cut]);
    assert.equal(r.status, 65);
    assert.match(r.stderr, /^pfasciilogd: .*cut\.gz: gzip: unexpected end of file\n$/);
    assert.ok((JSON.parse(r.stdout) as Json).packets > 0);

    // A capture that is damaged past its header: the damage is reported,
    // what could be read is counted and printed, and the exit status is 65.
    // Fixed: these exited 0.
    const bad = path.join(dir, 'bad.pcap');
    fs.writeFileSync(bad, Buffer.concat([pcapFileHeader(), Buffer.alloc(64, 0xff)]));
    const b = run([bad]);
    assert.equal(b.status, 65, b.stderr);
    assert.match(b.stderr, /bad\.pcap: 1 corrupt records skipped \(49 bytes\)\n$/);
    assert.match(b.stdout, /^Packets +0$/m);
    const whole = capture();
    const recs = whole.pcap.subarray(24);
    const firstLen = 16 + recs.readUInt32LE(8);
    const junked = path.join(dir, 'junked.pcap');
    // junk between the first record and the rest: skipped, the rest counted
    fs.writeFileSync(junked, Buffer.concat([whole.pcap.subarray(0, 24 + firstLen), Buffer.alloc(37, 0xff), recs.subarray(firstLen)]));
    const j = run(['--json', junked]);
    assert.equal(j.status, 65, j.stderr);
    assert.match(j.stderr, /junked\.pcap: corrupt capture record header .*\n.*junked\.pcap: 1 corrupt records skipped \(37 bytes\)\n$/);
    assert.equal((JSON.parse(j.stdout) as Json).packets, whole.packets, 'every good record counted');
    // cut off in the middle of its last record
    const truncated = path.join(dir, 'truncated.pcap');
    fs.writeFileSync(truncated, whole.pcap.subarray(0, whole.pcap.length - 5));
    const tr = run(['--json', truncated]);
    assert.equal(tr.status, 65, tr.stderr);
    assert.match(tr.stderr, /^pfasciilogd: .*truncated\.pcap: capture ends with an incomplete record \(\d+ bytes ignored\)\n$/);
    assert.equal((JSON.parse(tr.stdout) as Json).packets, whole.packets - 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats: the shipped demo capture', () => {
  const j = json([path.join(ROOT, 'demo/pflog.pcap')]);
  assert.equal(j.packets, 19);
  assert.deepEqual(j['actions'], { block: 18, pass: 1 });
  assert.deepEqual(j['protocols'], { tcp: 16, udp: 2, icmp: 1 });
  assert.equal((j['sources'] as { distinct: number }).distinct, 6);
  assert.equal(j['first'], '2023-04-30T23:48:13.748353+00:00');
  assert.equal(j['last'], '2023-04-30T23:48:31.748353+00:00');
  const blocked = j['blocked'] as { bucket_seconds: number; buckets: Array<{ packets: number }> };
  assert.equal(blocked.bucket_seconds, 1);
  assert.equal(blocked.buckets.length, 19);
});
