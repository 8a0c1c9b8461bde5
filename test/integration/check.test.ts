// `pfasciilogd check` on this machine: the built CLI with the real tcpdump,
// id, fail2ban-regex and nft. An all-good setup in a temporary directory exits
// 0 with only ok and skip lines; each broken piece gives a problem line with
// its fix and exit status 1.
//
// nft is the real one, run with the CLI inside a network namespace private to
// the test (pfal-check-<pid>): the rulesets the cases load there are the only
// ones nft lists, and the host's firewall is neither read nor changed. Those
// cases need root, ip and nft (skipped without, failed under CI).
//
// pfctl alone is a stand-in on PATH (a shell script that prints a `pfctl -sr`
// listing): pf is the BSDs' packet filter, Linux has no pf and no pfctl to
// run, so its output is all this host can give the check.
//
//   npm run build && node --test dist/test/integration/check.test.js

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, unavailable } from '../support/unavailable.js';
import { isAlive } from '../../src/daemon/pidfile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'dist/bin/pfasciilogd.js');
const FILTER = path.join(ROOT, 'etc/fail2ban/filter.d/pfasciilogd.conf');
const DEMO = path.join(ROOT, 'demo/pflog.pcap');
/** The network namespace of the nft cases; a leftover of a killed run is known by its pid. */
const NS_PREFIX = 'pfal-check-';
const NS = `${NS_PREFIX}${process.pid}`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** The built CLI with `args`; inside network namespace `ns` (through `ip netns exec`) when given. */
function cli(args: string[], env: NodeJS.ProcessEnv = process.env, ns?: string): Run {
  const argv = [process.execPath, MAIN, ...args];
  const [command, ...rest] = ns === undefined ? argv : [findTool('ip') ?? 'ip', 'netns', 'exec', ns, ...argv];
  const r = spawnSync(command!, rest, { env: { ...env, TZ: 'UTC' }, encoding: 'latin1', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

function line(r: Run, pattern: RegExp): string {
  const found = r.lines.find((l) => pattern.test(l));
  assert.ok(found, `no line matches ${pattern}:\n${r.stdout}${r.stderr}`);
  return found;
}

function executable(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o755 });
}

/** A system command (no shell), bounded in time. */
function sh(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/**
 * Creates NS, a network namespace of this test's own: its nftables ruleset
 * starts empty, and what the real nft loads and lists there is not the host's.
 * Removes first what a killed earlier run left (a pfal-check-<pid> whose pid
 * is gone, or one with this pid); deletes NS when subtest `st` ends. Returns
 * false (after `unavailable`) when there is no root, ip or nft.
 */
function privateNamespace(st: TestContext): boolean {
  if (process.getuid?.() !== 0) {
    unavailable(st, 'needs root (ip netns, nft)');
    return false;
  }
  const ip = findTool('ip');
  const nft = findTool('nft');
  if (!ip || !nft) {
    unavailable(st, `${ip ? 'nft' : 'ip'} not found`);
    return false;
  }
  for (const l of sh([ip, 'netns', 'list']).stdout.split('\n')) {
    const name = l.split(' ')[0]!; // "name" or "name (id: 3)"
    const m = new RegExp(`^${NS_PREFIX}(\\d+)$`).exec(name);
    if (m && (name === NS || !isAlive(Number(m[1])))) sh([ip, 'netns', 'del', name]);
  }
  const add = sh([ip, 'netns', 'add', NS]);
  if (add.status !== 0) {
    unavailable(st, `ip netns add ${NS} failed: ${add.stderr.trim()}`);
    return false;
  }
  st.after(() => {
    const del = sh([ip, 'netns', 'del', NS]);
    assert.equal(del.status, 0, `ip netns del ${NS}: ${del.stderr}`);
  });
  const listed = sh([ip, 'netns', 'exec', NS, nft, 'list', 'ruleset']);
  assert.equal(listed.status, 0, `nft list ruleset in ${NS}: ${listed.stderr}`);
  assert.equal(listed.stdout, '', `a new namespace has an empty ruleset`);
  return true;
}

/** Loads an nftables ruleset file into NS with the real nft; returns what `nft list ruleset` lists there then. */
function loadRuleset(file: string, text: string): string {
  fs.writeFileSync(file, text);
  const ip = findTool('ip')!;
  const nft = findTool('nft')!;
  const load = sh([ip, 'netns', 'exec', NS, nft, '-f', file]);
  assert.equal(load.status, 0, `nft -f ${file} in ${NS}: ${load.stderr}`);
  const listed = sh([ip, 'netns', 'exec', NS, nft, 'list', 'ruleset']);
  assert.equal(listed.status, 0, listed.stderr);
  return listed.stdout;
}

test('pfasciilogd check with the real tools', async (t) => {
  if (process.platform !== 'linux') {
    unavailable(t, 'these cases are written for Linux (lo, /sys/class/net)');
    return;
  }
  for (const tool of ['tcpdump', 'fail2ban-regex', 'id']) {
    if (!findTool(tool)) {
      unavailable(t, `${tool} not found`);
      return;
    }
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-check-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // a log as the daemon writes it: the demo capture's lines
  const log = path.join(tmp, 'pf.log');
  const rd = cli(['read', DEMO]);
  assert.equal(rd.status, 0, rd.stderr);
  const inbound = rd.lines.filter((l) => / block in on /.test(l)).length;
  assert.ok(inbound > 5 && inbound < rd.lines.length, 'the demo has inbound blocks and other lines');
  fs.writeFileSync(log, rd.stdout);
  const pid = path.join(tmp, 'pfasciilogd.pid');
  const me = os.userInfo().username;
  // the daemon's flags for this setup; the tools are found on PATH
  const good = ['check', '-i', 'lo', '-f', log, '-p', pid, '-u', me, '--filter', FILTER];
  // PATH as it is, without the pfctl stand-in: the pf check is a skip here
  const plainEnv = { ...process.env };

  await t.test('all good: every line ok or skip, exit 0', () => {
    const r = cli(good, plainEnv);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stderr, '');
    for (const l of r.lines) assert.match(l, /^(ok {7}|skip {5})\S/, l);
    assert.match(line(r, /^ok {7}tcpdump: /), /^ok {7}tcpdump: \/\S+tcpdump, tcpdump version \d+\.\d+\S* \(libpcap \d/);
    line(r, new RegExp(`^ok {7}user ${me}: exists \\(uid \\d+\\)`));
    line(r, /^ok {7}interface lo: exists \(\/sys\/class\/net\/lo\)$/);
    line(r, /^ok {7}log file .*pf\.log: regular file, \d+ bytes, writable$/);
    line(r, /^ok {7}pidfile .*pfasciilogd\.pid: does not exist yet/);
    line(r, /^ok {7}fail2ban filter .*pfasciilogd\.conf: present$/);
    line(r, new RegExp(`^ok {7}fail2ban-regex: ${inbound} of ${inbound} inbound block lines in the last ${rd.lines.length} lines of .*pf\\.log match the filter$`));
    if (!findTool('pfctl')) line(r, /^skip {5}pf ruleset: pfctl not found/);
    line(r, /^skip {5}nftables: lo is not an NFLOG group/);
    for (const l of r.lines) assert.match(l, /^[\x20-\x7e]+$/);
  });

  await t.test('--lines: only the last lines are tried', () => {
    const r = cli([...good, '--lines', '3'], plainEnv);
    assert.equal(r.status, 0, r.stdout);
    line(r, /^ok {7}fail2ban-regex: \d of \d inbound block lines in the last 3 lines of /);
  });

  /** A run with one thing broken: exit 1 and a problem line matching `pattern`. */
  function broken(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = plainEnv, ns?: string): string {
    const r = cli(args, env, ns);
    assert.equal(r.status, 1, `exit status 1 expected:\n${r.stdout}${r.stderr}`);
    const l = line(r, pattern);
    assert.match(l, /^problem  /);
    assert.match(l, /; \S/, 'a problem line says the fix after the finding');
    return l;
  }

  const set = (flag: string, value: string) => {
    const a = [...good];
    a[a.indexOf(flag) + 1] = value;
    return a;
  };

  await t.test('an interface that does not exist', () => {
    const l = broken(set('-i', 'pfa-nosuch0'), /^problem  interface pfa-nosuch0: not found \(this host has .*lo/);
    assert.match(l, /pass -i with one of them, or -i nflog:N/);
    const pflog = broken(set('-i', 'pflog0'), /^problem  interface pflog0: /);
    assert.match(pflog, /Linux does not have; pass -i nflog:N/);
  });

  await t.test('a log directory that does not exist; one that is a file (root can write anywhere else)', () => {
    const missing = path.join(tmp, 'no-such-dir', 'pf.log');
    const l = broken(set('-f', missing), /^problem  log file .*no-such-dir\/pf\.log: directory .*no-such-dir does not exist/);
    assert.match(l, /create it \(mkdir -p .*no-such-dir\), or pass -f/);
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, '');
    broken(set('-f', path.join(file, 'pf.log')), /^problem  log file .*a-file\/pf\.log: .*a-file is a file, not a directory; pass -f/);
    broken(set('-p', path.join(file, 'p.pid')), /^problem  pidfile .*a-file\/p\.pid: .*a-file is a file, not a directory; pass -p/);
  });

  await t.test('a symbolic link at the log path', () => {
    const link = path.join(tmp, 'link.log');
    fs.symlinkSync(log, link);
    const l = broken(set('-f', link), /^problem  log file .*link\.log: a symbolic link to .*pf\.log, which the daemon refuses to write through/);
    assert.match(l, /rm .*link\.log/);
  });

  await t.test('a hard link at the log path; a log or pidfile directory others can write without the sticky bit', () => {
    const hard = path.join(tmp, 'hard.log');
    fs.linkSync(log, hard);
    try {
      broken(set('-f', hard), /^problem  log file .*hard\.log: has 2 links \(a hard link to another file\), which the daemon refuses to write through; rm .*hard\.log/);
    } finally {
      fs.rmSync(hard);
    }
    const open = path.join(tmp, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const because = 'is writable by others without the sticky bit: they can replace the file or put a link in its place; chmod go-w';
    broken(set('-f', path.join(open, 'pf.log')), new RegExp(`^problem  log file .*open/pf\\.log: directory .*open \\(mode 0777\\) ${because} `));
    broken(set('-p', path.join(open, 'p.pid')), new RegExp(`^problem  pidfile .*open/p\\.pid: directory .*open \\(mode 0777\\) ${because} `));
  });

  await t.test('a filter that does not match the log', () => {
    const other = path.join(tmp, 'other.conf');
    fs.writeFileSync(other, '[Definition]\nfailregex = ^ rule \\S+ block out on \\S+: <ADDR>\n');
    const l = broken(set('--filter', other), new RegExp(`^problem  fail2ban-regex: none of the ${inbound} inbound block lines in the last \\d+ lines of .*pf\\.log match the filter: the filter and the log disagree`));
    assert.match(l, /install the filter shipped with this pfasciilogd \(cp .*etc\/fail2ban\/filter\.d\/pfasciilogd\.conf /);
    // a path fail2ban-regex would take for a regex: copied, and still the real verdict
    const spaced = path.join(tmp, 'with space');
    fs.mkdirSync(spaced);
    fs.copyFileSync(other, path.join(spaced, 'pfasciilogd.conf'));
    broken(set('--filter', path.join(spaced, 'pfasciilogd.conf')), /^problem  fail2ban-regex: none of the /);
    fs.copyFileSync(FILTER, path.join(spaced, 'pfasciilogd.conf'));
    const r = cli(set('--filter', path.join(spaced, 'pfasciilogd.conf')), plainEnv);
    assert.equal(r.status, 0, r.stdout);
  });

  await t.test('no filter; a log in JSON; an empty log', () => {
    broken(set('--filter', path.join(tmp, 'absent.conf')), /^problem  fail2ban filter .*absent\.conf: no such file; pass --filter/);
    const json = path.join(tmp, 'json.log');
    const rj = cli(['read', '--format', 'json', DEMO]);
    fs.writeFileSync(json, rj.stdout);
    broken(set('-f', json), /^problem  fail2ban-regex: the last \d+ lines of .*json\.log are JSON objects \(--format json\).*; run the daemon without --format json/);
    const empty = path.join(tmp, 'empty.log');
    fs.writeFileSync(empty, '');
    const r = cli(set('-f', empty), plainEnv);
    assert.equal(r.status, 0, r.stdout);
    line(r, /^skip {5}fail2ban-regex: the last 0 lines of .*empty\.log hold no packet lines/);
  });

  await t.test('a tcpdump without --immediate-mode (older than 4.6)', () => {
    const old = path.join(tmp, 'tcpdump-4.5');
    executable(old, '#!/bin/sh\n[ "$1" = "--version" ] || exit 2\necho "tcpdump version 4.5.1" >&2\necho "libpcap version 1.5.3" >&2\n');
    const l = broken(['check', '--tcpdump', old, ...good.slice(1)], /^problem  tcpdump: .*tcpdump-4\.5, tcpdump version 4\.5\.1 \(libpcap 1\.5\.3\), has no --immediate-mode: /);
    assert.match(l, /; install tcpdump 4\.6 or later /);
  });

  await t.test('tcpdump and user missing', () => {
    broken(['check', '--tcpdump', path.join(tmp, 'no-tcpdump'), ...good.slice(1)], /^problem  tcpdump: .*no-tcpdump is not an executable file; /);
    broken(set('-u', 'pfa-no-such-user'), /^problem  user pfa-no-such-user: no such user .*; create it, or pass -u/);
  });

  await t.test('pf host (pfctl stand-in): anchor before, after, pfctl failing', () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    const rules = path.join(tmp, 'rules');
    executable(path.join(bin, 'pfctl'), `#!/bin/sh\n[ "$1" = "-sr" ] || exit 2\nif [ -s '${rules}.err' ]; then cat '${rules}.err' >&2; exit 1; fi\necho 'No ALTQ support in kernel' >&2\ncat '${rules}'\n`);
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    fs.writeFileSync(rules, 'anchor "f2b/*" all\nblock drop log all\npass out all flags S/SA keep state\n');
    const r = cli(good, env);
    assert.equal(r.status, 0, r.stdout);
    line(r, /^ok {7}pf ruleset: anchor "f2b\/\*" comes before the first block log rule \(block drop log all\)$/);
    fs.writeFileSync(rules, 'block drop in log (all, to pflog0) on ! lo0 all\nanchor "f2b/*" all\npass out all flags S/SA keep state\n');
    const after = broken(good, /^problem  pf ruleset: anchor "f2b\/\*" comes after the first block log rule \(block drop in log \(all, to pflog0\) on ! lo0 all\)/, env);
    assert.match(after, /; move anchor "f2b\/\*" before your block log rules .*see etc\/pf\.conf\.example$/);
    fs.writeFileSync(`${rules}.err`, 'pfctl: /dev/pf: Permission denied\n');
    broken(good, /^problem  pf ruleset: pfctl -sr failed: pfctl: \/dev\/pf: Permission denied; run the check as root/, env);
  });

  /** The problem line of a run in NS with -i nflog:`group`, the nftables check being the only one broken. */
  function nftProblem(group: number, pattern: RegExp): string {
    const r = cli(set('-i', `nflog:${group}`), plainEnv, NS);
    assert.equal(r.status, 1, `exit status 1 expected:\n${r.stdout}${r.stderr}`);
    const l = line(r, pattern);
    assert.deepEqual(r.lines.filter((x) => !/^(ok {7}|skip {5})\S/.test(x)), [l], 'the nftables check is the only problem');
    line(r, new RegExp(`^ok {7}interface nflog:${group}: NFLOG group ${group}`));
    return l;
  }

  await t.test('NFLOG group (real nft in a namespace): an empty ruleset logs to no group', (st) => {
    if (!privateNamespace(st)) return;
    const l = nftProblem(7, /^problem  nftables: no rule logs to an NFLOG group; /);
    assert.match(l, /; end your input chain with log group 7 prefix "pf-block" queue-threshold 1 drop \(see etc\/nftables\/pfasciilogd\.nft\); rules loaded with iptables-legacy are not listed by nft: check those with iptables-legacy -S$/);
  });

  await t.test('NFLOG group (real nft in a namespace): logged to, or not', (st) => {
    if (!privateNamespace(st)) return;
    // the input chain ends as in etc/nftables/pfasciilogd.nft, with group 7
    const listed = loadRuleset(
      path.join(tmp, 'pfal-check.nft'),
      `table inet pfal_check {
    chain input {
        type filter hook input priority filter; policy drop;
        iif lo accept
        tcp dport 22 accept
        log group 7 prefix "pf-block" queue-threshold 1 drop
    }
}
`,
    );
    // what the check reads: nft's own listing of the rule, not the file's text
    assert.match(listed, /^\s*log prefix "pf-block" group 7 queue-threshold 1 drop$/m, listed);
    const r = cli(set('-i', 'nflog:7'), plainEnv, NS);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    line(r, /^ok {7}interface nflog:7: NFLOG group 7/);
    line(r, /^ok {7}nftables: a rule logs to NFLOG group 7$/);
    const l = nftProblem(8, /^problem  nftables: no rule logs to NFLOG group 8; the ruleset logs to group 7; pass -i nflog:7/);
    assert.match(l, /; pass -i nflog:7, or log to group 8 \(log group 8 prefix "pf-block" queue-threshold 1 drop\)$/);
  });

  await t.test('NFLOG group (real nft in a namespace): a rule that batches (no queue-threshold 1)', (st) => {
    if (!privateNamespace(st)) return;
    // the statement the example shipped before: no threshold, so the kernel batches
    const listed = loadRuleset(
      path.join(tmp, 'pfal-batch.nft'),
      `table inet pfal_batch {
    chain input {
        type filter hook input priority filter; policy drop;
        iif lo accept
        log group 7 prefix "pf-block" drop
    }
}
`,
    );
    assert.match(listed, /^\s*log prefix "pf-block" group 7 drop$/m, listed);
    const l = nftProblem(7, /^problem  nftables: a rule logs to NFLOG group 7 with no queue-threshold \(the kernel then holds up to 100 packets, or 1 s\): an isolated blocked packet reaches the log up to a second late; /);
    assert.match(l, /; add queue-threshold 1 to the log statement .*; with iptables, --nflog-threshold 1$/);
    // a threshold above 1 batches too; queue-threshold 1 is fine (the case above)
    loadRuleset(path.join(tmp, 'pfal-batch5.nft'), `delete table inet pfal_batch\ntable inet pfal_batch {\n    chain input {\n        type filter hook input priority filter; policy drop;\n        log group 7 prefix "pf-block" queue-threshold 5 drop\n    }\n}\n`);
    nftProblem(7, /^problem  nftables: a rule logs to NFLOG group 7 with queue-threshold 5 /);
  });

  await t.test('bad flags: one line on stderr, exit 64, nothing checked', () => {
    for (const args of [['check', '--bogus'], ['check', '--lines', 'x'], ['check', '-i', 'nflog:1', '--', 'tcp'], ['check', 'tcp']]) {
      const r = cli(args);
      assert.equal(r.status, 64, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^pfasciilogd: check: .*\n$/);
    }
    const h = cli(['check', '-h']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /^usage: pfasciilogd check /);
  });
});
