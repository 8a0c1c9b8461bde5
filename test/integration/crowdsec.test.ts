// CrowdSec on one host, offline, with Debian's crowdsec 1.4.6 and its hub
// snapshot: pfasciilogd's filterlog lines (`read --format filterlog` over
// captures built here) through the stock parsers (crowdsecurity/syslog-logs,
// firewallservices/pf-logs), the stock scenario and ours in replay mode
// against a Local API, and the firewall bouncer with our nftables example
// turning the decisions into nftables set elements. Also each etc/crowdsec
// file checked by its own tool. Everything runs in a namespace of the test's
// own, with config trees in its temp directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, MAIN_JS, removeStale, waitFor, type Proc } from '../support/netns.js';
import { unavailable } from '../support/unavailable.js';
import { pcapFileHeader, pcapRecord, pflogHeader, nflogFrame, ipv4, tcp, udp, DIR, PF, TCP, LINKTYPE_NFLOG } from '../support/capture-builder.js';
import { ipv6Frame, probeFrame, SERVER, type Probe } from '../support/scan-capture.js';
import {
  CrowdsecTree,
  OURS,
  OUR_SCENARIO,
  STOCK_SCENARIO,
  bouncerConfig,
  crowdsecMissing,
  nftSetElements,
  parseAlerts,
  parseExplain,
} from '../support/crowdsec.js';

const LAPI = '127.0.0.1:8080';
const BOUNCER_KEY = 'pfasciilogd0test0bouncer0key';

/** Sources, all outside the ranges crowdsecurity/whitelists spares. */
const SRC = {
  scanner: '203.0.113.77',
  /** sweeps 8 ports over TCP and UDP: 16 (protocol, port) pairs, 8 ports */
  both: '203.0.113.88',
  scanner6: '2001:db8:bad::1',
  /** a client pf keeps blocking on one port */
  client: '198.51.100.20',
  /** a scanner seen through nftables' NFLOG */
  nflog: '203.0.113.99',
  /** behind hostile interface names and NFLOG prefixes */
  hostile: '203.0.113.5',
  /** in etc/crowdsec's whitelist example */
  whitelisted: '192.0.2.53',
} as const;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** argv, never through a shell, with room for cscli explain's output. */
function run(argv: readonly string[], timeoutMs = 120_000): Run {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function inNs(lab: Lab, argv: readonly string[], timeoutMs?: number): Run {
  return run(['ip', 'netns', 'exec', lab.ns('host'), ...argv], timeoutMs);
}

function must(r: Run, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status}: ${r.stderr.slice(-2000)}${r.stdout.slice(-2000)}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------
// the traffic

type Packet = Probe & { v6?: boolean; nflog?: boolean; ifname?: string | Buffer; prefix?: string };

function traffic(start: number): Packet[] {
  const out: Packet[] = [];
  // a TCP scan, 20 ports, each tried twice
  for (let i = 0; i < 40; i++) out.push({ src: SRC.scanner, dport: 1000 + (i % 20), time: start + i * 0.01 });
  // ports 1..8 over TCP and over UDP
  for (let i = 0; i < 8; i++) {
    out.push({ src: SRC.both, dport: 1 + i, time: start + 1 + i * 0.02 });
    out.push({ src: SRC.both, dport: 1 + i, proto: 'udp', time: start + 1 + i * 0.02 + 0.01 });
  }
  // an IPv6 scan
  for (let i = 0; i < 20; i++) out.push({ src: SRC.scanner6, dport: 2000 + i, time: start + 2 + i * 0.01, v6: true });
  // a whitelisted source scanning
  for (let i = 0; i < 30; i++) out.push({ src: SRC.whitelisted, dport: 3000 + i, time: start + 3 + i * 0.01 });
  // the client: 500 tries of tcp/443, 50 ms apart, interleaved with all of the above
  for (let i = 0; i < 500; i++) out.push({ src: SRC.client, dport: 443, time: start + 0.005 + i * 0.05 });
  // and of udp/443 (QUIC), 20 tries
  for (let i = 0; i < 20; i++) out.push({ src: SRC.client, dport: 443, proto: 'udp', time: start + 0.007 + i * 0.5 });
  return out.sort((a, b) => a.time - b.time);
}

/** Linux: the same scanner seen through an nftables log rule (NFLOG). */
function nflogTraffic(start: number): Packet[] {
  const out: Packet[] = [];
  for (let i = 0; i < 20; i++) out.push({ src: SRC.nflog, dport: 4000 + i, proto: i % 2 ? 'udp' : 'tcp', time: start + i * 0.01, nflog: true });
  return out;
}

/** Interface names and NFLOG prefixes that try to add a CSV field or a line (pflog's ifname holds 16 bytes). */
const HOSTILE_IFNAMES: Array<string | Buffer> = ['em0,6.6.6.6,x', 'em 0', 'em0\n1', 'e"m0', Buffer.from([0x65, 0xff, 0x2c, 0x0a, 0x31]), 'a,,,,,,,,,,,,,,,'];
const HOSTILE_PREFIXES = ['a,6.6.6.6,1,2,3', 'x\ny 198.51.100.9', '",,,"'];

function hostileTraffic(start: number): { pflog: Packet[]; nflog: Packet[] } {
  return {
    pflog: HOSTILE_IFNAMES.map((ifname, i) => ({ src: SRC.hostile, dport: 100 + i, time: start + i * 0.01, ifname })),
    nflog: HOSTILE_PREFIXES.map((prefix, i) => ({ src: SRC.hostile, dport: 200 + i, proto: 'udp' as const, time: start + 1 + i * 0.01, nflog: true, prefix })),
  };
}

function record(p: Packet): Buffer {
  const sec = Math.floor(p.time);
  const frac = Math.round((p.time - sec) * 1e6);
  const payload = p.proto === 'udp' ? udp(40000, p.dport) : tcp({ sport: 40000, dport: p.dport, flags: TCP.SYN });
  const packet = () => ipv4({ src: p.src, dst: SERVER, proto: p.proto === 'udp' ? 17 : 6, payload });
  let frame: Buffer;
  if (p.nflog) frame = nflogFrame(packet(), { prefix: p.prefix ?? 'pf-block', indev: 2 });
  else if (p.ifname !== undefined) frame = Buffer.concat([pflogHeader({ action: PF.DROP, dir: DIR.IN, ifname: p.ifname, rulenr: 3 }), packet()]);
  else frame = p.v6 ? ipv6Frame(p.src, p.dport) : probeFrame(p);
  return pcapRecord(frame, { sec, frac });
}

/** `pfasciilogd read --format filterlog` over a capture of the packets: one line per packet, in order. */
function filterlogLines(dir: string, name: string, packets: Packet[], linktype?: number): string[] {
  const cap = join(dir, `${name}.pcap`);
  writeFileSync(cap, Buffer.concat([pcapFileHeader(linktype === undefined ? {} : { linktype }), ...packets.map(record)]));
  const r = run([process.execPath, MAIN_JS, 'read', '--format', 'filterlog', cap]);
  must(r, 'pfasciilogd read --format filterlog');
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, packets.length, 'one filterlog line per packet');
  for (const l of lines) assert.match(l, / filterlog\[\d+\]: /);
  return lines;
}

// ---------------------------------------------------------------------------

test('etc/crowdsec: crowdsec -t loads the acquisition, scenario and whitelist; the bouncer loads both examples; nft -c accepts the sets', async (t) => {
  const missing = crowdsecMissing();
  if (missing) return unavailable(t, missing);
  removeStale();
  const lab = new Lab();
  try {
    const tree = new CrowdsecTree(join(lab.dir, 'check'), {
      lapi: LAPI,
      acquisition: readFileSync(OURS.acquisition, 'utf8'),
      scenarios: [OURS.scenario],
      enrich: [OURS.whitelist],
    });
    // crowdsec -t reads the agent's credentials (nothing connects)
    writeFileSync(tree.credentials, `url: ${tree.url}\nlogin: check\npassword: check\n`);
    const r = run(tree.crowdsec('-t'));
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out.slice(-3000));
    assert.match(out, /test done/);
    assert.match(out, new RegExp(`Adding leaky bucket".*name=${OUR_SCENARIO}`), 'our scenario loaded');
    assert.match(out, /Loaded 1 parser nodes" file=\S+pfasciilogd-whitelist\.yaml/, 'the whitelist loaded');
    assert.doesNotMatch(out, /Ignoring file/);
    assert.match(out, /\/var\/log\/filter\.log/, 'the acquisition read (its file does not exist here)');
    // crowdsec -t fails on a scenario whose filter does not compile: the check above can fail.
    // (It does not compile "distinct": the replay below proves that expression.)
    const broken = join(lab.dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(OURS.scenario, 'utf8').replace(/^filter: .*$/m, 'filter: "evt.Meta.log_type =="'));
    const bad = new CrowdsecTree(join(lab.dir, 'broken'), { lapi: LAPI, scenarios: [broken] });
    writeFileSync(bad.credentials, `url: ${bad.url}\nlogin: check\npassword: check\n`);
    assert.notEqual(run(bad.crowdsec('-t')).status, 0, 'crowdsec -t rejects a broken filter');

    for (const [file, mode] of [
      [OURS.bouncerNftables, 'nftables'],
      [OURS.bouncerPf, 'pf'],
    ] as const) {
      const text = readFileSync(file, 'utf8');
      assert.match(text, new RegExp(`^mode: ${mode}$`, 'm'), file);
      const b = run(['crowdsec-firewall-bouncer', '-c', file, '-t']);
      const said = b.stdout + b.stderr;
      assert.equal(b.status, 0, said);
      assert.match(said, /config is valid/, file);
      assert.doesNotMatch(said, /unexpected|level=(warning|error|fatal)/, file);
    }

    // pf: no pfctl on Linux, but the anchor's ruleset must name the bouncer's tables and anchor
    const pfYaml = readFileSync(OURS.bouncerPf, 'utf8');
    const pfConf = readFileSync(OURS.pfAnchor, 'utf8');
    const anchor = /^ {2}anchor_name: (\S+)$/m.exec(pfYaml)?.[1];
    assert.ok(anchor, 'pf example sets anchor_name');
    assert.match(pfConf, new RegExp(`^#\\s+anchor "${anchor}"$`, 'm'));
    assert.match(pfConf, new RegExp(`^#\\s+load anchor "${anchor}" from `, 'm'));
    for (const k of ['blacklists_ipv4', 'blacklists_ipv6']) {
      const table = new RegExp(`^${k}: (\\S+)$`, 'm').exec(pfYaml)?.[1];
      assert.ok(table, `${k} in the pf example`);
      assert.match(pfConf, new RegExp(`^table <${table}> persist$`, 'm'));
      assert.match(pfConf, new RegExp(`^block drop in quick from <${table}> to any$`, 'm'));
    }

    // the nft file: the kernel's own check, in a namespace, nothing applied
    lab.addNamespace('host');
    must(inNs(lab, ['nft', '-c', '-f', OURS.nft]), 'nft -c -f crowdsec-bouncer.nft');
    must(inNs(lab, ['nft', '-f', OURS.nft]), 'nft -f crowdsec-bouncer.nft');
    must(inNs(lab, ['nft', '-f', OURS.nft]), 'nft -f crowdsec-bouncer.nft, again (reload)');
  } finally {
    await lab.destroy();
  }
});

test('one host: filterlog lines parse with the stock hub parsers, the scanners are banned by both scenarios, the one-port client by neither', async (t) => {
  const missing = crowdsecMissing();
  if (missing) return unavailable(t, missing);
  removeStale();
  const lab = new Lab();
  let lapi: Proc | undefined;
  let bouncer: Proc | undefined;
  try {
    // stamped a minute ago, so that the 4 h decisions are still in force when the bouncer asks
    const start = Math.floor(Date.now() / 1000) - 60;
    const packets = traffic(start);
    const lines = filterlogLines(lab.dir, 'pflog', packets);
    const nflogPackets = nflogTraffic(start + 30);
    const nflogLines = filterlogLines(lab.dir, 'nflog', nflogPackets, LINKTYPE_NFLOG);
    const hostile = hostileTraffic(start + 40);
    const hostileLines = [...filterlogLines(lab.dir, 'hostile-pflog', hostile.pflog), ...filterlogLines(lab.dir, 'hostile-nflog', hostile.nflog, LINKTYPE_NFLOG)];
    const hostilePackets = [...hostile.pflog, ...hostile.nflog];
    const log = join(lab.dir, 'filter.log');
    writeFileSync(log, [...lines, ...nflogLines, ...hostileLines].join('\n') + '\n');

    lab.addNamespace('host');
    const tree = new CrowdsecTree(join(lab.dir, 'crowdsec'), { lapi: LAPI, scenarios: [OURS.scenario], enrich: [OURS.whitelist] });
    must(run(tree.cscli('machines', 'add', 'fw-test', '--auto', '-f', tree.credentials, '--url', tree.url)), 'cscli machines add');
    lapi = lab.spawn('host', 'crowdsec LAPI', tree.crowdsec('-no-cs'));
    const l = lapi;
    await waitFor('the Local API to listen', () => {
      if (l.exit) throw new Error(`LAPI exited ${JSON.stringify(l.exit)}: ${l.stdout}${l.stderr}`);
      return /Local API listening/.test(l.stdout + l.stderr);
    }, 30_000);

    // 1. every line through the stock parsers (cscli explain replays the file, no alert is sent)
    const explained = parseExplain(must(inNs(lab, tree.cscli('explain', '-f', log, '-t', 'syslog', '-v')), 'cscli explain'));
    const byLine = new Map(explained.map((e) => [e.line, e]));
    const all: Array<[string, Packet]> = [
      ...lines.map((l, i) => [l, packets[i]!] as [string, Packet]),
      ...nflogLines.map((l, i) => [l, nflogPackets[i]!] as [string, Packet]),
      ...hostileLines.map((l, i) => [l, hostilePackets[i]!] as [string, Packet]),
    ];
    // one event per line: no hostile byte made a line of its own
    assert.equal(explained.length, all.length, 'cscli explain saw every line, and no more');
    let parsed = 0;
    for (const [line, p] of all) {
      const e = byLine.get(line);
      assert.ok(e, `explain has no entry for ${line}`);
      assert.equal(e.sourceIp, p.src, `source_ip of ${line}`);
      assert.equal(e.dstPort, String(p.dport), `dst_port of ${line}`);
      if (p.src === SRC.whitelisted) {
        assert.ok(e.whitelisted, `whitelisted: ${line}`);
        continue;
      }
      assert.ok(e.success, `parser failure: ${line}`);
      parsed++;
    }
    const whitelisted = packets.filter((p) => p.src === SRC.whitelisted).length;
    t.diagnostic(`filterlog lines parsed by the stock parser: ${parsed + whitelisted} of ${all.length} (${whitelisted} of them then whitelisted; ${hostileLines.length} with hostile interface names or NFLOG prefixes)`);

    // 2. the scenarios, replaying the file in time-machine mode: buckets run on the lines' own stamps
    must(inNs(lab, tree.crowdsec('-dsn', `file://${log}`, '-type', 'syslog', '-no-api')), 'crowdsec replay');
    const alerts = parseAlerts(must(inNs(lab, tree.cscli('alerts', 'list', '-o', 'json')), 'cscli alerts list'));
    const fired = (src: string) => alerts.filter((a) => a.value === src).map((a) => a.scenario).sort();
    assert.deepEqual(fired(SRC.scanner), [STOCK_SCENARIO, OUR_SCENARIO].sort(), 'the TCP scanner: both scenarios');
    assert.deepEqual(fired(SRC.scanner6), [STOCK_SCENARIO, OUR_SCENARIO].sort(), 'the IPv6 scanner: both scenarios');
    assert.deepEqual(fired(SRC.nflog), [STOCK_SCENARIO, OUR_SCENARIO].sort(), 'the scanner logged through NFLOG: both scenarios');
    assert.deepEqual(fired(SRC.both), [OUR_SCENARIO], '8 ports over TCP and UDP: ours (16 pairs), not the stock one (8 ports)');
    assert.deepEqual(fired(SRC.client), [], 'the client retrying one port 500 times: banned by neither');
    assert.deepEqual(fired(SRC.whitelisted), [], 'the whitelisted scanner: banned by neither');
    assert.deepEqual(fired(SRC.hostile), [], 'behind the hostile names: 9 ports, banned by neither');
    for (const a of alerts) assert.equal(a.decisions, 1, `one decision for ${a.value} (${a.scenario})`);

    // 3. the bouncer with our nftables example and sets
    must(inNs(lab, ['nft', '-f', OURS.nft]), 'nft -f crowdsec-bouncer.nft');
    must(run(tree.cscli('bouncers', 'add', 'fw-test-bouncer', '-k', BOUNCER_KEY)), 'cscli bouncers add');
    const cfg = bouncerConfig(OURS.bouncerNftables, join(lab.dir, 'bouncer'), tree.url, BOUNCER_KEY);
    bouncer = lab.spawn('host', 'crowdsec-firewall-bouncer', ['crowdsec-firewall-bouncer', '-c', cfg]);
    const set4 = () => nftSetElements(must(inNs(lab, ['nft', '-j', 'list', 'set', 'ip', 'crowdsec', 'crowdsec-blacklists']), 'nft list set'));
    const set6 = () => nftSetElements(must(inNs(lab, ['nft', '-j', 'list', 'set', 'ip6', 'crowdsec6', 'crowdsec6-blacklists']), 'nft list set'));
    const b = bouncer;
    await waitFor('the bouncer to fill the nftables sets', () => {
      if (b.exit) throw new Error(`bouncer exited ${JSON.stringify(b.exit)}: ${b.stdout}${b.stderr}`);
      return set4().length === 3 && set6().length === 1;
    }, 30_000, 200);
    assert.deepEqual(set4(), [SRC.scanner, SRC.both, SRC.nflog].sort());
    assert.deepEqual(set6(), [SRC.scanner6]);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${msg}\n${lab.report()}`);
  } finally {
    await lab.destroy();
  }
  assert.ok(lapi?.exit && bouncer?.exit, 'every process stopped');
});
