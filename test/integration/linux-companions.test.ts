// Checks the files that ship for Linux: the systemd unit, the logrotate entry,
// and the nftables and iptables example rulesets. Each is checked for what it
// must say, and then by the tool that reads it, where that tool is installed:
// systemd-analyze, logrotate (with the real daemon behind it), nft, and
// iptables-restore. Every command runs from an argv array, never through a
// shell string.
//
// A missing tool skips its test with the reason, except when CI is set, where
// it fails: .ci/run installs them (Debian: systemd, logrotate, nftables,
// iptables). nft and iptables-restore ask the kernel, which needs root; they
// are skipped when not root, and fail in CI.

import { HEAP_FLAGS } from '../../src/daemon/heap.js';
import { after, test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, TEXT_RELAY, readText, parseLog, events } from '../support/daemon-harness.js';
import { unavailable } from '../support/unavailable.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const UNIT = join(ROOT, 'etc/systemd/pfasciilogd.service');
const LOGROTATE = join(ROOT, 'etc/logrotate.d/pfasciilogd');
const NFT = join(ROOT, 'etc/nftables/pfasciilogd.nft');
const IPTABLES = join(ROOT, 'etc/iptables/pfasciilogd.rules');

const PROGRAM = '/usr/local/bin/pfasciilogd';
const PIDFILE = '/run/pfasciilogd.pid';
const LOGFILE = '/var/log/pf.log';
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function run(cmd: string, args: string[], opts: { input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: 60_000 });
}

function isMissing(r: SpawnSyncReturns<string>): boolean {
  return (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}


/** Runs a tool, or skips the test when it is not installed (fails instead in CI). */
function tool(t: TestContext, cmd: string, args: string[], pkg: string, opts: { input?: string } = {}): SpawnSyncReturns<string> | null {
  const r = run(cmd, args, opts);
  if (isMissing(r)) {
    unavailable(t, `${cmd} is not installed (Debian package ${pkg})`);
    return null;
  }
  assert.equal(r.error, undefined, `${cmd} could not run: ${String(r.error)}`);
  return r;
}

/** Skips the test (fails it in CI) unless root: nft and iptables-restore ask the kernel. */
function needRoot(t: TestContext, what: string): boolean {
  if (IS_ROOT) return true;
  unavailable(t, `${what} needs root (CAP_NET_ADMIN)`);
  return false;
}

const tempDirs: string[] = [];
function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pfasciilogd-${name}-`));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Lines without comments (everything from '#') and without blank lines. */
function codeLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
}

// -- systemd unit -----------------------------------------------------------------

/** [Section] -> key -> every value it is given, in order (enough of systemd.syntax(7) for this file). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    assert.ok(!line.endsWith('\\'), `no continuation lines expected: ${line}`);
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv && current, `not a key=value line inside a section: ${line}`);
    const values = current.get(kv[1]!) ?? [];
    values.push(kv[2]!);
    current.set(kv[1]!, values);
  }
  return sections;
}

const unit = parseUnit(read(UNIT));

function value(section: string, key: string): string | undefined {
  const values = unit.get(section)?.get(key);
  return values === undefined ? undefined : values[values.length - 1];
}

function words(section: string, key: string): string[] {
  return (unit.get(section)?.get(key) ?? []).flatMap((v) => v.split(/\s+/).filter(Boolean));
}

/** The default Environment= assignments, "NAME=value" with an optional pair of quotes around it all. */
function defaultEnvironment(): Map<string, string> {
  const env = new Map<string, string>();
  for (const v of unit.get('Service')?.get('Environment') ?? []) {
    const m = /^"([A-Za-z_][A-Za-z0-9_]*)=([^"]*)"$/.exec(v) ?? /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(v);
    assert.ok(m, `Environment=${v}: one assignment per line, as NAME=value or "NAME=value with spaces"`);
    env.set(m[1]!, m[2]!);
  }
  return env;
}

/** ExecStart= as argv, "$VAR" words expanded from the default Environment= (split at whitespace, as systemd does). */
function execStartArgv(): string[] {
  const start = unit.get('Service')?.get('ExecStart') ?? [];
  assert.equal(start.length, 1, 'exactly one ExecStart=');
  const env = defaultEnvironment();
  return start[0]!.split(/\s+/).flatMap((w) => {
    const v = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (!v) {
      assert.ok(!w.includes('$') && !/["']/.test(w), `ExecStart word ${w} is literal`);
      return [w];
    }
    assert.ok(env.has(v[1]!), `ExecStart uses $${v[1]}, which Environment= gives a default`);
    return env.get(v[1]!)!.split(/\s+/).filter(Boolean);
  });
}

/** The value that follows `flag` in argv. */
function flagValue(argv: string[], flag: string): string | undefined {
  const i = argv.lastIndexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

test('systemd unit: ordering, start command, reload, pidfile, install', () => {
  assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
  const afterUnits = words('Unit', 'After');
  assert.ok(afterUnits.includes('nftables.service'), `After= ${afterUnits.join(' ')}`);
  assert.ok(afterUnits.includes('network.target'));
  assert.ok(words('Unit', 'Before').includes('fail2ban.service'), 'starts before fail2ban, which reads its log');
  assert.equal(value('Unit', 'Documentation'), 'man:pfasciilogd(8)');

  assert.equal(value('Service', 'Type'), 'simple', 'the daemon stays in the foreground');
  assert.equal(value('Service', 'EnvironmentFile'), '-/etc/default/pfasciilogd', 'optional flags file');
  const argv = execStartArgv();
  assert.deepEqual(argv.slice(0, 3 + HEAP_FLAGS.length), ['/usr/bin/env', 'node', ...HEAP_FLAGS, PROGRAM]);
  assert.equal(flagValue(argv, '-i'), 'nflog:1', `captures NFLOG group 1: ${argv.join(' ')}`);
  assert.equal(flagValue(argv, '-f'), LOGFILE);
  assert.equal(flagValue(argv, '-p'), PIDFILE);
  assert.equal(value('Service', 'PIDFile'), PIDFILE, 'PIDFile= is the -p the daemon writes');
  assert.equal(value('Service', 'ExecReload'), '/bin/kill -HUP $MAINPID', 'reload = SIGHUP = reopen the log');
  assert.equal(value('Service', 'Restart'), 'on-failure');
  assert.deepEqual(words('Install', 'WantedBy'), ['multi-user.target']);
});

test('systemd unit: hardening', () => {
  const expected: Record<string, string> = {
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    ProtectKernelTunables: 'yes',
    ProtectKernelModules: 'yes',
    ProtectControlGroups: 'yes',
    RestrictNamespaces: 'yes',
    LockPersonality: 'yes',
    SystemCallArchitectures: 'native',
    UMask: '0027',
  };
  for (const [key, want] of Object.entries(expected)) assert.equal(value('Service', key), want, `${key}=${want}`);

  // Exactly the capabilities the daemon and tcpdump were shown to need (the
  // unit's comments say why each one): nothing that overrides file permissions.
  assert.deepEqual(new Set(words('Service', 'CapabilityBoundingSet')), new Set(['CAP_NET_ADMIN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL']));
  assert.equal(value('Service', 'AmbientCapabilities'), '', 'runs as root: no ambient capabilities');
  assert.equal(value('Service', 'User'), undefined, 'runs as root, so that it can reopen the log');

  const families = words('Service', 'RestrictAddressFamilies');
  assert.ok(families.length > 0 && !families.some((f) => f.startsWith('~')), 'an allow list of address families');
  for (const f of ['AF_NETLINK', 'AF_UNIX']) assert.ok(families.includes(f), `${f} allowed (NFLOG; pipes to tcpdump)`);

  // The daemon writes its log and pidfile, and nothing else.
  const writable = words('Service', 'ReadWritePaths');
  const argv = execStartArgv();
  for (const file of [flagValue(argv, '-f')!, flagValue(argv, '-p')!]) {
    assert.ok(writable.some((dir) => file.startsWith(`${dir.replace(/\/$/, '')}/`)), `${file} lies under ReadWritePaths= ${writable.join(' ')}`);
  }

  // Node's JIT needs writable+executable memory.
  const mdwe = unit.get('Service')?.get('MemoryDenyWriteExecute') ?? [];
  assert.ok(mdwe.every((v) => !/^(1|yes|true|on)$/i.test(v)), 'MemoryDenyWriteExecute= is not enabled: V8 would die');
  assert.match(read(UNIT), /^#[^\n]*MemoryDenyWriteExecute=[^\n]*(?:\n#[^\n]*)*?JIT/m, 'a comment says why MemoryDenyWriteExecute= is off');

  // A root daemon must never start with --inspect or --require from NODE_OPTIONS.
  const unset = words('Service', 'UnsetEnvironment');
  const env = defaultEnvironment();
  assert.ok(unset.includes('NODE_OPTIONS') || env.get('NODE_OPTIONS') === '', 'NODE_OPTIONS is cleared');
});

test('systemd-analyze verify accepts the unit without a word', (t) => {
  // --man=no: Documentation=man:pfasciilogd(8) is not installed here. verify
  // parses the file and checks the executables it names (/usr/bin/env,
  // /bin/kill); it needs no running systemd (this also works in a container
  // whose PID 1 is something else). It returns 0 even for unknown keys and
  // bad values, so the test wants no output about the unit at all. Lines about
  // other units it loads (fail2ban.service, if installed) do not count.
  const r = tool(t, 'systemd-analyze', ['verify', '--man=no', UNIT], 'systemd');
  if (r === null) return;
  const about = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('pfasciilogd'));
  assert.deepEqual(about, [], 'systemd-analyze verify output about the unit');
  assert.equal(r.status, 0, r.stderr);
});

test('systemd-analyze verify does complain about a broken copy (the check has teeth)', (t) => {
  const dir = tempDir('unit');
  const broken = join(dir, 'pfasciilogd.service');
  writeFileSync(broken, read(UNIT).replace(/^ProtectSystem=strict$/m, 'ProtectSystem=strictly\nNoSuchKey=1'));
  const r = tool(t, 'systemd-analyze', ['verify', '--man=no', broken], 'systemd');
  if (r === null) return;
  const out = r.stdout + r.stderr;
  assert.match(out, /strictly/, `verify reports the bad value: ${out}`);
  assert.match(out, /NoSuchKey/, `verify reports the unknown key: ${out}`);
});

test('systemd-analyze security rates the unit OK or better', (t) => {
  const r = tool(t, 'systemd-analyze', ['security', '--offline=yes', '--man=no', '--no-pager', UNIT], 'systemd');
  if (r === null) return;
  const out = r.stdout + r.stderr;
  if (/unrecognized option|unknown option/i.test(out)) {
    t.skip(`this systemd-analyze has no security --offline (systemd >= 250): ${out.trim().split('\n')[0]}`);
    return;
  }
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out);
  assert.ok(m, `an overall exposure level in: ${out.slice(-400)}`);
  const level = Number(m[1]);
  t.diagnostic(`exposure level ${level}`);
  // 2.4 with systemd 252; the scale's "OK" band ends below 5. What keeps it
  // from lower: root, CAP_NET_ADMIN/SETUID/SETGID, W+X memory, host network.
  assert.ok(level < 5, `exposure level ${level} is below 5 (OK)`);
});

// -- logrotate ----------------------------------------------------------------------

const LOGROTATE_TEXT = read(LOGROTATE);

test('logrotate entry: rename + HUP, never copytruncate', () => {
  const code = codeLines(LOGROTATE_TEXT);
  assert.ok(!code.some((l) => /\bcopytruncate\b/.test(l)), 'no copytruncate: it loses the lines written between copy and truncate');
  assert.match(LOGROTATE_TEXT, /^#.*copytruncate/m, 'a comment says why not copytruncate');
  assert.equal(code[0], `${LOGFILE} {`);
  assert.equal(code[code.length - 1], '}');
  for (const directive of ['rotate 7', 'compress', 'delaycompress', 'missingok', 'notifempty', 'create 0640 root adm']) {
    assert.ok(code.includes(directive), `has "${directive}"`);
  }
  assert.ok(code.includes('daily') || code.includes('weekly'), 'rotates daily or weekly');
  const post = code.indexOf('postrotate');
  const end = code.indexOf('endscript');
  assert.ok(post > 0 && end > post, 'has a postrotate script');
  const script = code.slice(post + 1, end).join('\n');
  assert.match(script, /\bkill -HUP\b/, 'postrotate sends SIGHUP');
  assert.ok(script.includes(PIDFILE), `postrotate reads the unit's pidfile ${PIDFILE}`);
  assert.equal(value('Service', 'PIDFile'), PIDFILE);
});

/** The shipped entry with the log and the pidfile moved into `dir`, and ownership this user can give. */
function logrotateConfig(dir: string): string {
  const text = LOGROTATE_TEXT.split(LOGFILE).join(join(dir, 'pf.log')).split(PIDFILE).join(join(dir, 'pfasciilogd.pid'));
  if (IS_ROOT) return text;
  // Not root: logrotate can only create the new file as ourselves.
  const me = userInfo().username;
  const group = run('id', ['-gn']).stdout.trim();
  return text.replace(/^(\s*create 0640) root adm$/m, `$1 ${me} ${group}`);
}

test('logrotate -d accepts the entry and would rename, create 0640 and HUP', (t) => {
  const dir = tempDir('logrotate');
  const conf = join(dir, 'pfasciilogd');
  writeFileSync(conf, logrotateConfig(dir), { mode: 0o644 });
  writeFileSync(join(dir, 'pf.log'), 'a line\n');
  // -f: rotate now (with no state file logrotate would consider the log just
  // rotated); -d: only say what would be done.
  const r = tool(t, 'logrotate', ['-d', '-f', '-s', join(dir, 'state'), conf], 'logrotate');
  if (r === null) return;
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /^error:/im, 'no errors');
  assert.ok(out.includes(`renaming ${join(dir, 'pf.log')} to ${join(dir, 'pf.log.1')}`), `renames the log:\n${out}`);
  assert.match(out, new RegExp(`creating new ${join(dir, 'pf.log').replace(/[.]/g, '\\.')} mode = 0640`), 'creates the new log 0640');
  assert.match(out, /running postrotate script/);
  assert.equal(readText(join(dir, 'pf.log')), 'a line\n', '-d changed nothing');
});

test('logrotate rotates under the running daemon: no line lost or doubled', async (t) => {
  // The real daemon, relaying a fake tcpdump's numbered ticks, and a real
  // logrotate run of the shipped entry; the ticks must continue, each once,
  // from pf.log.1 into the new pf.log.
  if (isMissing(run('logrotate', ['--version']))) {
    unavailable(t, 'logrotate is not installed (Debian package logrotate)');
    return;
  }
  const s = new Sandbox('logrotate');
  t.after(() => s.cleanup());
  const conf = s.path('logrotate.conf');
  writeFileSync(conf, logrotateConfig(s.dir), { mode: 0o644 });
  const count = 60;
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('tick', { FAKE_COUNT: count, FAKE_INTERVAL_MS: 20 })]);
  await s.waitForLine(/^tick 10 /, 10_000);

  const r = run('logrotate', ['-f', '-s', s.path('state'), conf]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const mode = statSync(s.log).mode & 0o777;
  assert.equal(mode, 0o640, `new log mode ${mode.toString(8)}`);
  await s.waitForLine(/^pfasciilogd: log reopened$/, 5000);
  await s.waitForLine(new RegExp(`^tick ${count} `), 10_000);
  d.signal('SIGTERM');
  const st = await d.waitExit(5000);
  assert.equal(st.code, 0, d.stderr);

  const before = parseLog(readText(s.path('pf.log.1')), 'pf.log.1');
  const now = parseLog(readText(s.log), 'pf.log');
  assert.ok(!events(before).includes('log reopened'), 'the reopen is logged in the new file');
  assert.equal(events(now)[0], 'log reopened', 'the new file starts with the reopen');
  const ticks = [...before, ...now].map((l) => /^tick (\d+) /.exec(l.payload)).filter((m) => m !== null).map((m) => Number(m[1]));
  assert.deepEqual(ticks, Array.from({ length: count }, (_, i) => i + 1), 'every tick once, in order, across the two files');
  assert.ok(before.some((l) => l.payload.startsWith('tick ')) && now.some((l) => l.payload.startsWith('tick ')), 'ticks on both sides of the rotation');
});

// -- firewall examples ----------------------------------------------------------

/** The NFLOG group pfasciilogd listens on, from the unit's default flags. */
function unitGroup(): string {
  const m = /^nflog:(\d+)$/.exec(flagValue(execStartArgv(), '-i') ?? '');
  assert.ok(m, 'the unit captures on nflog:N');
  return m[1]!;
}

const NFT_TEXT = read(NFT);

test('nftables example: policy drop, logs to the unit\'s NFLOG group, keeps fail2ban\'s table', () => {
  const code = codeLines(NFT_TEXT);
  assert.ok(!code.some((l) => /^flush ruleset\b/.test(l)), 'no "flush ruleset": it would delete fail2ban\'s table and its bans');
  assert.ok(code.some((l) => /type filter hook input priority (filter|0); policy drop;/.test(l)), 'input chain, policy drop');
  const log = code.filter((l) => /\blog\b/.test(l));
  assert.equal(log.length, 1, `one log rule: ${log.join(' | ')}`);
  // queue-threshold 1: each packet is sent at once (no kernel batching)
  const m = /^log group (\d+) prefix "([A-Za-z0-9_-]+)" queue-threshold 1 drop$/.exec(log[0]!);
  assert.ok(m, `log rule: ${log[0]}`);
  assert.equal(m[1], unitGroup(), 'the group is the one the unit captures (-i nflog:N)');
  assert.equal(m[2], 'pf-block');
  assert.equal(code.indexOf(log[0]!), code.findIndex((l) => l === '}') - 1, 'the log rule ends the input chain');
  for (const rule of ['ct state established,related accept', 'iif lo accept', 'ct state invalid drop', 'tcp dport 22 accept']) {
    assert.ok(code.includes(rule), `has "${rule}"`);
  }
  assert.ok(code.some((l) => /icmpv6 type \{[^}]*nd-neighbor-solicit[^}]*\}.* accept$/.test(l)), 'IPv6 neighbour discovery accepted');
  assert.match(NFT_TEXT, /priority -1/, 'explains that fail2ban\'s chain (priority -1) comes first');
  assert.match(NFT_TEXT, /nftables-allports/);
});

test('nft -c accepts the nftables example, also loaded twice in one go', (t) => {
  if (!needRoot(t, 'nft -c')) return;
  // -c: the kernel checks the batch and nothing is applied. Loading the file
  // twice checks that it replaces its own table instead of failing on it.
  const dir = tempDir('nft');
  const twice = join(dir, 'twice.nft');
  writeFileSync(twice, `include "${NFT}"\ninclude "${NFT}"\n`);
  for (const file of [NFT, twice]) {
    const r = tool(t, 'nft', ['-c', '-f', file], 'nftables');
    if (r === null) return;
    assert.equal(r.status, 0, `nft -c -f ${file}: ${r.stderr}`);
    assert.equal(r.stdout + r.stderr, '', `nft -c -f ${file} output`);
  }
  // and nft -c does reject a broken rule here (the check has teeth)
  const broken = join(dir, 'broken.nft');
  writeFileSync(broken, NFT_TEXT.replace('tcp dport 22 accept', 'tcp dport 22 acept'));
  const r = run('nft', ['-c', '-f', broken]);
  assert.notEqual(r.status, 0, 'nft -c rejects "acept"');
  assert.match(r.stderr, /acept/);
});

const IPT_TEXT = read(IPTABLES);

test('iptables example: policy DROP, NFLOG to the unit\'s group, then DROP', () => {
  const code = codeLines(IPT_TEXT);
  assert.equal(code[0], '*filter');
  assert.equal(code[code.length - 1], 'COMMIT');
  assert.ok(code.includes(':INPUT DROP [0:0]'), 'INPUT policy DROP');
  const nflog = code.filter((l) => /-j NFLOG\b/.test(l));
  assert.equal(nflog.length, 1);
  const m = /^-A INPUT -j NFLOG --nflog-group (\d+) --nflog-prefix ([A-Za-z0-9_-]+) --nflog-threshold 1$/.exec(nflog[0]!);
  assert.ok(m, `NFLOG rule: ${nflog[0]}`);
  assert.equal(m[1], unitGroup(), 'the group is the one the unit captures (-i nflog:N)');
  assert.equal(m[2], 'pf-block');
  const at = code.indexOf(nflog[0]!);
  assert.equal(code[at + 1], '-A INPUT -j DROP', 'NFLOG does not end the chain: DROP follows');
  assert.equal(at + 2, code.length - 1, 'and ends INPUT');
  for (const rule of ['-A INPUT -i lo -j ACCEPT', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']) {
    assert.ok(code.includes(rule), `has "${rule}"`);
  }
});

test('iptables-restore --test accepts the iptables example', (t) => {
  if (!needRoot(t, 'iptables-restore --test')) return;
  const r = tool(t, 'iptables-restore', ['--test'], 'iptables', { input: IPT_TEXT });
  if (r === null) return;
  assert.equal(r.status, 0, `iptables-restore --test: ${r.stderr}`);
  assert.equal(r.stderr, '', 'iptables-restore --test stderr');
});

// -- the unit's command line, run ---------------------------------------------------

test('the daemon accepts the unit\'s flags and runs tcpdump on the NFLOG group', async (t) => {
  // The unit's argv, with the log and pidfile moved into a sandbox and a fake
  // tcpdump that prints its argv (relayed as text).
  const s = new Sandbox('unit-argv');
  t.after(() => s.cleanup());
  const argv = execStartArgv().slice(3 + HEAP_FLAGS.length);
  const moved = argv.map((a) => (a === LOGFILE ? s.log : a === PIDFILE ? s.pidfile : a));
  const d = s.start([...moved, ...TEXT_RELAY, '--tcpdump', s.fake('argv')], { files: false });
  const lines = await s.waitForLine(/^argv /, 10_000);
  const tcpdumpArgv = JSON.parse(lines.find((l) => l.payload.startsWith('argv '))!.payload.slice(5)) as string[];
  assert.equal(flagValue(tcpdumpArgv, '-i'), 'nflog:1', `tcpdump ${tcpdumpArgv.join(' ')}`);
  assert.equal(flagValue(tcpdumpArgv, '-Z'), 'nobody', 'tcpdump drops to nobody');
  assert.equal(s.readPidfile(), d.pid);
  d.signal('SIGTERM');
  assert.equal((await d.waitExit(5000)).code, 0, d.stderr);
});
