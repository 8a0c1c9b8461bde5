// The fail2ban filter and jail against the real tools: packets are built byte
// by byte, rendered by the real tcpdump, stamped as pfasciilogd stamps them and
// fed to the real fail2ban-regex. The old filter runs over the same log to
// show that these cases really reproduce its defects.
//
//   npm run build && node --test dist/test/integration/fail2ban-filter.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatStamp } from '../../src/format/timestamp.js';
import {
  AF,
  DIR,
  IP6,
  PF,
  TCP,
  dnsQuery,
  echo,
  icmp,
  ipv4,
  ipv6,
  pcapFileHeader,
  pcapRecord,
  pflogHeader,
  tcp,
  udp,
  type PflogOptions,
} from '../support/capture-builder.js';
import { FILTER, fail2banRegex, filterArg, type Hit } from '../support/fail2ban-regex.js';
import { findTool, unavailable } from '../support/unavailable.js';

// Stamps are written in a zone with daylight saving time and fail2ban-regex
// runs in another one (F2B_TZ in ../support/fail2ban-regex.ts): a filter
// that ignored the stamp's UTC offset would be hours off. Nothing reads TZ before this line runs, and node
// runs each test file in its own process.
process.env.TZ = 'Europe/Berlin';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const JAIL = join(ROOT, 'etc/fail2ban/jail.d/pfasciilogd.conf');
const SAMPLE = join(ROOT, 'test/fail2ban/pfasciilogd.log');

/** The filter that this one replaces. */
const OLD_REGEX = 'rule \\d/\\d\\(match\\): block in on \\w+: <HOST>\\.\\d+';

// ---------------------------------------------------------------------------
// tools



interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function byLine(hits: Hit[]): Map<string, Hit[]> {
  const m = new Map<string, Hit[]>();
  for (const h of hits) {
    const l = m.get(h.line) ?? [];
    l.push(h);
    m.set(h.line, l);
  }
  return m;
}

const sorted = (a: string[]): string[] => [...a].sort();

// ---------------------------------------------------------------------------
// packets

const SUMMER = 1682898493; // 2023-05-01T01:48:13+02:00 in Berlin
const WINTER = 1673776813; // 2023-01-15T11:00:13+01:00 in Berlin

interface Case {
  name: string;
  frame: Buffer;
  /** outer IP source: the address a ban must name */
  src: string;
  action: number;
  dir: number;
  /** TCP flags as tcpdump sees them; null when not TCP or the TCP header is not there */
  tcpFlags: number | null;
  /** what the old regex finds on this line, for the cases that show its defects */
  old?: string[];
  sec: number;
  usec: number;
}

type CaseOpts = { hdr?: PflogOptions; old?: string[] };

const cases: Case[] = [];

function add(name: string, hdr: PflogOptions, ip: Buffer, src: string, tcpFlags: number | null, old?: string[]): void {
  const i = cases.length;
  // spread over a winter and a summer day, with distinct microseconds
  const sec = (i % 3 === 2 ? WINTER : SUMMER) + i * 7;
  const usec = (i * 104729) % 1_000_000;
  const c: Case = {
    name,
    frame: Buffer.concat([pflogHeader(hdr), ip]),
    src,
    action: hdr.action ?? PF.DROP,
    dir: hdr.dir ?? DIR.IN,
    tcpFlags,
    sec,
    usec,
  };
  if (old) c.old = old;
  cases.push(c);
}

const DST4 = '46.38.233.77';
const DST6 = '2001:db8:ffff::1';

function tcp4(name: string, src: string, flags: number, o: CaseOpts & { payload?: Buffer; totalLength?: number } = {}): void {
  const seg = tcp({ sport: 40000 + cases.length, dport: 22, flags, ack: flags & TCP.ACK ? 1 : 0, ...(o.payload ? { payload: o.payload } : {}) });
  const ip = ipv4({ src, dst: DST4, proto: 6, payload: seg, ...(o.totalLength ? { totalLength: o.totalLength } : {}) });
  add(name, o.hdr ?? {}, ip, src, flags, o.old);
}

function other4(name: string, src: string, proto: number, payload: Buffer, o: CaseOpts & { flagsFrag?: number } = {}): void {
  const ip = ipv4({ src, dst: DST4, proto, payload, ...(o.flagsFrag !== undefined ? { flagsFrag: o.flagsFrag } : {}) });
  add(name, o.hdr ?? {}, ip, src, null, o.old);
}

function pkt6(
  name: string,
  src: string,
  proto: number,
  payload: Buffer,
  tcpFlags: number | null,
  o: CaseOpts & { ext?: Array<{ type: number; body: Buffer }>; payloadLength?: number } = {},
): void {
  const ip = ipv6({ src, dst: DST6, proto, payload, ...(o.ext ? { ext: o.ext } : {}), ...(o.payloadLength ? { payloadLength: o.payloadLength } : {}) });
  add(name, { af: AF.INET6_FREEBSD, ...o.hdr }, ip, src, tcpFlags, o.old);
}

function tcp6(name: string, src: string, flags: number, o: CaseOpts & { ext?: Array<{ type: number; body: Buffer }>; payloadLength?: number } = {}): void {
  pkt6(name, src, 6, tcp({ sport: 40000 + cases.length, dport: 22, flags, ack: flags & TCP.ACK ? 1 : 0 }), flags, o);
}

const FAKE6 = 'rule 1/0(match): block in on vtnet0: 6.6.6.6.1 > 1.1.1.1.1';
const FAKE7 = 'rule 1/0(match): block in on vtnet0: 7.7.7.7.1 > 1.1.1.1.1';
const HBH = { type: IP6.HOPOPTS, body: Buffer.alloc(6) };

// TCP in all its states, several from the same sources
tcp4('TCP SYN (the one line the old filter gets right)', '1.2.3.4', TCP.SYN, { old: ['1.2.3.4'] });
tcp4('TCP SYN again', '1.2.3.4', TCP.SYN);
tcp4('TCP SYN-ACK', '1.2.3.4', TCP.SYN | TCP.ACK);
tcp4('TCP ACK', '1.2.3.4', TCP.ACK);
tcp4('TCP FIN-ACK', '1.2.3.4', TCP.FIN | TCP.ACK);
tcp4('TCP RST', '198.51.100.20', TCP.RST);
tcp4('TCP PSH-ACK with data', '198.51.100.20', TCP.PSH | TCP.ACK, { payload: Buffer.from('SSH-2.0-x\r\n') });
tcp4('TCP SYN+ECE+CWR', '198.51.100.21', TCP.SYN | TCP.ECE | TCP.CWR);
tcp4('TCP SYN+FIN', '198.51.100.21', TCP.SYN | TCP.FIN);
tcp4('TCP no flags', '198.51.100.21', 0);
// other protocols
other4('ICMP echo from 1.2.3.4 (old filter: <HOST> takes "1.2.3", bans 1.2.0.3)', '1.2.3.4', 1, icmp(8, 0, echo(7, 1)), { old: ['1.2.0.3'] });
other4('ICMP port unreachable', '192.0.2.77', 1, icmp(3, 3, Buffer.alloc(4), ipv4({ src: DST4, dst: '192.0.2.77', proto: 17, payload: udp(53, 33434) })));
other4('UDP', '192.0.2.78', 17, udp(5000, 6000, Buffer.from('ping')));
other4('UDP again', '192.0.2.78', 17, udp(5000, 6000, Buffer.from('ping')));
other4('GRE (old filter: bans 9.9.0.9)', '9.9.9.9', 47, Buffer.from([0, 0, 0x08, 0, 0x45, 0, 0, 0]), { old: ['9.9.0.9'] });
other4('IPv4 non-first fragment of TCP', '9.9.9.9', 6, Buffer.alloc(16, 0x41), { flagsFrag: 100 });
tcp4('truncated-ip: total length larger than captured (old filter: missed)', '192.0.2.88', TCP.SYN, { totalLength: 400, old: [] });
// printer injection: a DNS query name carrying a pf line
other4('DNS query name with a fake pf line, blocked (old filter: bans 6.6.6.6)', '192.0.2.53', 17, udp(5353, 53, dnsQuery(0x1234, [FAKE6, 'example'])), {
  hdr: { rulenr: 12, ifname: 'igb0.100' },
  old: ['6.6.6.6'],
});
other4('DNS query name with a fake pf line, passed (old filter: bans 7.7.7.7)', '192.0.2.54', 17, udp(5353, 53, dnsQuery(0x1235, [FAKE7, 'example'])), {
  hdr: { rulenr: 12, action: PF.PASS },
  old: ['7.7.7.7'],
});
// IPv6
pkt6('ICMPv6 echo (old filter: missed)', '2001:db8::1', 58, icmp(128, 0, echo(1, 2)), null, { old: [] });
tcp6('IPv6 TCP SYN', '2001:db8::1', TCP.SYN);
tcp6('IPv6 TCP ACK', '2001:db8::1', TCP.ACK);
tcp6('IPv6 hop-by-hop, TCP SYN+ECE, af 30, header length 61 (old filter: missed)', '2001:db8::2', TCP.SYN | TCP.ECE, {
  ext: [HBH],
  hdr: { af: AF.INET6_DARWIN, length: 61 },
  old: [],
});
tcp6('IPv6 hop-by-hop, TCP SYN-ACK-ECE, af 24, header length 100', '2001:db8::2', TCP.SYN | TCP.ACK | TCP.ECE, {
  ext: [HBH],
  hdr: { af: AF.INET6_OPENBSD, length: 100 },
});
// IPv6 extension headers and AH between the addresses and the TCP header
const FRAG_FIRST = { type: IP6.FRAGMENT, body: Buffer.from([0x00, 0x01, 0, 0, 0, 9]) };
tcp6('IPv6 first fragment, TCP ACK', '2001:db8::4', TCP.ACK, { ext: [FRAG_FIRST] });
tcp6('IPv6 first fragment, TCP SYN', '2001:db8::4', TCP.SYN, { ext: [FRAG_FIRST] });
pkt6('IPv6 non-first fragment', '2001:db8::4', 6, Buffer.alloc(24, 0x41), null, { ext: [{ type: IP6.FRAGMENT, body: Buffer.from([0x05, 0x00, 0, 0, 0, 9]) }] });
tcp6('IPv6 HBH DSTOPT RT6 frag, TCP RST', '2001:db8::5', TCP.RST, {
  ext: [HBH, { type: IP6.DSTOPTS, body: Buffer.alloc(6) }, { type: IP6.ROUTING, body: Buffer.alloc(6) }, FRAG_FIRST],
});
const ahTcp = (flags: number): Buffer =>
  Buffer.concat([Buffer.from([6, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 5]), Buffer.alloc(12, 0xaa), tcp({ sport: 1, dport: 22, flags, ack: flags & TCP.ACK ? 1 : 0 })]);
add('AH, TCP ACK', {}, ipv4({ src: '192.0.2.51', dst: DST4, proto: 51, payload: ahTcp(TCP.ACK) }), '192.0.2.51', TCP.ACK);
add('AH, TCP SYN', {}, ipv4({ src: '192.0.2.51', dst: DST4, proto: 51, payload: ahTcp(TCP.SYN) }), '192.0.2.51', TCP.SYN);
pkt6('IPv6 AH, TCP PSH-ACK', '2001:db8::51', 51, ahTcp(TCP.PSH | TCP.ACK), TCP.PSH | TCP.ACK);
other4('ESP', '192.0.2.50', 50, Buffer.alloc(24, 0x55));
pkt6('IPv6 UDP, af 24', '2001:db8::3', 17, udp(1053, 53), null, { hdr: { af: AF.INET6_OPENBSD, length: 100 } });
tcp6('truncated-ip6 (tcpdump prints no space after "!")', '2001:db8::88', TCP.SYN, { payloadLength: 600 });
// IPv4 inside IPv6: mapped and compatible sources are never banned (fail2ban's
// <ADDR> would turn ::ffff:198.51.100.7 into IPv4 198.51.100.7); IPv6
// addresses that merely embed one (IPv4-translated, NAT64) are banned as IPv6
const MAPPED = '::ffff:198.51.100.7';
const COMPATIBLE = '::203.0.113.9';
tcp6('IPv4-mapped source, TCP SYN (old filter: bans IPv4 198.51.100.7)', MAPPED, TCP.SYN, { old: ['198.51.100.7'] });
tcp6('IPv4-mapped source, TCP ACK', MAPPED, TCP.ACK);
pkt6('IPv4-mapped source, UDP', MAPPED, 17, udp(5000, 6000, Buffer.from('ping')), null);
pkt6('IPv4-mapped source, ICMPv6 echo', MAPPED, 58, icmp(128, 0, echo(1, 2)), null);
tcp6('IPv4-compatible source, TCP SYN', COMPATIBLE, TCP.SYN);
pkt6('IPv4-compatible source, ICMPv6 echo', COMPATIBLE, 58, icmp(128, 0, echo(1, 3)), null);
pkt6('IPv4-compatible source, UDP, af 24', COMPATIBLE, 17, udp(1053, 53), null, { hdr: { af: AF.INET6_OPENBSD, length: 100 } });
tcp6('::1 as a source (in ::/96)', '::1', TCP.SYN);
tcp6('IPv4-translated source ::ffff:0:c000:207: an IPv6 address, banned', '::ffff:0:c000:207', TCP.SYN);
tcp6('NAT64 source 64:ff9b::c633:6407: an IPv6 address, banned', '64:ff9b::c633:6407', TCP.SYN);
const NEVER_BANNED = new Set([MAPPED, COMPATIBLE, '::1']);
// rule numbers, anchors, reasons, interfaces, header lengths
tcp4('rule 0', '198.51.100.30', TCP.SYN, { hdr: { rulenr: 0 } });
tcp4('rule 9', '198.51.100.31', TCP.SYN, { hdr: { rulenr: 9 } });
tcp4('rule 10 (old filter: missed)', '198.51.100.10', TCP.SYN, { hdr: { rulenr: 10 }, old: [] });
tcp4('rule 12345 (old filter: missed)', '198.51.100.11', TCP.SYN, { hdr: { rulenr: 12345 }, old: [] });
tcp4('default rule 4294967295 (old filter: missed)', '198.51.100.12', TCP.SYN, { hdr: { rulenr: 0xffffffff }, old: [] });
tcp4('anchor rule 3.scanners/web.0 (old filter: missed)', '198.51.100.13', TCP.SYN, { hdr: { rulenr: 3, ruleset: 'scanners/web', subrulenr: 0 }, old: [] });
tcp4('anchor with a 16-byte name', '198.51.100.13', TCP.SYN, { hdr: { rulenr: 3, ruleset: 'f2b/abcdefghijkl', subrulenr: 7 } });
tcp4('interface igb0.100 (old filter: missed)', '198.51.100.14', TCP.SYN, { hdr: { ifname: 'igb0.100' }, old: [] });
tcp4('interface em0', '198.51.100.16', TCP.SYN, { hdr: { ifname: 'em0' } });
tcp4('interface with bytes tcpdump escapes (old filter: missed)', '198.51.100.15', TCP.SYN, {
  hdr: { ifname: Buffer.from([0x65, 0x6d, 0x0a, 0x30, 0xe9, 0x7f]) },
  old: [],
});
tcp4('reason 5 (memory)', '198.51.100.42', TCP.SYN, { hdr: { reason: 5 } });
tcp4('reason 99 (unkn(99))', '198.51.100.42', TCP.SYN, { hdr: { reason: 99 } });
tcp4('header length 61', '198.51.100.40', TCP.SYN, { hdr: { length: 61 } });
tcp4('header length 100, ridentifier set', '198.51.100.41', TCP.SYN, { hdr: { length: 100, ridentifier: 1234, ruleUid: 0 } });
// every action in every direction: only "block in" counts
for (const action of [PF.PASS, PF.DROP, PF.SCRUB, PF.NAT, PF.RDR, PF.MATCH_FREEBSD, 99]) {
  for (const [dirName, dir] of [['in', DIR.IN], ['out', DIR.OUT], ['in/out', DIR.INOUT]] as const) {
    tcp4(`action ${action} ${dirName}`, `203.0.113.${10 + action}`, TCP.SYN, { hdr: { action, dir } });
    other4(`action ${action} ${dirName}, UDP`, `203.0.113.${110 + action}`, 17, udp(1, 2), { hdr: { action, dir } });
  }
}

function bannedNormal(c: Case): boolean {
  return c.action === PF.DROP && c.dir === DIR.IN && !NEVER_BANNED.has(c.src);
}

function bannedSyn(c: Case): boolean {
  if (!bannedNormal(c)) return false;
  if (c.tcpFlags === null) return true;
  return (c.tcpFlags & TCP.SYN) !== 0 && (c.tcpFlags & TCP.ACK) === 0;
}

// ---------------------------------------------------------------------------
// the sample log in fail2ban's format

interface FailJson {
  match?: boolean;
  host?: string;
  time?: string;
  constraint?: string;
  desc?: string;
}

interface SampleEntry {
  lineNo: number;
  line: string;
  expect: FailJson;
}

function parseSample(text: string): { modes: string[]; entries: SampleEntry[] } {
  const lines = text.split('\n');
  let modes: string[] = [];
  const entries: SampleEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$/.exec(line);
    if (m) {
      const data: unknown = JSON.parse(m[2]!);
      if (m[1] === 'filterOptions') {
        const list = (Array.isArray(data) ? data : [data]) as Array<{ mode?: string }>;
        modes = list.map((o) => o.mode ?? 'normal');
        continue;
      }
      assert.equal(m[1], 'failJSON', `${SAMPLE}:${i + 1}: ${m[1]} is not supported by this test`);
      // as fail2ban's own sample test: the next line is the one described
      i++;
      assert.ok(i < lines.length, `${SAMPLE}:${i}: failJSON at the end of the file`);
      entries.push({ lineNo: i + 1, line: lines[i]!.trimEnd(), expect: data as FailJson });
    } else if (line.startsWith('#') || line.trim() === '') {
      continue;
    } else {
      entries.push({ lineNo: i + 1, line: line.trimEnd(), expect: {} });
    }
  }
  return { modes, entries };
}

function constraintHolds(constraint: string | undefined, mode: string): boolean {
  if (constraint === undefined) return true;
  const m = /^opts\.get\('mode'\) (==|!=) '(\w+)'$/.exec(constraint);
  assert.ok(m, `unsupported constraint ${constraint}`);
  return m[1] === '==' ? mode === m[2] : mode !== m[2];
}

function lastSundayUtc(year: number, month: number): Date {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return new Date(Date.UTC(year, month, last.getUTCDate() - last.getUTCDay(), 1));
}

/** failJSON "time" is local time of fail2ban's test suite: CET-01CEST-02,M3.5.0,M10.5.0. */
function cetToEpoch(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(s);
  assert.ok(m, `unsupported failJSON time ${s}`);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, se);
  const summer = wall - 2 * 3600_000;
  const dst = summer >= lastSundayUtc(y, 2).getTime() && summer < lastSundayUtc(y, 9).getTime();
  return (dst ? summer : wall - 3600_000) / 1000;
}

// fail2ban's own sample-log test (fail2ban/tests/samplestestcase.py), pointed
// at our filter and sample; exit 77 when the test suite is not installed
const HARNESS = `
import sys, unittest, logging
try:
    from fail2ban.tests import utils
    from fail2ban.tests import samplestestcase as s
except ImportError as e:
    print("fail2ban's test suite is not installed: %s" % e)
    sys.exit(77)
opts = utils.DefaultTestOptions()
opts.log_level = logging.ERROR
opts.verbosity = 0
opts.fast = True
opts.no_network = True
utils.initTests(opts)
s.TEST_FILES_DIR = sys.argv[1]
class PfasciilogdSamples(s.FilterSamplesRegex):
    pass
PfasciilogdSamples.testSampleRegexsPFASCIILOGD = s.testSampleRegexsFactory('pfasciilogd', sys.argv[2])
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(
    unittest.TestSuite([PfasciilogdSamples('testSampleRegexsPFASCIILOGD')]))
sys.exit(0 if result.wasSuccessful() else 1)
`;

/** The interpreter fail2ban-regex runs with, from its #! line. */
function shebang(tool: string): string[] | undefined {
  const first = readFileSync(tool, 'latin1').split('\n', 1)[0] ?? '';
  if (!first.startsWith('#!')) return undefined;
  const argv = first.slice(2).trim().split(/\s+/);
  return argv.length > 0 && argv[0] ? argv : undefined;
}

// ---------------------------------------------------------------------------

test('fail2ban filter pfasciilogd.conf with the real tcpdump and fail2ban-regex', async (t) => {
  const tcpdump = findTool('tcpdump');
  const f2bRegex = findTool('fail2ban-regex');
  if (!tcpdump || !f2bRegex) {
    unavailable(t, `${!tcpdump ? 'tcpdump' : 'fail2ban-regex'} not found`);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'pfasciilogd-f2b-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  await t.test('filter file keeps to the contract', () => {
    const conf = readFileSync(FILTER, 'utf8');
    const code = conf
      .split('\n')
      .filter((l) => !/^\s*[#;]/.test(l))
      .join('\n');
    assert.match(code, /<ADDR>/);
    assert.doesNotMatch(code, /<HOST>/, 'no <HOST>: no DNS');
    assert.doesNotMatch(code, /\.[*+]/, 'no .* / .+ catch-all');
    assert.doesNotMatch(code, /(?<!\\)[*+]|\{\d+,\}/, 'no unbounded quantifier at all');
    assert.match(code, /^datepattern = \{\^LN-BEG\}%%Y-/m);
    assert.match(code, /^\[Init\]\s+mode = normal$/m);
  });

  // --- render the packets like the daemon does
  const pcap = join(tmp, 'pflog.pcap');
  writeFileSync(pcap, Buffer.concat([pcapFileHeader(), ...cases.map((c) => pcapRecord(c.frame, { sec: c.sec, frac: c.usec }))]));
  const td = run(tcpdump, ['-n', '-e', '-t', '-r', pcap]);
  assert.equal(td.status, 0, `tcpdump failed: ${td.stderr}`);
  const printed = td.stdout.split('\n').filter((l) => l !== '');
  assert.equal(printed.length, cases.length, `tcpdump printed one line per packet:\n${td.stdout}`);
  const caseOfLine = new Map<string, Case>();
  const logLines: string[] = [];
  const event = (text: string) => logLines.push(`${formatStamp(SUMMER - 60, 0)} ${text}`);
  event('pfasciilogd: starting tcpdump -Z nobody -t -l -e -n -i pflog0');
  for (const l of td.stderr.split('\n')) if (l.trim() !== '') event(`tcpdump: ${l.replace(/^tcpdump: /, '')}`);
  event('pfasciilogd: log reopened');
  event(`pfasciilogd: unexpected line: ${FAKE6}: Flags [S], seq 1, win 1024, length 0`);
  event(`tcpdump: ${FAKE7}: Flags [S], seq 1, win 1024, length 0`);
  cases.forEach((c, i) => {
    const line = `${formatStamp(c.sec, c.usec)} ${printed[i]!}`.trimEnd();
    assert.ok(!caseOfLine.has(line), `duplicate log line ${line}`);
    caseOfLine.set(line, c);
    logLines.push(line);
  });
  const log = join(tmp, 'pf.log');
  writeFileSync(log, logLines.join('\n') + '\n');
  // the stamps carry the offset in force at each instant: summer and winter time
  assert.equal(formatStamp(SUMMER, 0), '2023-05-01T01:48:13.000000+02:00');
  assert.equal(formatStamp(WINTER, 0), '2023-01-15T11:00:13.000000+01:00');

  // fail2ban-regex: which address each line gives (line -> hits)
  const check = (mode: 'normal' | 'syn', banned: (c: Case) => boolean) => {
    const hits = fail2banRegex(f2bRegex, log, filterArg(tmp, mode));
    const got = byLine(hits);
    for (const line of got.keys()) assert.ok(caseOfLine.has(line), `[${mode}] matched a line that is no blocked packet: ${line}`);
    for (const [line, c] of caseOfLine) {
      const h = got.get(line) ?? [];
      const want = banned(c) ? [c.src] : [];
      assert.deepEqual(
        h.map((x) => x.ip),
        want,
        `[${mode}] ${c.name}:\n  ${line}`,
      );
      // date found, microseconds dropped by fail2ban, UTC offset honoured
      for (const x of h) assert.equal(x.time, c.sec, `[${mode}] time of ${c.name}: ${line}`);
    }
    const expected = sorted(cases.filter(banned).map((c) => c.src));
    assert.deepEqual(sorted(hits.map((x) => x.ip)), expected, `[${mode}] the multiset of banned addresses`);
    return expected;
  };

  await t.test('mode=normal bans the source of every packet blocked inbound, nothing else', () => {
    const expected = check('normal', bannedNormal);
    assert.ok(expected.includes('2001:db8::2') && expected.includes('198.51.100.15'));
  });

  await t.test('mode=syn ignores TCP without SYN or with ACK, keeps every other protocol', () => {
    const expected = check('syn', bannedSyn);
    assert.ok(!expected.includes('198.51.100.20'), 'RST and PSH-ACK only: not banned');
    assert.equal(expected.filter((a) => a === '1.2.3.4').length, 3, '1.2.3.4: two SYNs and an ICMP echo');
  });

  await t.test('the old filter shows its defects on the same log', () => {
    const hits = fail2banRegex(f2bRegex, log, OLD_REGEX);
    const got = byLine(hits);
    const demonstrated = cases.filter((c) => c.old !== undefined);
    assert.ok(demonstrated.length >= 10);
    for (const [line, c] of caseOfLine) {
      if (c.old === undefined) continue;
      assert.deepEqual(
        (got.get(line) ?? []).map((x) => x.ip),
        c.old,
        `old filter on ${c.name}:\n  ${line}`,
      );
    }
    const ips = hits.map((x) => x.ip);
    for (const wrong of ['1.2.0.3', '6.6.6.6', '7.7.7.7']) assert.ok(ips.includes(wrong), `old filter bans ${wrong}`);
  });

  // --- the native decoder (the daemon's default) renders the same packets;
  // its lines must give exactly the same bans, packet by packet.
  await t.test('native decoder lines give the same bans as tcpdump lines, in both modes', () => {
    const main = join(ROOT, 'dist/bin/pfasciilogd.js');
    const rd = run(process.execPath, [main, 'read', pcap]);
    assert.equal(rd.status, 0, `pfasciilogd read failed: ${rd.stderr}`);
    const native = rd.stdout.split('\n').filter((l) => l !== '');
    assert.equal(native.length, cases.length, 'one native line per packet');
    const nativeCase = new Map<string, Case>();
    native.forEach((line, i) => nativeCase.set(line, cases[i]!));
    const nativeLog = join(tmp, 'pf-native.log');
    writeFileSync(nativeLog, native.join('\n') + '\n');
    for (const [mode, banned] of [['normal', bannedNormal], ['syn', bannedSyn]] as const) {
      const hits = fail2banRegex(f2bRegex, nativeLog, filterArg(tmp, mode));
      const got = byLine(hits);
      for (const [line, c] of nativeCase) {
        assert.deepEqual(
          (got.get(line) ?? []).map((x) => x.ip),
          banned(c) ? [c.src] : [],
          `[${mode}] native line for ${c.name}:\n  ${line}`,
        );
      }
      const fromTcpdump = sorted(fail2banRegex(f2bRegex, log, filterArg(tmp, mode)).map((x) => x.ip));
      assert.deepEqual(sorted(hits.map((x) => x.ip)), fromTcpdump, `[${mode}] same multiset as tcpdump's rendering`);
    }
  });

  // --- what the filter leaves out on purpose, stats shows
  await t.test('pfasciilogd stats counts the IPv4-mapped/compatible sources the filter never bans', () => {
    const main = join(ROOT, 'dist/bin/pfasciilogd.js');
    const want = cases.filter((c) => NEVER_BANNED.has(c.src) && c.action === PF.DROP && c.dir === DIR.IN).length;
    assert.equal(want, 8);
    for (const input of [log, pcap]) {
      const j = run(process.execPath, [main, 'stats', '--json', input]);
      assert.equal(j.status, 0, j.stderr);
      assert.equal((JSON.parse(j.stdout) as { v4_in_v6_not_banned: number }).v4_in_v6_not_banned, want, input);
      const txt = run(process.execPath, [main, 'stats', input]);
      assert.equal(txt.status, 0, txt.stderr);
      assert.match(txt.stdout, new RegExp(`^IPv4-mapped/compatible sources not banned: ${want} blocked packets$`, 'm'), input);
    }
  });

  // --- the hand-written sample, in each mode its filterOptions name
  const sample = parseSample(readFileSync(SAMPLE, 'utf8'));
  assert.deepEqual(sorted(sample.modes), ['normal', 'syn']);
  for (const mode of sample.modes) {
    await t.test(`sample log ${'test/fail2ban/pfasciilogd.log'} meets every failJSON in mode=${mode}`, () => {
      const entries = sample.entries.filter((e) => constraintHolds(e.expect.constraint, mode));
      const seen = new Set<string>();
      for (const e of entries) {
        assert.ok(!seen.has(e.line), `line ${e.lineNo} appears twice for mode=${mode}`);
        seen.add(e.line);
      }
      const file = join(tmp, `sample-${mode}.log`);
      writeFileSync(file, entries.map((e) => e.line).join('\n') + '\n');
      const got = byLine(fail2banRegex(f2bRegex, file, filterArg(tmp, mode)));
      for (const line of got.keys()) assert.ok(seen.has(line), `unexpected match ${line}`);
      let matched = 0;
      for (const e of entries) {
        const h = got.get(e.line) ?? [];
        const where = `${SAMPLE}:${e.lineNo} [mode=${mode}] ${e.expect.desc ?? ''}\n  ${e.line}`;
        if (!e.expect.match) {
          assert.deepEqual(h, [], `should not match: ${where}`);
          continue;
        }
        matched++;
        assert.equal(h.length, 1, `should match once: ${where}`);
        if (e.expect.host !== undefined) assert.equal(h[0]!.ip, e.expect.host, where);
        if (e.expect.time !== undefined) assert.equal(h[0]!.time, cetToEpoch(e.expect.time), `time: ${where}`);
      }
      assert.ok(matched >= 20 && matched < entries.length);
    });
  }

  await t.test("fail2ban's own sample-log test accepts the filter and the sample", (st) => {
    const interp = shebang(f2bRegex);
    if (!interp) {
      st.skip(`cannot tell which interpreter ${f2bRegex} uses`);
      return;
    }
    const dir = join(tmp, 'harness');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    cpSync(SAMPLE, join(dir, 'logs', 'pfasciilogd'));
    const r = run(interp[0]!, [...interp.slice(1), '-c', HARNESS, dir, dirname(dirname(FILTER))]);
    if (r.status === 77) {
      st.skip(r.stdout.trim());
      return;
    }
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });

  await t.test('jail.d/pfasciilogd.conf loads into a working [pf] jail', (st) => {
    const client = findTool('fail2ban-client');
    const stock = ['/etc/fail2ban', '/usr/local/etc/fail2ban'].find((d) => existsSync(join(d, 'jail.conf')) && existsSync(join(d, 'action.d/pf.conf')));
    if (!client || !stock) {
      unavailable(st, !client ? 'fail2ban-client not found' : 'no stock fail2ban configuration with action.d/pf.conf');
      return;
    }
    // the stock configuration with only our jail in it
    const cfg = join(tmp, 'etc-fail2ban');
    cpSync(stock, cfg, { recursive: true });
    rmSync(join(cfg, 'jail.local'), { force: true });
    for (const f of readdirSync(join(cfg, 'jail.d'))) rmSync(join(cfg, 'jail.d', f), { recursive: true, force: true });
    rmSync(join(cfg, 'filter.d/pfasciilogd.local'), { force: true });
    cpSync(FILTER, join(cfg, 'filter.d/pfasciilogd.conf'));
    cpSync(JAIL, join(cfg, 'jail.d/pfasciilogd.conf'));
    const r = run(client, ['-c', cfg, '-d']);
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    const out = r.stdout;
    assert.match(out, /^\['add', 'pf', 'auto'\]$/m);
    assert.match(out, /^\['set', 'pf', 'usedns', 'no'\]$/m);
    assert.match(out, /^\['set', 'pf', 'maxretry', 10\]$/m);
    assert.match(out, /^\['set', 'pf', 'addignoreip', '127\.0\.0\.1\/8', '::1'\]$/m);
    assert.match(out, /^\['set', 'pf', 'datepattern', '\{\^LN-BEG\}%Y-/m);
    // mode = syn reached the filter: its failregex carries the SYN test
    const fr = out.split('\n').filter((l) => l.startsWith("['set', 'pf', 'addfailregex'"));
    assert.equal(fr.length, 1);
    assert.match(fr[0]!, /Flags \\\\\[F\?S/);
    assert.match(out, /block quick from <f2b-pf> to any # /);
    assert.match(out, /pfctl -a f2b\/pf -t f2b-pf -T add <ip>/);
    assert.match(out, /^\['start', 'pf'\]$/m);
  });
});
