// The daemon end to end: dist/bin/pfasciilogd.js run as a process, with fake
// tcpdumps for crashes, floods and odd output, and the real tcpdump for -r.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  Daemon,
  Sandbox,
  TEXT_RELAY,
  canConnect,
  events,
  isFakeRunning,
  parseLog,
  readText,
  sleep,
  stampMs,
  waitFor,
  type LogLine,
} from '../support/daemon-harness.js';
import { demoFrames } from '../support/demo-capture.js';
import { pcapFile } from '../support/capture-builder.js';
import { formatStamp } from '../../src/format/timestamp.js';

const sandbox = (t: TestContext, name: string) => Sandbox.for(t, name);

const mode = (file: string) => fs.statSync(file).mode & 0o7777;
const payloads = (lines: LogLine[]) => lines.map((l) => l.payload);

/** Stops the daemon with `sig` and checks the common shutdown contract. */
async function stopAndCheck(s: Sandbox, d: Daemon, sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<LogLine[]> {
  d.signal(sig);
  const st = await d.waitExit(timeoutMs);
  assert.deepEqual(st, { code: 0, signal: null }, `exit after ${sig}; stderr: ${d.stderr}`);
  assert.equal(fs.existsSync(s.pidfile), false, 'the pidfile is removed');
  for (const pid of s.fakePids()) assert.equal(isFakeRunning(pid), false, `fake tcpdump ${pid} is left running`);
  const lines = s.lines();
  const ev = events(lines);
  assert.ok(ev.includes(`caught signal ${sig}`), `no "caught signal ${sig}" in ${JSON.stringify(ev)}`);
  assert.equal(ev.at(-1), 'exiting');
  return lines;
}

// ---------------------------------------------------------------------------
// Command line

test('a bad flag or value: one line on stderr, exit 64, nothing created', async (t) => {
  const s = sandbox(t, 'usage');
  const f = ['-f', s.log, '-p', s.pidfile];
  const cases: string[][] = [
    [...f, '-x'],
    [...f, '--bogus'],
    [...f, '--bogus=1'],
    [...f, '-s', 'abc'],
    [...f, '-s', '262145'],
    [...f, '-i', ''],
    [...f, '-i'],
    [...f, '--tcpdump'],
    [...f, '--evil\nsecond line'],
    [...f, '--decoder', 'nope'],
    [...f, '-u', 'a\nb'],
    [...f, '--', 'tcp', 'port\n22'],
    [...f, '-f', ''],
    // a mistyped subcommand, and flags after it, are not a filter expression
    [...f, 'stat', 'demo.pcap'],
    ['-p', s.pidfile, '-f', s.path('first.log'), 'stat', 'x', '-f', s.log],
    [...f, 'inbound', 'and', 'action', 'block'],
  ];
  const results = await Promise.all(cases.map((args) => s.run(args, { files: false })));
  results.forEach((r, i) => {
    const what = JSON.stringify(cases[i]);
    assert.equal(r.code, 64, `${what}: exit status; stderr ${r.stderr}`);
    assert.match(r.stderr, /^pfasciilogd: [\x20-\x7e]+ \(see pfasciilogd -h\)\n$/, `${what}: one printable line`);
    assert.equal(r.stdout, '', what);
  });
  assert.deepEqual(fs.readdirSync(s.dir), [], 'no log, no pidfile, nothing at all');
  assert.match(results[cases.length - 3]!.stderr, /unexpected operand 'stat': did you mean 'stats'\?/);
});

test('a subcommand\'s usage error points to its own -h, which prints its own usage', () => {
  const main = new URL('../../bin/pfasciilogd.js', import.meta.url).pathname;
  const cli = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'latin1' });
  for (const sub of ['read', 'stats', 'check']) {
    const bad = cli([sub, '--bogus']);
    assert.equal(bad.status, 64, bad.stderr);
    assert.match(bad.stderr, new RegExp(`^pfasciilogd: [\\x20-\\x7e]+ \\(see pfasciilogd ${sub} -h\\)\n$`), sub);
    const help = cli([sub, '-h']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, new RegExp(`^usage: pfasciilogd ${sub} `), `${sub} -h prints ${sub}'s usage`);
    assert.doesNotMatch(help.stdout, /--stats-interval/, `${sub} -h is not the daemon's help`);
  }
});

test('-h/--help and -V/--version print and exit 0, creating nothing', async (t) => {
  const s = sandbox(t, 'help');
  const f = ['-f', s.log, '-p', s.pidfile];
  for (const flag of ['-h', '--help']) {
    const r = await s.run([...f, flag], { files: false });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: pfasciilogd /);
    assert.match(r.stdout, /--tcpdump path/);
    assert.equal(r.stderr, '');
  }
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['-V', '--version']) {
    const r = await s.run([...f, flag], { files: false });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `pfasciilogd ${pkg.version}\n`);
    assert.equal(r.stderr, '');
  }
  assert.deepEqual(fs.readdirSync(s.dir), []);
});

test('tcpdump gets an argv, never a shell: flags mapped, the expression as separate words', async (t) => {
  const s = sandbox(t, 'argv');
  const fake = s.fake('argv');
  const pwned = s.path('pwned');
  const d = s.start([...TEXT_RELAY, '--tcpdump', fake, '-i', 'pflog7', '-s', '96', '--', 'inbound', 'and', 'action', 'block', `$(touch ${pwned})`, ';', 'touch', pwned]);
  const lines = await s.waitForLine(/^argv /);
  const argv = JSON.parse(lines.find((l) => l.payload.startsWith('argv '))!.payload.slice(5)) as string[];
  assert.deepEqual(argv, ['-Z', 'nobody', '--immediate-mode', '-t', '-l', '-e', '-n', '-i', 'pflog7', '-s', '96', '--', 'inbound', 'and', 'action', 'block', `$(touch ${pwned})`, ';', 'touch', pwned]);
  assert.equal(fs.existsSync(pwned), false, 'no shell ran the expression');
  // The start is logged with its argv, quoted for humans.
  assert.equal(events(lines)[0], `starting ${fake} -Z nobody --immediate-mode -t -l -e -n -i pflog7 -s 96 -- inbound and action block '$(touch ${pwned})' ';' touch ${pwned}`);
  // The log is created 0640; the pidfile holds the daemon's pid.
  assert.equal(mode(s.log), 0o640);
  assert.equal(s.readPidfile(), d.pid);
  const all = await stopAndCheck(s, d);
  // tcpdump was stopped with TERM, and that exit was logged too.
  assert.match(events(all).join('\n'), /caught signal SIGTERM\n.*killed by signal SIGTERM\nexiting$/);
});

test("-u '' omits -Z", async (t) => {
  const s = sandbox(t, 'nouser');
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('argv'), '-u', '', '-ipflog1']);
  const lines = await s.waitForLine(/^argv /);
  const argv = JSON.parse(lines.find((l) => l.payload.startsWith('argv '))!.payload.slice(5)) as string[];
  assert.deepEqual(argv, ['--immediate-mode', '-t', '-l', '-e', '-n', '-i', 'pflog1', '-s', '512']);
  await stopAndCheck(s, d, 'SIGINT');
});

// ---------------------------------------------------------------------------
// Supervision

test('respawn with backoff after a good start: starts at about 0, 1 and 3 s, for a failing and a vanished tcpdump', async (t) => {
  const s = sandbox(t, 'backoff');
  // Each has started well ("listening on"), as on an interface that later goes away.
  const listening = `echo 'tcpdump: listening on pflog0, link-type PFLOG (OpenBSD pflog file), snapshot length 262144 bytes' >&2`;
  const kinds = [
    { name: 'exit1', tcpdump: s.script('tcpdump-exit1', `${listening}\nexit 1`), exitEvent: /exited with status 1$/ },
    // removes itself: from its second start on, "cannot run" (ENOENT)
    { name: 'vanished', tcpdump: s.script('tcpdump-vanished', `${listening}\nrm -f -- "$0"\nexit 1`), exitEvent: /tcpdump-vanished exited with status 1$|^cannot run .*tcpdump-vanished: .*ENOENT/ },
  ];
  const runs = kinds.map((k) => {
    const log = s.path(`${k.name}.log`);
    const pidfile = s.path(`${k.name}.pid`);
    const d = s.start(['-f', log, '-p', pidfile, ...TEXT_RELAY, '--tcpdump', k.tcpdump], { files: false });
    return { ...k, log, pidfile, d };
  });
  // Watch for 4.6 s after each first start: a 4th start would come at about 7 s.
  const firstStart = await Promise.all(
    runs.map(async (r) => {
      const lines = await s.waitForLine(/pfasciilogd: starting /, 5000, r.log);
      return stampMs(lines.find((l) => l.payload.includes('starting '))!.stamp);
    }),
  );
  await sleep(Math.max(...firstStart) + 4600 - Date.now());
  for (const r of runs) {
    assert.ok(r.d.running, `${r.name}: the daemon keeps running; stderr: ${r.d.stderr}`);
    const lines = parseLog(readText(r.log), r.log);
    const ev = events(lines);
    const starts = lines.filter((l) => l.payload.startsWith(`pfasciilogd: starting ${r.tcpdump} `)).map((l) => stampMs(l.stamp));
    assert.equal(starts.length, 3, `${r.name}: 3 starts in 4.6 s, not ${starts.length}: ${JSON.stringify(ev)}`);
    const gap1 = (starts[1]! - starts[0]!) / 1000;
    const gap2 = (starts[2]! - starts[1]!) / 1000;
    assert.ok(gap1 >= 0.99 && gap1 < 1.9, `${r.name}: 2nd start ${gap1} s after the 1st`);
    assert.ok(gap2 >= 1.99 && gap2 < 2.9, `${r.name}: 3rd start ${gap2} s after the 2nd`);
    assert.equal(ev.filter((e) => r.exitEvent.test(e)).length, 3, `${r.name}: each failure logged: ${JSON.stringify(ev)}`);
    assert.equal(r.d.stderr, '', `${r.name}: a failure after a good start is the log's business, not a start-up error`);
    const restarts = ev.filter((e) => e.startsWith('restarting '));
    assert.deepEqual(restarts, [`restarting ${r.tcpdump} in 1 s`, `restarting ${r.tcpdump} in 2 s`, `restarting ${r.tcpdump} in 4 s`]);
    // Each start is followed by its failure, then the restart notice.
    assert.deepEqual(
      ev.slice(0, 3).map((e) => e.split(' ')[0]),
      ['starting', ev[1]!.startsWith('cannot') ? 'cannot' : r.tcpdump, 'restarting'],
    );
  }
  assert.ok(events(parseLog(readText(runs[1]!.log))).some((e) => /^cannot run .*tcpdump-vanished: .*ENOENT/.test(e)), 'vanished: the missing binary is retried too');
  // Stopping during the backoff wait is immediate.
  for (const r of runs) r.d.signal('SIGTERM');
  for (const r of runs) {
    const st = await r.d.waitExit(2000);
    assert.deepEqual(st, { code: 0, signal: null }, `${r.name}: ${r.d.stderr}`);
    assert.equal(fs.existsSync(r.pidfile), false);
    assert.equal(events(parseLog(readText(r.log))).at(-1), 'exiting');
  }
});

test('a first run that fails before a good start ends the daemon: why, in one line on stderr and in the log; a sysexits status; no restart', async (t) => {
  const tcpdump = findTcpdump(t);
  if (!tcpdump) return;
  const s = sandbox(t, 'startfail');
  const notADir = s.path('not-a-dir');
  fs.writeFileSync(notADir, '');
  const install = /; install tcpdump \(Debian, Ubuntu: apt-get install tcpdump; it is in the base system of FreeBSD and OpenBSD\) or give its path with --tcpdump$/;
  const cases: { name: string; args: string[]; code: number; line: RegExp }[] = [
    { name: 'no such interface', args: ['-i', 'nosuchif'], code: 69, line: /^\S*tcpdump failed at start, not restarting: tcpdump: nosuchif: No such device exists \(exit status 1\)$/ },
    { name: 'no such interface, text relay', args: [...TEXT_RELAY, '-i', 'nosuchif'], code: 69, line: /^\S*tcpdump failed at start, not restarting: tcpdump: nosuchif: No such device exists/ },
    { name: 'a filter typo', args: ['-i', 'lo', '--', 'tcp and prot 22'], code: 64, line: /^\S*tcpdump rejected the filter expression: tcpdump: syntax error in filter expression \(exit status 1\)$/ },
    { name: 'a silent exit', args: ['--tcpdump', s.script('tcpdump-silent', 'exit 1')], code: 69, line: /^.*tcpdump-silent failed at start, not restarting: exit status 1$/ },
    { name: 'missing tcpdump, with an expression', args: ['--tcpdump', '/nonexistent/tcpdump', '-i', 'lo', '--', 'tcp'], code: 69, line: /^cannot run \/nonexistent\/tcpdump: .*ENOENT.*; install tcpdump/ },
    { name: 'unrunnable tcpdump', args: ['--tcpdump', path.join(notADir, 'tcpdump')], code: 69, line: /^cannot run .*not-a-dir\/tcpdump: .*ENOTDIR/ },
    { name: '-r of a missing file (read here)', args: ['-r', s.path('missing.pcap')], code: 66, line: /^.*missing\.pcap: no such file or directory \(ENOENT\)$/ },
    { name: '-r of a missing file (tcpdump)', args: [...TEXT_RELAY, '-r', s.path('missing.pcap')], code: 66, line: /^\S*tcpdump could not read .*missing\.pcap: tcpdump: .*missing\.pcap: No such file or directory \(exit status 1\)$/ },
  ];
  for (const c of cases) {
    const log = s.path(`${c.name.replace(/\W+/g, '-')}.log`);
    const pidfile = s.path('start.pid');
    const r = await s.run(['-u', '', '-f', log, '-p', pidfile, ...(c.args.includes('--tcpdump') ? [] : ['--tcpdump', tcpdump]), ...c.args], { files: false });
    assert.equal(r.code, c.code, `${c.name}: exit status; stderr ${r.stderr}`);
    const m = /^pfasciilogd: ([\x20-\x7e]+)\n$/.exec(r.stderr);
    assert.ok(m, `${c.name}: one printable line on stderr, not ${JSON.stringify(r.stderr)}`);
    assert.match(m[1]!, c.line, c.name);
    if (/ENOENT/.test(m[1]!) && /cannot run/.test(m[1]!)) assert.match(m[1]!, install, `${c.name}: says how to install tcpdump`);
    const ev = events(parseLog(readText(log), log));
    assert.ok(ev.includes(m[1]!), `${c.name}: the same line in the log: ${JSON.stringify(ev)}`);
    assert.ok(!ev.some((e) => e.startsWith('restarting')), `${c.name}: not restarted`);
    assert.equal(ev.at(-1), 'exiting');
    assert.equal(fs.existsSync(pidfile), false, `${c.name}: pidfile removed`);
  }
});

test('npm start without tcpdump: -r with the native decoder and no expression is read by the daemon itself, as `read` does', async (t) => {
  const s = sandbox(t, 'demo');
  const demo = new URL('../../../demo/pflog.pcap', import.meta.url).pathname;
  // PATH with node and nothing else: no tcpdump to find
  const bin = s.path('bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const r = await s.run(['-u', '', '-r', demo], { env: { PATH: bin } });
  assert.deepEqual([r.code, r.signal], [0, null], r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(fs.existsSync(s.pidfile), false);
  const lines = s.lines();
  const read = spawnSync(process.execPath, [new URL('../../bin/pfasciilogd.js', import.meta.url).pathname, 'read', demo], { encoding: 'latin1' });
  assert.equal(read.status, 0, read.stderr);
  const expected = read.stdout.split('\n').filter((l) => l !== '');
  assert.ok(expected.length > 10);
  assert.deepEqual(lines.filter((l) => !l.payload.startsWith('pfasciilogd: ')).map((l) => `${l.stamp} ${l.payload}`), expected, 'the same lines as read, stamps and all');
  assert.deepEqual(events(lines), [`reading ${demo}`, `finished reading ${demo}`, 'exiting']);
});

test('a tcpdump killed by a signal is logged with the signal, and restarted', async (t) => {
  const s = sandbox(t, 'sigkill');
  const fake = s.fake('sigkill');
  const d = s.start([...TEXT_RELAY, '--tcpdump', fake]);
  const lines = await s.waitForLine(/^pfasciilogd: restarting /);
  const ev = events(lines);
  assert.ok(payloads(lines).includes('about to be killed'));
  assert.ok(ev.includes(`${fake} killed by signal SIGKILL`), JSON.stringify(ev));
  assert.ok(ev.includes(`restarting ${fake} in 1 s`), JSON.stringify(ev));
  await stopAndCheck(s, d);
});

test('SIGTERM: tcpdump gets TERM, then KILL after 2 s if it ignores it; the daemon exits 0', async (t) => {
  const s = sandbox(t, 'trapterm');
  const fake = s.fake('trapterm');
  const d = s.start([...TEXT_RELAY, '--tcpdump', fake]);
  await s.waitForLine(/^ready$/);
  const [fakePid] = s.fakePids();
  assert.ok(fakePid !== undefined && isFakeRunning(fakePid));
  const t0 = Date.now();
  const lines = await stopAndCheck(s, d, 'SIGTERM', 8000);
  const took = Date.now() - t0;
  assert.ok(took >= 1900 && took < 5000, `stopped after ${took} ms, expected about 2 s`);
  const p = payloads(lines);
  assert.ok(p.includes('ignoring SIGTERM'), 'TERM reached tcpdump, and what it printed then was written');
  assert.ok(events(lines).includes(`${fake} killed by signal SIGKILL`), JSON.stringify(events(lines)));
  assert.equal(isFakeRunning(fakePid), false);
});

test('SIGINT: everything tcpdump wrote, to its last unterminated bytes, is in the log', async (t) => {
  const s = sandbox(t, 'lastwords');
  const fake = s.fake('lastwords');
  const d = s.start([...TEXT_RELAY, '--tcpdump', fake]);
  await s.waitForLine(/^line 2$/);
  await s.waitForLine(/^err 1$/);
  const lines = await stopAndCheck(s, d, 'SIGINT', 3000);
  const p = payloads(lines);
  for (const want of ['line 1', 'line 2', 'err 1', 'err tail', 'out tail continued', 'final 1', 'final 2', 'unterminated at exit']) {
    assert.equal(p.filter((x) => x === want).length, 1, `"${want}" once in ${JSON.stringify(p)}`);
  }
  assert.ok(p.indexOf('final 1') < p.indexOf('final 2') && p.indexOf('final 2') < p.indexOf('unterminated at exit'));
  const ev = events(lines);
  assert.ok(ev.includes(`${fake} exited with status 0`), JSON.stringify(ev));
  assert.ok(ev.indexOf('caught signal SIGINT') < ev.indexOf(`${fake} exited with status 0`));
});

// ---------------------------------------------------------------------------
// Pidfile

test('a second instance refuses to start, names the running pid, and changes nothing', async (t) => {
  const s = sandbox(t, 'pidfile');
  const fake = s.fake('argv');
  const a = s.start([...TEXT_RELAY, '--tcpdump', fake]);
  await s.waitForLine(/^argv /);
  assert.equal(s.readPidfile(), a.pid);
  const pidStat = fs.statSync(s.pidfile);
  const logBefore = readText(s.log);
  const otherLog = s.path('other.log');
  for (const log of [otherLog, s.log]) {
    const r = await s.run(['-f', log, '-p', s.pidfile, ...TEXT_RELAY, '--tcpdump', fake], { files: false });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `pfasciilogd: already running as pid ${a.pid} (pidfile ${s.pidfile})\n`);
  }
  assert.equal(fs.existsSync(otherLog), false, 'the second instance created no log');
  assert.equal(readText(s.log), logBefore, 'nor wrote to the running one');
  const after = fs.statSync(s.pidfile);
  assert.equal(s.readPidfile(), a.pid);
  assert.equal(after.ino, pidStat.ino);
  assert.equal(after.mtimeMs, pidStat.mtimeMs);
  assert.deepEqual(fs.readdirSync(s.dir).sort(), ['fake-pids', 'pf.log', 'pfasciilogd.pid', 'tcpdump-argv'], 'no stray temporary files');
  assert.equal(s.fakePids().length, 1, 'the second instance started no tcpdump');
  await stopAndCheck(s, a);
});

test('a stale pidfile (a dead pid) is replaced', async (t) => {
  const s = sandbox(t, 'stale');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  fs.writeFileSync(s.pidfile, `${dead.stdout}\n`);
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('argv')]);
  await s.waitForLine(/^argv /);
  assert.equal(s.readPidfile(), d.pid);
  await stopAndCheck(s, d);
});

test('a stale pidfile naming a live process that is not pfasciilogd (pid 1, as after a crash and pid reuse) is replaced', async (t) => {
  const s = sandbox(t, 'reused');
  fs.writeFileSync(s.pidfile, '1\n');
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('argv')]);
  await s.waitForLine(/^argv /);
  assert.equal(s.readPidfile(), d.pid);
  await stopAndCheck(s, d);
});

test('a pidfile that is a symlink: refused with exit 73, the link and its target untouched, no tcpdump', async (t) => {
  const s = sandbox(t, 'pidlink');
  const target = s.path('precious');
  fs.writeFileSync(target, 'precious\n');
  fs.symlinkSync(target, s.pidfile);
  const r = await s.run([...TEXT_RELAY, '--tcpdump', s.fake('argv')]);
  assert.equal(r.code, 73, r.stderr);
  assert.equal(r.stderr, `pfasciilogd: pidfile ${s.pidfile} is a symbolic link, not a regular file; refusing to replace it (remove it, or pass -p with another path)\n`);
  assert.equal(readText(target), 'precious\n');
  assert.equal(fs.lstatSync(s.pidfile).isSymbolicLink(), true);
  assert.deepEqual(s.fakePids(), [], 'no tcpdump started');
});

// ---------------------------------------------------------------------------
// The log file

test('a hard link at the log path: refused at start with exit 73, the other file neither written nor chmodded', async (t) => {
  const s = sandbox(t, 'hardlink');
  const secret = s.path('secret');
  fs.writeFileSync(secret, 'secret\n');
  fs.chmodSync(secret, 0o600);
  fs.linkSync(secret, s.log);
  const r = await s.run([...TEXT_RELAY, '--tcpdump', s.fake('argv')]);
  assert.equal(r.code, 73, r.stderr);
  assert.equal(r.stderr, `pfasciilogd: cannot open log: ${s.log}: has 2 links (a hard link to another file); refusing to write through it\n`);
  assert.equal(readText(secret), 'secret\n');
  assert.equal(mode(secret), 0o600);
  assert.equal(fs.existsSync(s.pidfile), false);
  assert.deepEqual(s.fakePids(), [], 'no tcpdump started');
});

test('SIGUSR1 and SIGHUP only reopen the log: no inspector, same process, new files 0640; SIGALRM is ignored', async (t) => {
  const s = sandbox(t, 'reopen');
  const kept = '2023-05-01T01:48:13.748353+02:00 kept from before\n';
  fs.writeFileSync(s.log, kept, { mode: 0o644 });
  fs.chmodSync(s.log, 0o644);
  const inspectorBefore = await canConnect(9229);
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('argv')]);
  await s.waitForLine(/^argv /);
  assert.equal(mode(s.log), 0o644, 'an existing log keeps its mode: the daemon did not create it');
  assert.ok(readText(s.log).startsWith(kept), 'and appended to');

  fs.renameSync(s.log, `${s.log}.0`);
  d.signal('SIGUSR1');
  const reopened = await s.waitForLine(/^pfasciilogd: log reopened$/);
  assert.equal(payloads(reopened)[0], 'pfasciilogd: log reopened', 'the new file starts with the event');
  assert.equal(mode(s.log), 0o640);
  await sleep(300); // time an inspector would need to come up
  assert.ok(d.running, 'still running after SIGUSR1');
  assert.doesNotMatch(d.stderr, /Debugger listening/);
  if (!inspectorBefore) assert.equal(await canConnect(9229), false, 'no inspector port opened');
  else t.diagnostic('something else listens on 127.0.0.1:9229; only the stderr check applies');

  // SIGALRM (OpenBSD's rc.subr may send it under rc_bg) does not kill it either.
  d.signal('SIGALRM');
  await sleep(100);
  assert.ok(d.running, 'still running after SIGALRM');

  fs.renameSync(s.log, `${s.log}.1`);
  d.signal('SIGHUP');
  await s.waitForLine(/^pfasciilogd: log reopened$/);
  assert.ok(d.running);
  const lines = await stopAndCheck(s, d);
  assert.equal(payloads(lines)[0], 'pfasciilogd: log reopened');
  assert.deepEqual(payloads(parseLog(readText(`${s.log}.1`))), ['pfasciilogd: log reopened']);
  assert.ok(readText(`${s.log}.0`).startsWith(kept));
  assert.equal(d.stderr, '');
});

test('rotation under load: every line exactly once, in order, none split', async (t) => {
  const s = sandbox(t, 'rotate');
  const count = 30000;
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('numbered', { FAKE_COUNT: count, FAKE_PER_TICK: 20 })]);
  const rotated: string[] = [];
  for (let k = 0; k < 6; k++) {
    const lines = await s.waitForLine(/^(seq \d+ |done$)/, 10_000);
    if (lines.some((l) => l.payload === 'done')) break; // the stream is over: nothing more to rotate under
    const name = `${s.log}.${k}`;
    fs.renameSync(s.log, name);
    rotated.push(name);
    d.signal(k % 2 === 0 ? 'SIGHUP' : 'SIGUSR1');
    await waitFor('the new log', () => fs.existsSync(s.log), 5000);
    await sleep(60);
  }
  await s.waitForLine(/^done$/, 20_000);
  await stopAndCheck(s, d);

  const seqs: number[] = [];
  let midStream = 0;
  for (const file of [...rotated, s.log]) {
    const lines = parseLog(readText(file), file); // throws on any split or malformed line
    if (file !== rotated[0]) assert.equal(lines[0]?.payload, 'pfasciilogd: log reopened', `${file} starts with the reopen event`);
    let here = 0;
    for (const l of lines) {
      const m = /^seq (\d+) (x*)$/.exec(l.payload);
      if (!m) continue;
      const n = Number(m[1]);
      assert.equal(m[2]!.length, (n * 7919) % 61, `line ${n} is whole`);
      seqs.push(n);
      here++;
    }
    if (here > 0 && file !== s.log) midStream++;
  }
  assert.ok(midStream >= 3, `rotations happened while lines were flowing (${midStream} rotated files with lines)`);
  assert.equal(seqs.length, count, 'no line lost or doubled');
  for (let i = 0; i < count; i++) if (seqs[i] !== i + 1) assert.fail(`line ${i + 1} out of order: got ${seqs[i]}`);
});

test('an idle line is in the file within 20 ms', async (t) => {
  const s = sandbox(t, 'latency');
  const count = 12;
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('tick', { FAKE_COUNT: count, FAKE_INTERVAL_MS: 80 })]);
  const seen = new Map<number, number>();
  const deadline = Date.now() + 10_000;
  let offset = 0;
  let partial = '';
  while (seen.size < count && Date.now() < deadline) {
    // Read only what is new, every millisecond or so.
    const fd = fs.openSync(s.log, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o640);
    const buf = Buffer.alloc(65536);
    const n = fs.readSync(fd, buf, 0, buf.length, offset);
    fs.closeSync(fd);
    const now = Date.now();
    if (n > 0) {
      offset += n;
      const text = partial + buf.subarray(0, n).toString('latin1');
      const cut = text.lastIndexOf('\n') + 1;
      partial = text.slice(cut);
      for (const m of text.slice(0, cut).matchAll(/ tick (\d+) (\d+)\n/g)) seen.set(Number(m[1]), now - Number(m[2]));
    }
    await sleep(1);
  }
  assert.equal(seen.size, count, 'every tick arrived');
  const latencies = [...seen.entries()].filter(([n]) => n > 2).map(([, ms]) => ms).sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)]!;
  t.diagnostic(`latencies (ms): ${latencies.join(' ')}`);
  assert.ok(median < 20, `median latency ${median} ms`);
  await stopAndCheck(s, d);
});

test('odd bytes come out escaped tcpdump-style; a line over 64 KiB keeps its head at once, its rest is dropped', async (t) => {
  const s = sandbox(t, 'odd');
  const d = s.start([...TEXT_RELAY, '--tcpdump', s.fake('odd')]);
  // The long run has no newline, yet a cut piece of it appears while tcpdump still runs.
  await s.waitForLine(/^L{65536,}$/, 5000);
  const lines = await s.waitForLine(/^stderr /, 5000); // another pipe: it may come later
  assert.ok(d.running);
  assert.ok(isFakeRunning(s.fakePids()[0]!), 'the fake is still running: the cut did not wait for its exit');
  const want = ['ctl ^A^B^[[31mred^[[0m end', 'utf8 cafM-CM-) M-bM-^BM-,', 'cr a^Mb^M', 'del ^? nul ^@ ff M-^?', 'vt ^K ff ^L'];
  const p = payloads(lines).filter((x) => !x.startsWith('pfasciilogd: ') && !x.startsWith('L'));
  assert.deepEqual(p.filter((x) => !x.startsWith('stderr')), want);
  assert.deepEqual(p.filter((x) => x.startsWith('stderr')), ['stderr ^[]0;title^G']);

  const all = await stopAndCheck(s, d);
  const raw = fs.readFileSync(s.log);
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x0a && (c < 0x20 || c > 0x7e)) assert.fail(`raw byte 0x${c.toString(16)} at offset ${i} of the log`);
  }
  const ls = payloads(all).filter((x) => /^L+$/.test(x));
  assert.deepEqual(
    ls.map((x) => x.length),
    [65536],
    'cut at 64 KiB while running; the rest is never a line of its own',
  );
  assert.ok(
    payloads(all).includes(`pfasciilogd: tcpdump stdout: 1 line longer than 65536 bytes: kept the first 65536 bytes, dropped the other ${70000 - 65536} (1 cut since start)`),
    'the dropped rest is counted when tcpdump ends',
  );
  assert.equal(all.length, readText(s.log).split('\n').length - 1, 'no extra lines');
});

// ---------------------------------------------------------------------------
// -r with the real tcpdump

function findTcpdump(t: TestContext): string | null {
  for (const p of ['/usr/bin/tcpdump', '/usr/sbin/tcpdump']) if (fs.existsSync(p)) return p;
  const reason = 'tcpdump is not installed (apt-get install tcpdump)';
  if (process.env.CI) assert.fail(`${reason}; it is required when CI is set`);
  console.log(`# skipping: ${reason}`);
  t.skip(reason);
  return null;
}

/** What tcpdump itself prints for a file, split into its stdout lines and its stderr. */
function tcpdumpSays(tcpdump: string, args: string[]): { lines: string[]; stderr: string } {
  const r = spawnSync(tcpdump, args, { encoding: 'latin1', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return { lines: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
}

test('-r with the real tcpdump: every packet stamped, exit 0, pidfile removed (text relay)', async (t) => {
  const tcpdump = findTcpdump(t);
  if (!tcpdump) return;
  const s = sandbox(t, 'readfile');
  const pcap = s.path('capture.pcap');
  fs.writeFileSync(pcap, pcapFile(demoFrames()));
  const direct = tcpdumpSays(tcpdump, ['-t', '-l', '-e', '-n', '-r', pcap]);
  assert.equal(direct.lines.length, demoFrames().length);

  const r = await s.run([...TEXT_RELAY, '--tcpdump', tcpdump, '-u', '', '-r', pcap]);
  assert.deepEqual([r.code, r.signal], [0, null], r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(fs.existsSync(s.pidfile), false);
  assert.equal(mode(s.log), 0o640);
  const lines = s.lines();
  const packetLines = payloads(lines).filter((p) => !p.startsWith('pfasciilogd: ') && !p.startsWith('reading from file'));
  assert.deepEqual(packetLines, direct.lines, 'each packet line once, as tcpdump prints it, in order');
  assert.ok(payloads(lines).some((p) => p.startsWith(`reading from file ${pcap}`)), "tcpdump's stderr is logged too");
  const ev = events(lines);
  assert.equal(ev[0], `starting ${tcpdump} -t -l -e -n -r ${pcap}`);
  assert.deepEqual(ev.slice(-2), [`${tcpdump} exited with status 0`, 'exiting']);
  assert.ok(!ev.some((e) => e.startsWith('restarting')), 'no respawn after -r');
});

test('-r with the real tcpdump: an expression filters, as separate words; -Z nobody works', async (t) => {
  const tcpdump = findTcpdump(t);
  if (!tcpdump) return;
  const s = sandbox(t, 'readfilter');
  const pcap = s.path('capture.pcap');
  fs.writeFileSync(pcap, pcapFile(demoFrames()));
  fs.chmodSync(s.dir, 0o755); // readable after tcpdump drops to nobody
  const expr = ['tcp', 'and', 'dst', 'port', '22'];
  const direct = tcpdumpSays(tcpdump, ['-t', '-l', '-e', '-n', '-r', pcap, ...expr]);
  assert.ok(direct.lines.length >= 1 && direct.lines.length < demoFrames().length, 'the filter selects some packets');
  const args = [...TEXT_RELAY, '--tcpdump', tcpdump, '-r', pcap, '--', ...expr];
  if (process.getuid?.() !== 0) args.push('-u', ''); // only root can drop privileges
  const r = await s.run(args);
  assert.deepEqual([r.code, r.signal], [0, null], r.stderr);
  const packetLines = payloads(s.lines()).filter((p) => !p.startsWith('pfasciilogd: ') && !p.startsWith('reading from file'));
  assert.deepEqual(packetLines, direct.lines);
});

test('-r with the real tcpdump: an expression word that looks like a flag is not taken for one', async (t) => {
  const tcpdump = findTcpdump(t);
  if (!tcpdump) return;
  const s = sandbox(t, 'readdash');
  const pcap = s.path('capture.pcap');
  fs.writeFileSync(pcap, pcapFile(demoFrames()));
  const written = s.path('written.pcap');
  // GNU getopt permutes: without a "--" tcpdump would take -w for its own flag and write a file.
  const r = await s.run([...TEXT_RELAY, '--tcpdump', tcpdump, '-u', '', '-r', pcap, '--', 'tcp', '-w', written]);
  assert.equal(fs.existsSync(written), false, 'tcpdump took an expression word for -w');
  assert.equal(r.code, 64, 'tcpdump rejects the expression instead: a usage error');
  assert.match(r.stderr, /^pfasciilogd: \S*tcpdump rejected the filter expression: .*syntax error/);
  assert.match(payloads(s.lines()).join('\n'), /syntax error/);
});

test('-r with the native decoder (the default): each packet stamped with its capture time', async (t) => {
  const tcpdump = findTcpdump(t);
  if (!tcpdump) return;
  const s = sandbox(t, 'readnative');
  const pcap = s.path('capture.pcap');
  const start = 1682898493;
  fs.writeFileSync(pcap, pcapFile(demoFrames(), { startSec: start }));
  const direct = tcpdumpSays(tcpdump, ['-t', '-l', '-e', '-n', '-r', pcap]);
  const r = await s.run(['--tcpdump', tcpdump, '-u', '', '-r', pcap]);
  assert.deepEqual([r.code, r.signal], [0, null], r.stderr);
  assert.equal(fs.existsSync(s.pidfile), false);
  const lines = s.lines().filter((l) => !l.payload.startsWith('pfasciilogd: ') && !l.payload.startsWith('reading from file'));
  assert.equal(lines.length, direct.lines.length, JSON.stringify(payloads(lines)));
  lines.forEach((l, i) => assert.equal(l.stamp, formatStamp(start + i, 748353), `packet ${i} stamp`));
  // The native decoder prints what fail2ban matches (rule, action, interface,
  // addresses and ports) as tcpdump does; protocol details after that may differ.
  const head = (line: string) => line.split(': ').slice(0, 3).join(': ');
  assert.deepEqual(payloads(lines).map(head), direct.lines.map(head));
});

test('-r: a missing capture file or tcpdump ends the daemon with a sysexits status, no respawn', async (t) => {
  const tcpdump = findTcpdump(t);
  if (!tcpdump) return;
  const s = sandbox(t, 'readfail');
  const r = await s.run([...TEXT_RELAY, '--tcpdump', tcpdump, '-u', '', '-r', s.path('missing.pcap')]);
  assert.equal(r.code, 66, 'EX_NOINPUT');
  assert.match(r.stderr, /^pfasciilogd: .*could not read .*missing\.pcap: .*No such file or directory/);
  assert.equal(fs.existsSync(s.pidfile), false);
  let ev = events(s.lines());
  assert.ok(ev.includes(`${tcpdump} exited with status 1`), JSON.stringify(ev));
  assert.ok(!ev.some((e) => e.startsWith('restarting')));

  fs.rmSync(s.log);
  const r2 = await s.run([...TEXT_RELAY, '--tcpdump', '/nonexistent/tcpdump', '-r', s.path('missing.pcap')]);
  assert.equal(r2.code, 69, 'EX_UNAVAILABLE');
  assert.match(r2.stderr, /^pfasciilogd: cannot run \/nonexistent\/tcpdump: .*ENOENT.*apt-get install tcpdump/);
  assert.equal(fs.existsSync(s.pidfile), false);
  ev = events(s.lines());
  assert.match(ev.join('\n'), /cannot run \/nonexistent\/tcpdump: .*ENOENT/);
  assert.equal(ev.at(-1), 'exiting');
});

// Make sure the built entry point exists before anything else is blamed.
test('the daemon entry point is built and executable', () => {
  const main = new URL('../../bin/pfasciilogd.js', import.meta.url);
  fs.accessSync(main, fs.constants.X_OK);
  assert.match(execFileSync(process.execPath, [main.pathname, '-V'], { encoding: 'utf8' }), /^pfasciilogd \d/);
});
