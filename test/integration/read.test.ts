// `pfasciilogd read`: capture files to stamped lines, JSON, filterlog, stdin, exit codes,
// damaged records, and --follow across rotation. Runs the built CLI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoFrames } from '../support/demo-capture.js';
import { pcapFile, pcapFileHeader, pcapRecord } from '../support/capture-builder.js';
import { interleave, oneport, probeCapture, scan, type Probe } from '../support/scan-capture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'dist/bin/pfasciilogd.js');
const ENV = { ...process.env, TZ: 'UTC' };
const FIRST = '2023-04-30T23:48:13.748353+00:00 rule 7/0(match): block in on vtnet0: 203.0.113.77.40000 > 198.51.100.10.21: Flags [S], seq 1929621329, win 1024, length 0';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-read-'));
}

function read(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [MAIN, 'read', ...args], { env: ENV, input, encoding: 'latin1', timeout: 20000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

test('read: one stamped line per packet, stamped with the capture time', () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, 'demo.pcap');
    fs.writeFileSync(file, pcapFile(demoFrames(), { startSec: 1682898493 }));
    const r = read([file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.lines.length, demoFrames().length);
    assert.equal(r.lines[0], FIRST);
    assert.match(r.lines[1]!, /^2023-04-30T23:48:14\.748353\+00:00 /, 'one second later, as recorded');
    for (const l of r.lines) assert.match(l, /^[\x20-\x7e]+$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('read: the same lines from stdin, from big-endian and from nanosecond captures', () => {
  const frames = demoFrames();
  const want = read(['-'], pcapFile(frames, { startSec: 1682898493 })).lines;
  assert.equal(want[0], FIRST);
  assert.deepEqual(read(['-'], pcapFile(frames, { startSec: 1682898493, littleEndian: false })).lines, want);
  // nanosecond magic: the builder writes frac 748353 as ns here, so build the records by hand
  const ns = Buffer.concat([
    pcapFileHeader({ nanosecond: true }),
    ...frames.map((f, i) => pcapRecord(f, { sec: 1682898493 + i, frac: 748353123 })),
  ]);
  assert.deepEqual(read(['-'], ns).lines, want);
});

test('read --format json: one object per packet with the documented fields', () => {
  const r = read(['--format', 'json', '-'], pcapFile(demoFrames(), { startSec: 1682898493 }));
  assert.equal(r.status, 0, r.stderr);
  const objs = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objs.length, demoFrames().length);
  assert.deepEqual(objs[0], {
    time: '2023-04-30T23:48:13.748353+00:00', rule: 7, subrule: null, ruleset: null, reason: 'match', action: 'block',
    direction: 'in', interface: 'vtnet0', uid: null, ridentifier: null, family: 'inet', protocol: 'tcp',
    src: '203.0.113.77', dst: '198.51.100.10', src_port: 40000, dst_port: 21, tcp_flags: 'S', icmp_type: null, icmp_code: null,
    length: 40, group: null, prefix: null, in_interface: null, out_interface: null,
  });
  const anchored = objs.find((o) => o.ruleset !== null)!;
  assert.equal(anchored.ruleset, 'scanners/web');
  assert.equal(anchored.subrule, 0);
  const v6 = objs.find((o) => o.family === 'inet6')!;
  assert.equal(v6.src, '2001:db8:bad::1');
});

test('read --format filterlog and the daemon\'s --format filterlog: STAMP HOST filterlog[PID]: CSV, PID the writer\'s own', () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, 'demo.pcap');
    fs.writeFileSync(file, pcapFile(demoFrames(), { startSec: 1682898493 }));
    const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    const csv0 = '7,,,0,vtnet0,match,block,in,4,0x0,,64,4660,0,DF,6,tcp,40,203.0.113.77,198.51.100.10,40000,21,0,S,1929621329,,1024,,';
    const r = spawnSync(process.execPath, [MAIN, 'read', '--format', 'filterlog', file], { env: ENV, encoding: 'latin1', timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, demoFrames().length);
    assert.equal(lines[0], `2023-04-30T23:48:13.748353+00:00 ${host} filterlog[${r.pid}]: ${csv0}`);
    // the daemon, reading the capture through tcpdump, writes the same lines with its pid
    const log = path.join(dir, 'filter.log');
    const d = spawnSync(process.execPath, [MAIN, '-u', '', '-r', file, '--format', 'filterlog', '-f', log, '-p', path.join(dir, 'd.pid')], { env: ENV, encoding: 'latin1', timeout: 20000 });
    assert.equal(d.status, 0, d.stderr);
    const packets = fs.readFileSync(log, 'latin1').split('\n').filter((l) => l.includes(' filterlog['));
    assert.deepEqual(packets, lines.map((l) => l.replace(`filterlog[${r.pid}]`, `filterlog[${d.pid}]`)));
    const tcpdump = spawnSync(process.execPath, [MAIN, '--decoder', 'tcpdump', '--format', 'filterlog'], { env: ENV, encoding: 'latin1' });
    assert.equal(tcpdump.status, 64);
    assert.match(tcpdump.stderr, /--format filterlog needs --decoder native/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('read: exit 65 for a file that is not a capture, 66 for one that cannot be read, 64 for bad flags', () => {
  const dir = tmpdir();
  try {
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'this is not a capture file at all\n');
    const r = read([text]);
    assert.equal(r.status, 65);
    assert.match(r.stderr, /^pfasciilogd: .*notes\.txt: not a pcap or pcapng capture/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    const missing = read([path.join(dir, 'nope.pcap')]);
    assert.equal(missing.status, 66);
    assert.match(missing.stderr, /nope\.pcap: .*ENOENT/);
    assert.equal(read(['--format', 'xml', text]).status, 64);
    assert.equal(read([]).status, 64);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('read: a corrupt record header is counted and the stream resynchronises', () => {
  const frames = demoFrames();
  const header = pcapFileHeader();
  const recs = frames.map((f, i) => pcapRecord(f, { sec: 1682898493 + i, frac: 748353 }));
  const junk = Buffer.alloc(37, 0xff); // impossible lengths and microseconds
  const capture = Buffer.concat([header, ...recs.slice(0, 3), junk, ...recs.slice(3)]);
  const r = read(['-'], capture);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines.length, frames.length, 'every good record decoded');
  assert.equal(r.lines[0], FIRST);
  assert.match(r.stderr, /corrupt capture record header/);
  assert.match(r.stderr, /1 corrupt records skipped \(37 bytes\)/);
});

test('read --follow: waits for data, and continues on the new file after rotation', async (t) => {
  const dir = tmpdir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'pflog');
  const frames = demoFrames();
  const rec = (i: number) => pcapRecord(frames[i]!, { sec: 1682898493 + i, frac: 748353 });
  fs.writeFileSync(file, Buffer.concat([pcapFileHeader(), rec(0), rec(1)]));
  const child = spawn(process.execPath, [MAIN, 'read', '-F', file], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.setEncoding('latin1').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('latin1').on('data', (s: string) => (err += s));
  const lines = () => out.split('\n').filter((l) => l !== '');
  const waitLines = async (n: number) => {
    for (let i = 0; i < 400 && lines().length < n; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(lines().length, n, `expected ${n} lines, got:\n${out}\nstderr: ${err}`);
  };
  await waitLines(2);
  // pflogd appends, in pieces: half a record, then the rest
  const r2 = rec(2);
  fs.appendFileSync(file, r2.subarray(0, 10));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(lines().length, 2, 'half a record is not a line');
  fs.appendFileSync(file, Buffer.concat([r2.subarray(10), rec(3)]));
  await waitLines(4);
  // rotation: the old file is renamed, a new one starts with its own header
  fs.renameSync(file, `${file}.0`);
  fs.writeFileSync(file, Buffer.concat([pcapFileHeader(), rec(4)]));
  await waitLines(5);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 143, `TERM ends --follow as it ends any read: 128 + 15; ${err}`);
  const want = read(['-'], pcapFile(frames.slice(0, 5), { startSec: 1682898493 })).lines;
  assert.deepEqual(lines(), want, 'every packet once, in order, across the rotation');
});

test('daemon with the native decoder on a capture file writes the same lines as read', () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, 'demo.pcap');
    fs.writeFileSync(file, pcapFile(demoFrames(), { startSec: 1682898493 }));
    const log = path.join(dir, 'pf.log');
    const r = spawnSync(process.execPath, [MAIN, '-u', '', '-r', file, '-f', log, '-p', path.join(dir, 'pid')], { env: ENV, encoding: 'latin1', timeout: 20000 });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') assert.fail('node missing?');
    assert.equal(r.status, 0, r.stderr);
    const logged = fs.readFileSync(log, 'latin1').split('\n').filter((l) => l !== '');
    const packets = logged.filter((l) => / rule \d/.test(l));
    assert.deepEqual(packets, read([file]).lines);
    // no expression: nothing for tcpdump to do, the daemon reads the file as `read` does
    assert.ok(logged.some((l) => l.endsWith(` pfasciilogd: reading ${file}`)), 'read by the daemon');
    assert.ok(!logged.some((l) => / pfasciilogd: starting /.test(l)), 'no tcpdump started');
    assert.ok(!fs.existsSync(path.join(dir, 'pid')), 'pidfile removed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('read --dedupe: one line per source and port across files, a summary on stderr, and the memory bound under a flood from 10,000 sources', () => {
  const dir = tmpdir();
  try {
    const a = path.join(dir, 'a.pcap');
    const b = path.join(dir, 'b.pcap');
    fs.writeFileSync(a, probeCapture(interleave(scan('203.0.113.7', 20, 2, 1000), oneport('198.51.100.9', 443, 100, 1000))));
    fs.writeFileSync(b, probeCapture(oneport('198.51.100.9', 443, 100, 1100)));
    const r = read(['--dedupe', '600', a, b]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines.length, 21);
    assert.equal(r.stderr, 'pfasciilogd: dedupe: 219 repeated packets not logged (21 source/port pairs; most from 198.51.100.9 tcp/443 (199)); 0 pairs forgotten early, 21 of 100000 remembered, window 600 s\n');
    assert.equal(read(['--dedupe=30', a, b]).lines.length, 20 + 1 + 1, 'capture time: the second file starts a new 30-s window for the client');

    // 10,000 sources, 3 ports each, twice over: 60,000 packets, 30,000 keys, 1,000 remembered
    const probes: Probe[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10_000; i++) for (let p = 0; p < 3; p++) probes.push({ src: `10.${(i >> 8) & 255}.${i & 255}.9`, dport: 1000 + p, time: 2000 + round * 100 + i * 0.001 });
    }
    const flood = path.join(dir, 'flood.pcap');
    fs.writeFileSync(flood, probeCapture(probes));
    const f = read(['--dedupe', '600', '--dedupe-max', '1000', flood]);
    assert.equal(f.status, 0, f.stderr);
    assert.equal(f.lines.length, 60_000, 'with only 1,000 remembered, every key is forgotten before it comes round again');
    assert.match(f.stderr, / 0 repeated packets not logged .* 59000 pairs forgotten early, 1000 of 1000 remembered/);
    const g = read(['--dedupe', '600', '--dedupe-max', '30000', flood]);
    assert.equal(g.lines.length, 30_000);
    assert.match(g.stderr, / 30000 repeated packets not logged .* 0 pairs forgotten early, 30000 of 30000 remembered/);

    assert.equal(read(['--dedupe-max', '10', a]).status, 64);
    assert.equal(read(['--dedupe', 'soon', a]).status, 64);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('read: an all-zero input (/dev/zero, a file, a pipe) and an empty file are not captures: exit 65 at once, one line', async () => {
  const dir = tmpdir();
  try {
    // Fixed: /dev/zero was read for ever once found not to be a capture (and an empty file exited 0 silently)
    const zero = read(['/dev/zero']);
    assert.equal(zero.status, 65, `status ${zero.status} (null: still reading when the harness's timeout killed it)`);
    assert.equal(zero.stderr, 'pfasciilogd: /dev/zero: not a pcap or pcapng capture (magic 0x00000000)\n');
    const zeros = path.join(dir, 'zeros.pcap');
    fs.writeFileSync(zeros, Buffer.alloc(1 << 20));
    assert.equal(read([zeros]).status, 65);
    const empty = path.join(dir, 'empty.pcap');
    fs.writeFileSync(empty, '');
    const e = read([empty]);
    assert.equal(e.status, 65);
    assert.equal(e.stderr, `pfasciilogd: ${empty}: not a pcap or pcapng capture (empty)\n`);
    assert.equal(read(['-'], Buffer.alloc(0)).status, 65, 'empty stdin');
    // an endless pipe of zeros, not a file: stdin is /dev/zero itself
    const fd = fs.openSync('/dev/zero', 'r');
    try {
      const piped = spawnSync(process.execPath, [MAIN, 'read', '-'], { env: ENV, stdio: [fd, 'pipe', 'pipe'], encoding: 'latin1', timeout: 20000, killSignal: 'SIGKILL' });
      assert.equal(piped.status, 65, piped.stderr);
      assert.equal(piped.stderr, 'pfasciilogd: -: not a pcap or pcapng capture (magic 0x00000000)\n');
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A capture whose text is far more than the pipe buffers hold: 20,000 packets. */
function largeCapture(): Buffer {
  const frames = demoFrames();
  const parts = [pcapFileHeader()];
  for (let i = 0; i < 20_000; i++) parts.push(pcapRecord(frames[i % frames.length]!, { sec: 1682898493 + (i >> 6), frac: i % 1000 }));
  return Buffer.concat(parts);
}

const WHOLE_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 rule \S+ .*[^ ]$/;

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`read: ${sig} while a large capture is read stops at a record boundary, whole lines out, exit ${code}`, async (t) => {
    const dir = tmpdir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'large.pcap');
    fs.writeFileSync(file, largeCapture());
    const all = read([file]).lines;
    assert.equal(all.length, 20_000);
    const child = spawn(process.execPath, [MAIN, 'read', file], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let err = '';
    child.stderr.setEncoding('latin1').on('data', (s: string) => (err += s));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // Nothing is taken from its stdout until it has the signal: the pipe is
    // full long before the end of the capture, so it cannot have finished.
    await once(child.stdout, 'readable');
    child.kill(sig);
    let out = '';
    child.stdout.setEncoding('latin1').on('data', (s: string) => (out += s));
    await once(child.stdout, 'end');
    assert.equal(await exited, code, err);
    assert.equal(err, '', 'nothing on stderr: the held-back part of a record is not a damaged end');
    assert.ok(out.endsWith('\n'), 'ends with a whole line');
    const lines = out.split('\n').slice(0, -1);
    assert.ok(lines.length > 0 && lines.length < all.length, `${lines.length} lines`);
    assert.deepEqual(lines, all.slice(0, lines.length), 'the first lines, each whole');
    for (const l of lines) assert.match(l, WHOLE_LINE);
  });
}

test('read: SIGINT while blocked reading a FIFO that its writer keeps open: exit 130 with the lines so far', async (t) => {
  const dir = tmpdir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'pflog.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const frames = demoFrames();
  const rec = (i: number) => pcapRecord(frames[i]!, { sec: 1682898493 + i, frac: 748353 });
  const child = spawn(process.execPath, [MAIN, 'read', fifo], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.setEncoding('latin1').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('latin1').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const writer = await fsp.open(fifo, 'w');
  t.after(() => writer.close().catch(() => undefined));
  // three records and half of a fourth, then nothing more; the writer stays open
  await writer.write(Buffer.concat([pcapFileHeader(), rec(0), rec(1), rec(2), rec(3).subarray(0, 20)]));
  while (out.split('\n').length < 4) await once(child.stdout, 'data');
  child.kill('SIGINT');
  // Before the fix the process ignored the signal until the writer closed
  // (and later, exited only then: Node's exit waited for the read). This
  // bound ends such a wait, and the test fails if it had to.
  let released = false;
  const watchdog = setTimeout(() => {
    released = true;
    void writer.close().catch(() => undefined);
  }, 15000);
  const status = await exited;
  clearTimeout(watchdog);
  assert.equal(released, false, 'exited only once the writer closed the FIFO');
  assert.equal(status, 130, err);
  assert.equal(err, '');
  assert.deepEqual(out.split('\n').slice(0, -1), read(['-'], pcapFile(frames.slice(0, 3), { startSec: 1682898493 })).lines);
});
