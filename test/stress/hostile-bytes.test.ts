// Hostile bytes, at the filter: captures whose wire-derived strings (pflog
// interface and ruleset names, NFLOG prefixes and interface names, text a
// printer takes from the payload) hold newlines, CRs, control characters,
// UTF-8 and text shaped like a whole log line, run through `pfasciilogd read`
// and through the daemon with both decoders (native, and the real tcpdump's
// text via --decoder tcpdump), then judged by the real fail2ban-regex with
// the shipped filter in both modes. Each output must have exactly one line
// per packet, nothing but printable ASCII, and fail2ban must find exactly the
// real sources of the packets it should count: never 6.6.6.6 or anything
// else that only appears inside hostile text. The filterlog outputs (read
// and daemon, pflog and NFLOG) keep every field in its column, fail2ban's
// filter matches none of their lines, and CrowdSec's pf-logs grok (as
// translated in test/support/crowdsec-pf-logs.ts) reads only real sources.
//
// Interface and ruleset names here hold no spaces: a name such as
// "a: ::6 > ::1" makes a line that tcpdump also prints for a real
// IPv4-in-IPv6 packet from ::6 (see the README, "Reliability"); such names
// can only be set by root on the firewall, and Linux refuses spaces and ':'
// in interface names. As root, the NFLOG capture also names a real (veth)
// interface, in a namespace made here, whose name is control characters and
// UTF-8, looked up by the daemon.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIR, LINKTYPE_NFLOG, PF, TCP, dnsQuery, icmp, ipv4, ipv6, nflogFrame, pcapFile, pflogHeader, tcp, udp, type PflogOptions } from '../support/capture-builder.js';
import { PF_LOGS, PF_LOGS_DEBIAN, crowdsecMessage } from '../support/crowdsec-pf-logs.js';
import { MAIN_JS, Sandbox, TEXT_RELAY, parseLog, readText } from '../support/daemon-harness.js';
import { Lab, removeStale } from '../support/netns.js';
import { findTool, unavailable } from '../support/unavailable.js';

const FILTER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../etc/fail2ban/filter.d/pfasciilogd.conf');
const LOG_LINE = '\n2026-11-25T00:00:00Z rule 1/0(match): block in on em0: 6.6.6.6.1 > 1.2.3.4.22: Flags [S]';
/** addresses that only ever appear inside hostile text */
const HOSTILE = ['6.6.6.6', '6.6.6.7', '::6', '1.2.3.4'];
/** a real interface's name: ESC, a CSI sequence, UTF-8 (é), DEL */
const HOSTILE_IFNAME = 'e\x1b[7m\u00e9\x7f';

interface Packet {
  name: string;
  frame: Buffer;
  src: string;
  /** counted by the filter in mode=normal: pflog "block in", NFLOG with an input interface */
  counted: boolean;
  /** TCP without SYN, or with ACK: not counted in mode=syn */
  tcpNotSyn: boolean;
}

const DST = '198.51.100.1';
let hostNo = 0;
const nextSrc = () => `203.0.113.${++hostNo}`;
const tcpSyn = (src: string, payload?: Buffer) => ipv4({ src, dst: DST, proto: 6, payload: tcp({ sport: 40000 + hostNo, dport: 22, flags: TCP.SYN, ...(payload ? { payload } : {}) }) });
const tftpRrq = (name: string) => Buffer.concat([Buffer.from([0, 1]), Buffer.from(`${name}\0octet\0`, 'latin1')]);

function pflogPackets(): Packet[] {
  const out: Packet[] = [];
  const add = (name: string, hdr: PflogOptions, make: (src: string) => Buffer, o: { src?: string; tcpNotSyn?: boolean } = {}) => {
    const src = o.src ?? nextSrc();
    out.push({ name, frame: Buffer.concat([pflogHeader(hdr), make(src)]), src, counted: (hdr.action ?? PF.DROP) === PF.DROP && (hdr.dir ?? DIR.IN) === DIR.IN, tcpNotSyn: o.tcpNotSyn ?? false });
  };
  add('ifname: newline and a stamp', { ifname: 'em0\n2026-11-25T' }, tcpSyn);
  add('ifname: CR, ESC and an address', { ifname: '\r\x1b[2K6.6.6.6' }, tcpSyn);
  add('ifname: UTF-8, U+2028, DEL, then NUL and junk', { ifname: Buffer.from('e\u00e9\u2028\x7f\x00junk', 'utf8') }, tcpSyn);
  add('ifname: 16 bytes, no NUL, address and controls', { ifname: Buffer.from('\n6.6.6.6.1>1:\x01\x02\x03\x04', 'latin1') }, tcpSyn);
  add('ifname: an address after a colon', { ifname: 'em0:6.6.6.6' }, tcpSyn);
  add('ifname: commas, a quote: CSV columns of its own', { ifname: 'e,6.6.6.6,,1,"' }, tcpSyn);
  add('ruleset: commas, a quote, ; and =', { ruleset: ',6.6.6.7,"a;b=', subrulenr: 2, rulenr: 4 }, tcpSyn);
  add('ruleset: newline and an address', { ruleset: '\n6.6.6.6.1>1.2', subrulenr: 0, rulenr: 3 }, tcpSyn);
  add('ruleset: ESC, UTF-8, CR', { ruleset: Buffer.from('f2b/\x1b[31m\u00e9\r', 'utf8'), subrulenr: 5 }, tcpSyn);
  add('ruleset: the start of a log line', { ruleset: '\n2026-11-25T00:0', subrulenr: 1 }, tcpSyn);
  add('passed in, hostile ifname', { action: PF.PASS, ifname: 'em0\n6.6.6.6' }, tcpSyn);
  add('blocked out, hostile ruleset', { dir: DIR.OUT, ruleset: '\n6.6.6.7', subrulenr: 0 }, tcpSyn);
  // what tcpdump's printers take from the payload
  add('TFTP file name: a whole log line', {}, (src) => ipv4({ src, dst: DST, proto: 17, payload: udp(40000, 69, tftpRrq(`x${LOG_LINE}\x1b`)) }));
  add('DNS query name: a log line in labels', {}, (src) =>
    ipv4({ src, dst: DST, proto: 17, payload: udp(5353, 53, dnsQuery(7, ['a\n2026-11-25T00:00:00Z', 'rule 1/0(match): block in on em0: 6', '6', '6', '6.1 > 1.2.3.4.22: Flags [S]'])) }),
  );
  add('HTTP request line with ESC and a log line', {}, (src) =>
    ipv4({ src, dst: DST, proto: 6, payload: tcp({ sport: 40001, dport: 80, flags: TCP.PSH | TCP.ACK, ack: 1, payload: Buffer.from(`GET /\x1b[31m${LOG_LINE} HTTP/1.1\r\nHost: 6.6.6.6\r\n\r\n`, 'latin1') }) }),
    { tcpNotSyn: true },
  );
  add('ICMP port unreachable quoting a packet to 6.6.6.6', {}, (src) =>
    ipv4({ src, dst: DST, proto: 1, payload: icmp(3, 3, Buffer.alloc(4), ipv4({ src: DST, dst: '6.6.6.6', proto: 17, payload: udp(53, 33434) })) }),
  );
  add('SYN carrying a log line as data', {}, (src) => tcpSyn(src, Buffer.from(LOG_LINE, 'latin1')));
  add('IPv6 SYN, hostile ifname', { af: 28, ifname: 'em0\n::6' }, (src) => ipv6({ src, dst: '2001:db8::1', proto: 6, payload: tcp({ sport: 40000, dport: 22, flags: TCP.SYN }) }), { src: '2001:db8::77' });
  return out;
}

function nflogPackets(hostileIndex: number): Packet[] {
  const out: Packet[] = [];
  const add = (name: string, o: { prefix: string; indev?: number; outdev?: number; family?: number }, make: (src: string) => Buffer, src = nextSrc()) => {
    const frame = nflogFrame(make(src), { group: 1, prefix: o.prefix, family: o.family ?? 2, ...(o.indev !== undefined ? { indev: o.indev } : {}), ...(o.outdev !== undefined ? { outdev: o.outdev } : {}) });
    out.push({ name, frame, src, counted: o.indev !== undefined, tcpNotSyn: false });
  };
  const fake = 'x" in on a: 6.6.6.6 > 11: ';
  add('prefix: a quote, then a fake interface and addresses (inbound)', { prefix: fake, indev: 2 }, tcpSyn);
  add('prefix: the same on an outbound packet', { prefix: fake, outdev: 2 }, tcpSyn);
  add('prefix: a whole log line', { prefix: LOG_LINE, indev: 2 }, tcpSyn);
  add('prefix: ends in a backslash', { prefix: 'pf-block\\', indev: 2 }, tcpSyn);
  add('prefix: CR, ESC, UTF-8, U+2028', { prefix: '\r\x1b[31m\xc3\xa9\xe2\x80\xa8', indev: 2 }, tcpSyn);
  add('prefix: 127 high bytes (508 characters escaped)', { prefix: '\x81'.repeat(127), indev: 2 }, tcpSyn);
  add('an interface index no interface has', { prefix: 'pf-block', indev: 99999 }, tcpSyn);
  add('an interface whose name is control characters and UTF-8', { prefix: 'pf-block', indev: hostileIndex }, tcpSyn);
  add('TFTP file name: a whole log line', { prefix: 'pf-block', indev: 2 }, (src) => ipv4({ src, dst: DST, proto: 17, payload: udp(40000, 69, tftpRrq(`x${LOG_LINE}`)) }));
  add('IPv6 UDP, prefix with a newline and an address', { prefix: '\n::6', indev: 2, family: 10 }, (src) => ipv6({ src, dst: '2001:db8::1', proto: 17, payload: udp(1, 53, dnsQuery(1, [LOG_LINE.slice(1, 60)])) }), '2001:db8::78');
  return out;
}

interface Hit {
  ip: string;
  line: string;
}

/** fail2ban-regex over a file with the shipped filter: each match's address and line. */
function fail2banRegex(tool: string, file: string, mode: 'normal' | 'syn'): Promise<Hit[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(tool, ['-o', '<ip>\t<msg>', file, `${FILTER}[mode=${mode}]`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('latin1').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('latin1').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`fail2ban-regex ${file} mode=${mode} exited ${code}: ${err}`));
      else resolve(out.split('\n').filter(Boolean).map((row) => ({ ip: row.slice(0, row.indexOf('\t')), line: row.slice(row.indexOf('\t') + 1) })));
    });
  });
}

function printableOnly(file: string): void {
  const raw = fs.readFileSync(file);
  assert.ok(raw.length > 0 && raw[raw.length - 1] === 0x0a, `${file} ends with a whole line`);
  const bad = raw.findIndex((c) => c !== 0x0a && (c < 0x20 || c > 0x7e));
  assert.equal(bad, -1, `${file}: byte 0x${raw[bad]?.toString(16)} at ${bad}: ${JSON.stringify(raw.subarray(Math.max(0, bad - 40), bad + 10).toString('latin1'))}`);
}

test('hostile names, prefixes and payloads: one printable line per packet; fail2ban bans exactly the real sources', { timeout: 180_000 }, async (t) => {
  const tcpdump = findTool('tcpdump');
  const f2b = findTool('fail2ban-regex');
  if (!tcpdump || !f2b) return unavailable(t, `${tcpdump ? 'fail2ban-regex' : 'tcpdump'} not found`);
  const box = new Sandbox('hostile');
  t.after(() => box.cleanup());

  // As root: a namespace holding an interface with a hostile name, for the daemon to look up.
  let lab: Lab | null = null;
  let hostileIndex = 4242;
  if (process.getuid?.() === 0 && findTool('ip')) {
    removeStale();
    lab = new Lab();
    t.after(() => lab?.destroy());
    lab.addNamespace('server');
    lab.exec('server', ['ip', 'link', 'add', 'name', HOSTILE_IFNAME, 'type', 'veth', 'peer', 'name', 'hostile-peer']);
    hostileIndex = Number(lab.exec('server', ['cat', `/sys/class/net/${HOSTILE_IFNAME}/ifindex`]).trim());
  } else t.diagnostic('not root: no interface with a hostile name (the NFLOG index stays unknown)');

  const pf = pflogPackets();
  const nf = nflogPackets(hostileIndex);
  const pflogPcap = box.path('pflog.pcap');
  const nflogPcap = box.path('nflog.pcap');
  fs.writeFileSync(pflogPcap, pcapFile(pf.map((p) => p.frame)));
  fs.writeFileSync(nflogPcap, pcapFile(nf.map((p) => p.frame), { linktype: LINKTYPE_NFLOG }));
  fs.chmodSync(box.dir, 0o755);

  interface Output {
    what: string;
    file: string;
    packets: Packet[];
    /** the packet lines among the file's lines */
    isPacket: (payload: string) => boolean;
    /** what the filter should count; null: nothing at all (it does not read tcpdump's NFLOG text) */
    judged: boolean;
  }
  const outputs: Output[] = [];
  const native = (p: string) => p.startsWith('rule ') || p.startsWith('nflog ');
  const filterlog = (p: string) => /^[!-~]+ filterlog\[\d+\]: [!-~]*$/.test(p);

  // pfasciilogd read, text and filterlog (which fail2ban's filter must not read at all)
  for (const format of ['text', 'filterlog'] as const) {
    for (const [name, pcap, packets] of [['pflog', pflogPcap, pf], ['nflog', nflogPcap, nf]] as const) {
      const r = spawnSync(process.execPath, [MAIN_JS, 'read', '--format', format, pcap], { encoding: 'latin1', timeout: 20_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const file = box.path(`read-${format}-${name}.log`);
      fs.writeFileSync(file, r.stdout, 'latin1');
      outputs.push({ what: `read ${format} ${name}`, file, packets, isPacket: format === 'text' ? () => true : filterlog, judged: format === 'text' });
    }
  }
  // the daemon, -r with the real tcpdump, both decoders
  const daemonRuns: Array<[string, string, Packet[], string[], (p: string) => boolean, boolean]> = [
    ['daemon native pflog', pflogPcap, pf, [], native, true],
    ['daemon native filterlog pflog', pflogPcap, pf, ['--format', 'filterlog'], filterlog, false],
    ['daemon tcpdump pflog', pflogPcap, pf, TEXT_RELAY, (p) => p.startsWith('rule '), true],
    ['daemon tcpdump nflog', nflogPcap, nf, TEXT_RELAY, (p) => p.startsWith('version 0, resource ID 1, '), false],
  ];
  for (const [what, pcap, packets, args, isPacket, judged] of daemonRuns) {
    const file = box.path(`${what.replace(/ /g, '-')}.log`);
    const r = await box.run([...args, '-u', '', '--tcpdump', tcpdump, '-r', pcap, '-f', file, '-p', box.path('run.pid')], { files: false, timeoutMs: 20_000 });
    assert.deepEqual([r.code, r.stderr], [0, ''], `${what}: ${r.stderr}`);
    outputs.push({ what, file, packets, isPacket, judged });
  }
  // the native NFLOG daemon where the hostile interface exists, text and filterlog
  const nfFile = box.path('daemon-native-nflog.log');
  const nfFilterlog = box.path('daemon-native-filterlog-nflog.log');
  for (const [file, format] of [[nfFile, 'text'], [nfFilterlog, 'filterlog']] as const) {
    const nfArgs = [MAIN_JS, '-u', '', '--tcpdump', tcpdump, '--format', format, '-r', nflogPcap, '-f', file, '-p', box.path('ns.pid')];
    if (lab) {
      const p = lab.spawn('server', 'pfasciilogd', [process.execPath, ...nfArgs]);
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      assert.deepEqual(p.exit, { code: 0, signal: null }, p.stderr);
    } else {
      const r = await box.run(nfArgs.slice(1), { files: false, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
    }
  }
  outputs.push({ what: 'daemon native nflog', file: nfFile, packets: nf, isPacket: native, judged: true });
  outputs.push({ what: 'daemon native filterlog nflog', file: nfFilterlog, packets: nf, isPacket: filterlog, judged: false });

  // one printable line per packet, in every output
  for (const o of outputs) {
    printableOnly(o.file);
    const lines = parseLog(readText(o.file), o.what).filter((l) => !l.payload.startsWith('pfasciilogd: ') && !l.payload.startsWith('reading from file '));
    assert.deepEqual(lines.filter((l) => !o.isPacket(l.payload)).map((l) => l.payload), [], `${o.what}: only packet lines besides events`);
    assert.equal(lines.length, o.packets.length, `${o.what}: one line per packet`);
  }
  if (lab) {
    const text = readText(nfFile);
    assert.match(text, / in on e\^\[\[7mM-CM-\)\^\?: /, 'the hostile interface name, looked up and escaped');
    assert.match(readText(nfFilterlog), /,0,e%1B%5B7m%C3%A9%7F,match,block,in,4,/, 'the same in the filterlog output, percent-encoded');
  }

  // filterlog: each line's CSV has its fields in place (the source where the
  // version puts it), and CrowdSec's pf-logs, where it reads a line, reads
  // the real source and never one from hostile text
  let crowdsecParsed = 0;
  for (const o of outputs.filter((x) => x.isPacket === filterlog)) {
    const lines = parseLog(readText(o.file), o.what).filter((l) => filterlog(l.payload));
    lines.forEach((l, i) => {
      const csv = crowdsecMessage(l.payload);
      const f = csv.split(',');
      const src = o.packets[i]!.src;
      assert.equal(f[f[8] === '6' ? 15 : 18], src, `${o.what}: the source in its column: ${l.payload}`);
      assert.ok(['tcp', 'udp', 'icmp'].includes(f[f[8] === '6' ? 12 : 16]!), `${o.what}: the protocol name in its column: ${l.payload}`);
      for (const re of [PF_LOGS, PF_LOGS_DEBIAN]) {
        const m = re.exec(csv);
        if (m === null) continue;
        assert.equal(m.groups!.src_ip, src, `${o.what}: CrowdSec's source: ${l.payload}`);
        assert.ok(!HOSTILE.includes(m.groups!.dst_ip!), `${o.what}: ${l.payload}`);
        crowdsecParsed++;
      }
    });
  }
  assert.ok(crowdsecParsed > 10, `CrowdSec's grok read ${crowdsecParsed} filterlog lines`);

  // fail2ban: exactly the real sources, in both modes
  const sorted = (a: string[]) => [...a].sort();
  const jobs = outputs.flatMap((o) => (['normal', 'syn'] as const).map((mode) => ({ o, mode, hits: fail2banRegex(f2b, o.file, mode) })));
  let bans = 0;
  for (const { o, mode, hits } of jobs) {
    const got = await hits;
    for (const h of got) assert.ok(!HOSTILE.includes(h.ip), `${o.what} [${mode}]: banned ${h.ip}, an address only in hostile text: ${h.line}`);
    const want = o.judged ? o.packets.filter((p) => p.counted && !(mode === 'syn' && p.tcpNotSyn)).map((p) => p.src) : [];
    const missing = want.filter((ip) => !got.some((h) => h.ip === ip));
    assert.deepEqual(sorted(got.map((h) => h.ip)), sorted(want), `${o.what} [${mode}]: the real sources, each once${missing.length ? `; missing ${missing.map((ip) => [...o.packets].find((p) => p.src === ip)!.name).join(', ')}` : ''}`);
    bans += got.length;
  }
  t.diagnostic(`${pf.length} pflog and ${nf.length} NFLOG packets, ${outputs.length} outputs x 2 modes: ${bans} bans, all real sources; none of ${HOSTILE.join(', ')}`);
});
