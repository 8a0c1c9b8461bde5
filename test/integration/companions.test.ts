// Checks the files that ship beside the program: the FreeBSD and OpenBSD rc.d
// scripts, the newsyslog entry, the example pf.conf and the man page. Every
// external command runs from an argv array, never through a shell string.

import { HEAP_FLAGS } from '../../src/daemon/heap.js';
import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FREEBSD_RC = join(ROOT, 'etc/rc.d/pfasciilogd');
const OPENBSD_RC = join(ROOT, 'etc/rc.d/pfasciilogd.openbsd');
const NEWSYSLOG = join(ROOT, 'etc/newsyslog.conf.d/pfasciilogd.conf');
const PF_CONF = join(ROOT, 'etc/pf.conf.example');
const MAN = join(ROOT, 'man/pfasciilogd.8');
const USAGE_JS = join(ROOT, 'dist/src/cli/usage.js');

const NEWSYSLOG_LINE = '/var/log/pf.log root:wheel 640 5 1000 * BJ /var/run/pfasciilogd.pid 1';
const PROGRAM = '/usr/local/bin/pfasciilogd';
const NODE = '/usr/local/bin/node';
const PIDFILE = '/var/run/pfasciilogd.pid';
/** daemon(8)'s own pidfile (its -P): the one rc.subr stops and checks. */
const SUPERVISOR_PIDFILE = '/var/run/pfasciilogd-daemon.pid';

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, env: opts.env ?? process.env });
}

function isMissing(r: SpawnSyncReturns<string>): boolean {
  return (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** OpenBSD's rc.d scripts run under ksh; use one when installed, else sh (the script is POSIX sh too). */
const KSH = isMissing(run('ksh', ['-c', 'exit 0'])) ? null : 'ksh';

/** Runs mandoc, or skips the test when it is not installed (fails instead in CI). */
function mandoc(t: TestContext, args: string[]): SpawnSyncReturns<string> | null {
  const r = run('mandoc', args);
  if (isMissing(r)) {
    if (process.env.CI) assert.fail('mandoc is not installed; it is required when CI is set');
    t.skip('mandoc is not installed (install mandoc to check the man page)');
    return null;
  }
  assert.equal(r.error, undefined, `mandoc could not run: ${String(r.error)}`);
  return r;
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pfasciilogd-companions-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Copies an rc.d script into `dir` as `name`, sourcing `stub` instead of the system's rc.subr. */
function installWithStub(script: string, systemSubr: string, stub: string, dir: string, name: string): string {
  const text = read(script);
  const sourceLine = `. ${systemSubr}`;
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l === sourceLine).length, 1, `${script} must source ${systemSubr} exactly once`);
  const subr = join(dir, 'rc.subr');
  writeFileSync(subr, stub);
  const out = join(dir, name);
  writeFileSync(out, lines.map((l) => (l === sourceLine ? `. ${subr}` : l)).join('\n'), { mode: 0o755 });
  return out;
}

/** Parses the stub's "argv<TAB>word" / "var<TAB>name<TAB>value" / "pkill<TAB>word" output. */
function parseStubOutput(stdout: string): { argv: string[]; vars: Map<string, string>; pkill: string[]; pexp: string | undefined } {
  const argv: string[] = [];
  const pkill: string[] = [];
  const vars = new Map<string, string>();
  let pexp: string | undefined;
  for (const line of stdout.split('\n')) {
    const [kind, ...rest] = line.split('\t');
    if (kind === 'argv') argv.push(rest.join('\t'));
    else if (kind === 'pkill') pkill.push(rest.join('\t'));
    else if (kind === 'var') vars.set(rest[0]!, rest.slice(1).join('\t'));
    else if (kind === 'pexp') pexp = rest.join('\t');
  }
  return { argv, vars, pkill, pexp };
}

// -- shell syntax -------------------------------------------------------------

for (const script of [FREEBSD_RC, OPENBSD_RC]) {
  test(`sh -n accepts ${script.slice(ROOT.length)}`, () => {
    const r = run('sh', ['-n', script]);
    assert.equal(r.error, undefined);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });
}

test('ksh -n accepts the OpenBSD rc.d script', (t) => {
  if (KSH === null) {
    t.skip('ksh is not installed; sh -n covers the syntax');
    return;
  }
  const r = run(KSH, ['-n', OPENBSD_RC]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

// -- FreeBSD rc.d ---------------------------------------------------------------

test('FreeBSD rc.d script has the rc.subr variables', () => {
  const s = read(FREEBSD_RC);
  assert.match(s, /^#!\/bin\/sh\n/);
  assert.match(s, /^# PROVIDE: pfasciilogd$/m);
  assert.match(s, /^# REQUIRE: .*\S/m);
  assert.match(s, /^# KEYWORD: .*\bshutdown\b/m);
  assert.match(s, /^\. \/etc\/rc\.subr$/m);
  assert.match(s, /^name="?pfasciilogd"?$/m);
  assert.match(s, /^rcvar="?pfasciilogd_enable"?$/m);
  assert.match(s, /^load_rc_config \$name$/m);
  assert.match(s, /^: \$\{pfasciilogd_enable:="NO"\}$/m);
  assert.match(s, /^: \$\{pfasciilogd_flags:=""\}$/m);
  assert.match(s, /^pidfile="?\/var\/run\/pfasciilogd-daemon\.pid"?$/m);
  assert.match(s, /^command="?\/usr\/sbin\/daemon"?$/m);
  assert.match(s, /^procname="?\/usr\/sbin\/daemon"?$/m);
  assert.match(s, /^extra_commands="?[^"\n]*\breload\b/m);
  // HUP to daemon(8) would end the supervisor: reload signals pfasciilogd itself
  assert.doesNotMatch(s, /^sig_reload=/m);
  assert.match(s, /^reload_cmd="?pfasciilogd_reload"?$/m);
  assert.match(s, /^start_precmd=/m);
  assert.match(s, /^run_rc_command "\$1"$/m);
  assert.match(s, /pfasciilogd_enable="YES"/, 'usage comment for rc.conf');
  assert.match(s, /pfasciilogd_flags="-i pflog0 -- 'inbound and action block'"/, 'usage comment for rc.conf');
});

// A stand-in for /etc/rc.subr with just what the script uses. run_rc_command
// does what the real one does up to the exec: rc_flags from ${name}_flags (or
// $flags), start_precmd in the same shell, then the command line
// "$command $rc_flags $command_args" evaluated like rc.subr's _run_rc_doit.
// It prints each resulting argv word instead of running it.
function freebsdStub(rcConf: string): string {
  return `# test stub for FreeBSD rc.subr
load_rc_config() { . '${rcConf}'; }
checkyesno() {
	eval "_value=\\\${$1}"
	case $_value in
	[Yy][Ee][Ss]|[Tt][Rr][Uu][Ee]|[Oo][Nn]|1) return 0 ;;
	esac
	return 1
}
warn() { echo "warn: $*" >&2; }
err() { _code=$1; shift; echo "err: $*" >&2; exit "$_code"; }
debug() { :; }
check_pidfile() { printf 'check_pidfile' >&3; printf '\t%s' "$@" >&3; printf '\n' >&3; echo 4242; }
kill() { printf 'kill' >&3; printf '\t%s' "$@" >&3; printf '\n' >&3; }
exec 3>&1
run_rc_command() {
	rc_arg=$1
	for _v in name rcvar pidfile procname command command_args sig_reload reload_cmd extra_commands; do
		eval "printf 'var\\t%s\\t%s\\n' \\"\\$_v\\" \\"\\\${$_v}\\""
	done
	checkyesno "$rcvar" || { echo "$rcvar is not YES" >&2; return 1; }
	if [ -n "$flags" ]; then
		rc_flags=$flags
	else
		eval "rc_flags=\\\${\${name}_flags}"
	fi
	case $rc_arg in
	reload)
		eval "$reload_cmd"
		;;
	start)
		if [ -n "$start_precmd" ]; then
			eval "$start_precmd" || return 1
		fi
		eval "set -- $command $rc_flags $command_args"
		for _a in "$@"; do
			printf 'argv\\t%s\\n' "$_a"
		done
		;;
	esac
}
`;
}

function simulateFreebsdStart(rcConfText: string): { argv: string[]; vars: Map<string, string> } {
  return withTempDir((dir) => {
    const rcConf = join(dir, 'rc.conf');
    writeFileSync(rcConf, rcConfText);
    const script = installWithStub(FREEBSD_RC, '/etc/rc.subr', freebsdStub(rcConf), dir, 'pfasciilogd');
    const r = run('sh', [script, 'start'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    assert.equal(r.error, undefined);
    assert.equal(r.status, 0, `stub run failed: ${r.stderr}`);
    assert.equal(r.stderr, '');
    return parseStubOutput(r.stdout);
  });
}

/** Splits the daemon(8) command line into daemon's options, the interpreter, and pfasciilogd's argv. */
function splitDaemonArgv(argv: string[], vars: Map<string, string>) {
  assert.equal(argv[0], '/usr/sbin/daemon', `runs daemon(8): ${JSON.stringify(argv)}`);
  const prog = argv.indexOf(PROGRAM);
  assert.ok(prog > 1, `${PROGRAM} comes after daemon and the interpreter: ${JSON.stringify(argv)}`);
  assert.equal(argv.lastIndexOf(PROGRAM), prog, 'the program appears once');
  // node [HEAP_FLAGS] PROGRAM: the interpreter is the word before its flags
  const flagsAt = prog - HEAP_FLAGS.length;
  assert.deepEqual(argv.slice(flagsAt, prog), [...HEAP_FLAGS], `node runs with the heap cap: ${JSON.stringify(argv)}`);
  const interpreter = argv[flagsAt - 1]!;
  // status/stop look for the pidfile's pid, daemon(8)'s: "ps -o command"
  // shows it as "daemon: /usr/local/bin/node[PID] (daemon)", found by $procname
  assert.equal(vars.get('procname'), '/usr/sbin/daemon', 'rc.subr looks for daemon(8), whose pid is in $pidfile');
  assert.equal(vars.get('pidfile'), SUPERVISOR_PIDFILE);
  return { daemonOpts: argv.slice(1, flagsAt - 1), interpreter, programArgs: argv.slice(prog + 1) };
}

test('FreeBSD rc.d: pfasciilogd_flags go after the program, not to daemon(8)', () => {
  const { argv, vars } = simulateFreebsdStart(
    `pfasciilogd_enable="YES"\npfasciilogd_flags="-i pflog1 -- 'inbound and action block'"\n`,
  );
  assert.equal(vars.get('name'), 'pfasciilogd');
  assert.equal(vars.get('rcvar'), 'pfasciilogd_enable');
  assert.equal(vars.get('command'), '/usr/sbin/daemon');
  assert.equal(vars.get('pidfile'), SUPERVISOR_PIDFILE);
  assert.equal(vars.get('procname'), '/usr/sbin/daemon');
  assert.equal(vars.get('sig_reload'), '');
  assert.match(vars.get('extra_commands') ?? '', /\breload\b/);

  const { daemonOpts, interpreter, programArgs } = splitDaemonArgv(argv, vars);
  assert.equal(interpreter, NODE);
  assert.ok(daemonOpts.includes('-S') || daemonOpts.includes('-T'), `daemon sends output to syslog: ${JSON.stringify(daemonOpts)}`);
  // daemon(8) supervises: its own pid in the supervisor pidfile (so that stop
  // ends it, rather than the child it would restart) and a restart delay
  const P = daemonOpts.indexOf('-P');
  assert.ok(P >= 0 && daemonOpts[P + 1] === SUPERVISOR_PIDFILE, `daemon -P ${SUPERVISOR_PIDFILE}: ${JSON.stringify(daemonOpts)}`);
  const R = daemonOpts.indexOf('-R');
  assert.ok(daemonOpts.includes('-r') || (R >= 0 && /^[1-9]\d*$/.test(daemonOpts[R + 1] ?? '')), `daemon -r or -R seconds: ${JSON.stringify(daemonOpts)}`);
  assert.equal(new Set([...daemonOpts, ...programArgs]).has(PIDFILE) && !daemonOpts.includes(PIDFILE), true, 'the child pidfile is pfasciilogd\'s own -p, not daemon(8)\'s');
  // daemon(8)'s -p would lock the pidfile pfasciilogd locks itself
  for (const forbidden of ['-p', '-i', 'pflog1', 'inbound and action block']) {
    assert.ok(!daemonOpts.includes(forbidden), `${forbidden} must not be a daemon(8) option: ${JSON.stringify(daemonOpts)}`);
  }
  // The user's quoted expression stays one argument, after the program.
  assert.deepEqual(programArgs, ['-p', PIDFILE, '-i', 'pflog1', '--', 'inbound and action block']);
  assert.ok(argv.indexOf('-i') > argv.indexOf(PROGRAM));
});

test('FreeBSD rc.d: empty pfasciilogd_flags still passes the pidfile', () => {
  const { argv, vars } = simulateFreebsdStart('pfasciilogd_enable="YES"\n');
  const { programArgs } = splitDaemonArgv(argv, vars);
  assert.deepEqual(programArgs, ['-p', PIDFILE]);
});

test('FreeBSD rc.d: reload sends SIGHUP to pfasciilogd by its own pidfile, not to daemon(8)', () => {
  const out = withTempDir((dir) => {
    const rcConf = join(dir, 'rc.conf');
    writeFileSync(rcConf, 'pfasciilogd_enable="YES"\n');
    const script = installWithStub(FREEBSD_RC, '/etc/rc.subr', freebsdStub(rcConf), dir, 'pfasciilogd');
    const r = run('sh', [script, 'reload'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  });
  const lines = out.split('\n').filter((l) => l.startsWith('check_pidfile\t') || l.startsWith('kill\t'));
  // procname the interpreter, matched as ps's first word (see rc.subr's _find_processes)
  assert.deepEqual(lines, [`check_pidfile\t${PIDFILE}\t${NODE}`, 'kill\t-HUP\t4242']);
});

// -- OpenBSD rc.d ---------------------------------------------------------------

test('OpenBSD rc.d script runs in the background and reloads with HUP', () => {
  const s = read(OPENBSD_RC);
  assert.match(s, /^#!\/bin\/ksh\n/);
  assert.match(s, /^daemon="\/usr\/local\/bin\/pfasciilogd"$/m);
  assert.match(s, /^daemon_flags="-u ''"$/m);
  assert.match(s, /^\. \/etc\/rc\.d\/rc\.subr$/m);
  assert.match(s, /^pexp=/m);
  assert.match(s, /^rc_bg=YES$/m);
  assert.match(s, /^rc_reload\(\)\s*\{[^}]*\bpkill\s+-(?:SIG)?HUP\b[^}]*\}/m);
  assert.match(s, /^rc_cmd "?\$1"?$/m);
  // rc_cmd must be the last command: everything rc.subr needs is set by then.
  assert.match(s, /^rc_cmd "?\$1"?\s*$(?![\s\S]*^\S)/m);
});

// A stand-in for OpenBSD's rc.subr: flags from ${_name}_flags, the default
// pexp as rc.subr >= 7.x computes it, rc_exec printing the argv the shell
// would give the daemon, pkill printing its arguments.
const OPENBSD_STUB = `# test stub for OpenBSD rc.subr
_name=\${0##*/}
eval "_rcflags=\\\${\${_name}_flags}"
[ -n "\${_rcflags}" ] && daemon_flags=\${_rcflags}
pexp="$(eval echo \${daemon}\${daemon_flags:+ \${daemon_flags}})"
rc_exec() {
	eval "set -- $*"
	for _a in "$@"; do
		printf 'argv\\t%s\\n' "$_a"
	done
}
pkill() {
	for _a in "$@"; do
		printf 'pkill\\t%s\\n' "$_a"
	done
}
rc_cmd() {
	printf 'pexp\\t%s\\n' "$pexp"
	case $1 in
	start) rc_start ;;
	reload) rc_reload ;;
	esac
}
`;

function simulateOpenbsd(action: string, flags: string | undefined) {
  return withTempDir((dir) => {
    const script = installWithStub(OPENBSD_RC, '/etc/rc.d/rc.subr', OPENBSD_STUB, dir, 'pfasciilogd');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    if (flags !== undefined) env.pfasciilogd_flags = flags;
    const r = run(KSH ?? 'sh', [script, action], { env });
    assert.equal(r.error, undefined);
    assert.equal(r.status, 0, `stub run failed: ${r.stderr}`);
    assert.equal(r.stderr, '');
    return parseStubOutput(r.stdout);
  });
}

/** Does pgrep -xf PEXP select a process with this argv? (POSIX ERE, whole string, as pkill.c joins argv.) */
function pexpMatches(pexp: string, argv: string[]): boolean {
  const r = run('grep', ['-Exq', '-e', pexp], { input: argv.join(' ') + '\n' });
  assert.equal(r.error, undefined);
  assert.ok(r.status === 0 || r.status === 1, `grep -E rejected the pexp ${JSON.stringify(pexp)}: ${r.stderr}`);
  return r.status === 0;
}

for (const [label, flags, expectedArgs] of [
  ['default flags', undefined, ['-u', '']],
  ['a filter with regex characters', "-u '' -i pflog1 -- 'tcp[13] & 2 != 0 or (icmp and host 192.0.2.1)'", ['-u', '', '-i', 'pflog1', '--', 'tcp[13] & 2 != 0 or (icmp and host 192.0.2.1)']],
] as const) {
  test(`OpenBSD rc.d: pexp matches the node process (${label})`, () => {
    const start = simulateOpenbsd('start', flags);
    assert.deepEqual(start.argv, [NODE, ...HEAP_FLAGS, PROGRAM, ...expectedArgs]);
    const pexp = start.pexp;
    assert.ok(pexp !== undefined && pexp !== '');
    assert.ok(pexpMatches(pexp, start.argv), `pexp ${JSON.stringify(pexp)} must match ${JSON.stringify(start.argv.join(' '))}`);
    // rc.subr saves pexp in /var/run/rc.d/<name> and reads it back for stop and
    // reload, dropping trailing blanks: it must survive that unchanged.
    assert.equal(pexp, pexp.replace(/[ \t]+$/, ''));
    assert.ok(!pexpMatches(pexp, [NODE, ...HEAP_FLAGS, PROGRAM, '-u', '', '-i', 'pflog9']), 'another instance does not match');
    assert.ok(!pexpMatches(pexp, ['node', '/usr/local/bin/other', ...expectedArgs]), 'another program does not match');

    const reload = simulateOpenbsd('reload', flags);
    assert.equal(reload.pkill[0], '-HUP');
    assert.equal(reload.pkill[reload.pkill.length - 1], pexp);
  });
}

// -- newsyslog --------------------------------------------------------------------

test('newsyslog entry is exactly the documented line', () => {
  const lines = read(NEWSYSLOG)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  assert.deepEqual(lines, [NEWSYSLOG_LINE]);
});

// -- pf.conf.example -----------------------------------------------------------

test('pf.conf.example puts anchor "f2b/*" before block log and every pass rule', () => {
  const rules = read(PF_CONF)
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim());
  const anchor = rules.findIndex((l) => /^anchor\s+"f2b\/\*"$/.test(l));
  const blockLog = rules.findIndex((l) => /^block\b.*\blog\b/.test(l));
  const firstPass = rules.findIndex((l) => /^pass\b/.test(l));
  assert.ok(anchor >= 0, 'has anchor "f2b/*"');
  assert.ok(blockLog >= 0, 'has a "block log" rule');
  assert.ok(anchor < blockLog, `anchor (line ${anchor + 1}) must precede block log (line ${blockLog + 1})`);
  assert.ok(firstPass === -1 || anchor < firstPass, 'anchor must precede every pass rule');
  assert.ok(rules.includes('set skip on lo'));
  assert.match(read(PF_CONF), /pfctl -a f2b\/pf -t f2b-pf -T show/);
  // what the man page recommends against forged sources: quick, unlogged, before block log all
  const antispoof = rules.findIndex((l) => /^antispoof quick for \$ext_if$/.test(l));
  const urpf = rules.findIndex((l) => /^block drop in quick from urpf-failed$/.test(l));
  assert.ok(antispoof > anchor && antispoof < blockLog, `antispoof quick, after the anchor, before block log (line ${antispoof + 1})`);
  assert.ok(urpf > anchor && urpf < blockLog, `urpf-failed block quick, after the anchor, before block log (line ${urpf + 1})`);
});

// -- man page ------------------------------------------------------------------

test('man page passes mandoc -T lint -W warning silently', (t) => {
  const r = mandoc(t, ['-T', 'lint', '-W', 'warning', MAN]);
  if (r === null) return;
  assert.equal(r.stdout + r.stderr, '', 'mandoc lint output');
  assert.equal(r.status, 0);
});

test('man page keeps its sections and mentions what the brief requires', () => {
  const src = read(MAN);
  const sections = [...src.matchAll(/^\.Sh (.+)$/gm)].map((m) => m[1]!.replace(/"/g, ''));
  const order = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'SIGNALS', 'ROTATION', 'FAIL2BAN', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO', 'SECURITY CONSIDERATIONS'];
  let last = -1;
  for (const name of order) {
    const at = sections.indexOf(name);
    assert.ok(at > last, `section ${name} present and in order: ${sections.join(', ')}`);
    last = at;
  }
  for (const xr of ['tcpdump 8', 'pflogd 8', 'pf.conf 5', 'newsyslog.conf 5', 'daemon 8', 'fail2ban-client 1']) {
    assert.ok(src.includes(`.Xr ${xr}`), `SEE ALSO ${xr}`);
  }
  assert.ok(src.includes(NEWSYSLOG_LINE), 'ROTATION shows the newsyslog line');
  assert.ok(src.includes('anchor "f2b/*"'), 'FAIL2BAN shows the anchor');
  for (const code of ['0', '1', '64', '66', '70', '73']) {
    assert.match(src.slice(src.indexOf('.Sh EXIT STATUS')), new RegExp(`^\\.It ${code}$`, 'm'), `exit status ${code}`);
  }
});

/** The synopsis of a usage text: its lines up to the first blank one, one entry per "pfasciilogd ...", spaces normalised. */
function usageSynopsis(usage: string): string[] {
  const head = usage.slice(0, usage.indexOf('\n\n')).replace(/^usage: /, '');
  return head.split(/\n(?=\s*pfasciilogd )/).map(normaliseSynopsis);
}

function normaliseSynopsis(s: string): string {
  return s.replace(/\s+/g, ' ').replace(/ ?\| ?/g, '|').trim();
}

test('the -h synopsis (the daemon\'s and each subcommand\'s) is the man page\'s SYNOPSIS, word for word', async (t) => {
  const r = mandoc(t, ['-T', 'ascii', '-O', 'width=1000', MAN]);
  if (r === null) return;
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout.replace(/.\x08/g, '');
  const section = text.slice(text.indexOf('\nSYNOPSIS\n') + 10, text.indexOf('\nDESCRIPTION\n'));
  const man = section.split(/\n(?=\s*pfasciilogd )/).map(normaliseSynopsis).filter((s) => s !== '');
  const { DAEMON_USAGE } = (await import(pathToFileURL(USAGE_JS).href)) as { DAEMON_USAGE: string };
  const cli = (name: string) => import(pathToFileURL(join(ROOT, `dist/src/cli/${name}.js`)).href) as Promise<Record<string, string>>;
  assert.deepEqual(usageSynopsis(DAEMON_USAGE), man, 'pfasciilogd -h against the man page');
  const own = [(await cli('read-command'))['READ_USAGE']!, (await cli('check-command'))['CHECK_USAGE']!, (await cli('stats-command'))['STATS_USAGE']!];
  for (const usage of own) {
    const [entry] = usageSynopsis(usage);
    assert.ok(man.includes(entry!), `${entry} (its own -h) is in the man page's SYNOPSIS: ${JSON.stringify(man)}`);
  }
});

/** Every flag the CLI's help lists: DAEMON_FLAGS if exported, else the flags in its strings. */
async function usageFlags(): Promise<string[]> {
  const mod = (await import(pathToFileURL(USAGE_JS).href)) as Record<string, unknown>;
  const listed = mod['DAEMON_FLAGS'];
  if (Array.isArray(listed) && listed.every((f) => typeof f === 'string')) return listed as string[];
  const texts = Object.values(mod).filter((v): v is string => typeof v === 'string');
  if (texts.length === 0) texts.push(read(USAGE_JS));
  const flags = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(/(?<![\w-])(--?[A-Za-z][\w-]*)/g)) flags.add(m[1]!);
  return [...flags];
}

test('man page documents every flag the usage text lists', async (t) => {
  if (!existsSync(USAGE_JS)) {
    t.skip(`${USAGE_JS} does not exist yet (run npm run build)`);
    return;
  }
  const flags = await usageFlags();
  assert.ok(flags.length > 0, 'usage lists some flags');
  const r = mandoc(t, ['-T', 'ascii', MAN]);
  if (r === null) return;
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout.replace(/.\x08/g, ''); // drop bold/underline overstrikes
  const synopsis = text.slice(text.indexOf('SYNOPSIS'), text.indexOf('DESCRIPTION'));
  // The item tags of the OPTIONS list ("     -f logfile", "     -h, --help"):
  // section text is indented 5 columns, item bodies further.
  const optionsStart = text.indexOf('\nOPTIONS\n');
  assert.ok(optionsStart >= 0, 'has an OPTIONS section');
  const rest = text.slice(optionsStart + 1).split('\n').slice(1);
  const end = rest.findIndex((l) => /^[A-Z][A-Z ]*$/.test(l));
  const documented = new Set<string>();
  const aliases = new Set<string>(); // the later spellings in "-h, --help"
  for (const line of end >= 0 ? rest.slice(0, end) : rest) {
    const m = /^ {5}(-\S.*)$/.exec(line);
    if (!m) continue;
    m[1]!.split(/,\s+/).forEach((part, i) => {
      const word = part.split(/\s+/)[0]!;
      documented.add(word);
      if (i > 0) aliases.add(word);
    });
  }
  for (const flag of flags) {
    const token = new RegExp(`(?<![\\w-])${flag.replace(/[-]/g, '\\-')}(?![\\w-])`);
    assert.ok(documented.has(flag), `OPTIONS has an item for ${flag} (items: ${[...documented].join(' ')})`);
    // Short flags without a value may be grouped ("[-hV]"); an alias such as
    // --help needs no place of its own in the synopsis.
    const short = /^-[A-Za-z]$/.test(flag);
    assert.ok(
      token.test(synopsis) || (short && new RegExp(`\\[-[A-Za-z]*${flag[1]}[A-Za-z]*\\]`).test(synopsis)) || aliases.has(flag),
      `SYNOPSIS shows ${flag}`,
    );
  }
});

// -- flags in the examples --------------------------------------------------------

test('every pfasciilogd_flags / rcctl flags example in etc/, the README and the man page is accepted by the daemon', async () => {
  const { parseDaemonArgs } = (await import(pathToFileURL(join(ROOT, 'dist/src/cli/options.js')).href)) as typeof import('../../src/cli/options.js');
  const examples: string[] = [];
  for (const file of [FREEBSD_RC, OPENBSD_RC, MAN, join(ROOT, 'README.md')]) {
    for (const m of read(file).matchAll(/(?:pfasciilogd_flags=|rcctl set pfasciilogd flags )"([^"]*)"/g)) examples.push(m[1]!);
  }
  // the rc.d comments show the expression forms (with and without --dedupe)
  assert.ok(examples.filter((e) => e.includes('action block')).length >= 4, JSON.stringify(examples));
  for (const flags of examples) {
    if (flags.includes('...')) continue; // a fragment ("... --dedupe 600")
    // the words as sh gives them to the program
    const r = run('sh', ['-c', `printf '%s\\0' ${flags}`]);
    assert.equal(r.status, 0, r.stderr);
    const words = r.stdout.split('\0').slice(0, -1);
    const parsed = parseDaemonArgs(words) as { kind: string; options?: { expression: string[] } };
    assert.equal(parsed.kind, 'daemon', flags);
    if (flags.includes('action block')) assert.deepEqual(parsed.options!.expression, ['inbound and action block'], flags);
  }
});
