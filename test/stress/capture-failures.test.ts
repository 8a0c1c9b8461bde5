// Capture failures: six daemons side by side, each with a tcpdump that fails
// its own way, for the first 60 s of constant failure; then the fault is
// repaired (a flag file the fake scripts look for; the missing binary
// appears) and lines must flow again.
//
// Each fake has made a good start first (its "listening on" line, or output
// on stdout), as an interface that goes away after boot would: a FIRST run
// that fails before any such sign ends the daemon instead (daemon.test.ts).
//
//   missing      starts well once, then removes itself: --tcpdump names a
//                file that does not exist
//   exit1        says it listens, then why it failed, and exits 1 at once
//   signal       says it listens, then why, and is killed by SIGKILL
//   junk-text    prints binary junk (control characters, CR, NUL, UTF-8
//                line separators, text shaped like log lines) in the text
//                relay (--decoder tcpdump), then exits
//   junk-native  the same junk for the native decoder, which wants pcap
//   hang         prints nothing, ignores SIGTERM, never exits
//
// The daemon must never spin (at most 7 starts in 60 s: the backoff is 1, 2,
// 4, 8, 16, 32 s, so 6), log each exit with its status or signal and
// tcpdump's stderr, escape junk to printable ASCII without ever making more
// lines than the junk had newlines, and stop a hanging tcpdump on SIGTERM
// (TERM, then KILL 2 s later).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Daemon, Sandbox, TEXT_RELAY, events, isFakeRunning, parseLog, readText, sleep, stampMs, waitFor, type LogLine } from '../support/daemon-harness.js';
import { pcapFile } from '../support/capture-builder.js';
import { demoFrames } from '../support/demo-capture.js';
import { prng } from '../support/prng.js';
import { escapeBytes } from '../../src/format/escape.js';

const FAILURE_MS = 60_000;
const MAX_STARTS = 7;
const STDERR_LINE = 'tcpdump: pflog0: That device is not up';
/** what tcpdump says once it has opened the interface: a good start */
const LISTENING_LINE = 'tcpdump: listening on pflog0, link-type PFLOG (OpenBSD pflog file), snapshot length 262144 bytes';

/** Deterministic junk: random bytes, the control characters and separators that could split a line, and fake log lines. */
function junkBytes(): Buffer {
  const rand = prng(0x7cd0);
  const hostile = [
    '\r',
    '\x1b[2J\x1b[H',
    '\x00',
    '\x7f',
    '\x0b\x0c',
    '\xe2\x80\xa8', // U+2028 LINE SEPARATOR in UTF-8
    '\xc2\x85', // U+0085 NEXT LINE in UTF-8
    '\xff\xfe',
    '2026-11-25T00:00:00.000000+00:00 rule 1/0(match): block in on em0: 6.6.6.6.1 > 1.2.3.4.22: Flags [S]',
    '\r2026-11-25T00:00:00.000000+00:00 pfasciilogd: exiting',
  ];
  const parts: Buffer[] = [];
  for (let i = 0; i < 60; i++) {
    const random = Buffer.alloc(Math.floor(rand() * 50));
    for (let j = 0; j < random.length; j++) random[j] = Math.floor(rand() * 256);
    parts.push(random, Buffer.from(hostile[i % hostile.length]!, 'latin1'));
    if (rand() < 0.6) parts.push(Buffer.from('\n'));
  }
  parts.push(Buffer.from('an unterminated tail \x1b]0;x\x07', 'latin1'));
  return Buffer.concat(parts);
}

interface Kind {
  name: string;
  /** the --tcpdump path */
  tcpdump: string;
  args: string[];
  /** how each failed run's end is logged */
  exitEvent: RegExp;
  /** tcpdump's stderr message, logged once per failed run */
  stderr: boolean;
  /** a line the repaired tcpdump prints last */
  recovered: (lines: LogLine[]) => boolean;
  d?: Daemon;
}

test('capture failures: no spinning, every exit and stderr logged, junk escaped, TERM stops a hang, recovery', { timeout: 150_000 }, async (t) => {
  const box = new Sandbox('capfail');
  t.after(() => box.cleanup());
  const flag = box.path('works');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const junk = junkBytes();
  fs.writeFileSync(box.path('junk.bin'), junk);
  const frames = demoFrames();
  fs.writeFileSync(box.path('good.pcap'), pcapFile(frames));

  const goodText = box.fake('numbered', { FAKE_COUNT: 50, FAKE_PER_TICK: 10 }, 'tcpdump-good');
  const goodPcap = box.fake('pcap', { FAKE_PCAP: box.path('good.pcap') }, 'tcpdump-good-pcap');
  /** A fake that fails with `body` until the flag file exists, then is the working one. */
  const failing = (name: string, good: string, body: string) => box.script(name, `if [ -e ${q(flag)} ]; then exec ${q(good)} "$@"; fi\n${body}`);
  const junkBody = `cat ${q(box.path('junk.bin'))}\necho ${q(STDERR_LINE)} >&2\nexit 3`;
  const textDone = (lines: LogLine[]) => lines.some((l) => l.payload === 'done');
  const nativeDone = (lines: LogLine[]) => lines.filter((l) => l.payload.startsWith('rule ')).length === frames.length;

  const listening = `echo ${q(LISTENING_LINE)} >&2`;
  // there at the first start, gone from the second on (rm: the first run's own file)
  const missing = box.script('tcpdump-missing', `${listening}\nrm -f -- "$0"\nexit 1`);
  const kinds: Kind[] = [
    { name: 'missing', tcpdump: missing, args: TEXT_RELAY, exitEvent: /^cannot run .*tcpdump-missing: .*ENOENT|tcpdump-missing exited with status 1$/, stderr: false, recovered: textDone },
    {
      name: 'exit1',
      tcpdump: failing('tcpdump-exit1', goodText, `${listening}\necho ${q(STDERR_LINE)} >&2\nexit 1`),
      args: TEXT_RELAY,
      exitEvent: /tcpdump-exit1 exited with status 1$/,
      stderr: true,
      recovered: textDone,
    },
    {
      name: 'signal',
      tcpdump: failing('tcpdump-signal', goodText, `${listening}\necho ${q(STDERR_LINE)} >&2\nkill -KILL $$`),
      args: TEXT_RELAY,
      exitEvent: /tcpdump-signal killed by signal SIGKILL$/,
      stderr: true,
      recovered: textDone,
    },
    { name: 'junk-text', tcpdump: failing('tcpdump-junk-text', goodText, junkBody), args: TEXT_RELAY, exitEvent: /tcpdump-junk-text exited with status 3$/, stderr: true, recovered: textDone },
    { name: 'junk-native', tcpdump: failing('tcpdump-junk-native', goodPcap, junkBody), args: [], exitEvent: /tcpdump-junk-native exited with status 3$/, stderr: true, recovered: nativeDone },
  ];
  const hang = box.fake('hang');
  const logOf = (name: string) => box.path(`${name}.log`);
  for (const k of kinds) k.d = box.start([...k.args, '-u', '', '--tcpdump', k.tcpdump, '-f', logOf(k.name), '-p', box.path(`${k.name}.pid`)], { files: false });
  const hangDaemon = box.start([...TEXT_RELAY, '-u', '', '--tcpdump', hang, '-f', logOf('hang'), '-p', box.path('hang.pid')], { files: false });

  const startsOf = (lines: LogLine[], tcpdump: string) => lines.filter((l) => l.payload.startsWith(`pfasciilogd: starting ${tcpdump} `)).map((l) => stampMs(l.stamp));
  const firstStart = new Map<string, number>();
  for (const k of [...kinds.map((k) => k.name), 'hang']) {
    const lines = await box.waitForLine(/^pfasciilogd: starting /, 10_000, logOf(k));
    firstStart.set(k, stampMs(lines.find((l) => l.payload.startsWith('pfasciilogd: starting '))!.stamp));
  }
  // The failure phase: 60 s from the last of the first starts.
  await sleep(Math.max(...firstStart.values()) + FAILURE_MS - Date.now());
  // never spinning: counted now, before anything is repaired
  const startsInWindow = new Map<string, number>();
  for (const k of kinds) {
    const lines = parseLog(readText(logOf(k.name)), `${k.name} log`);
    const starts = startsOf(lines, k.tcpdump).filter((s) => s - firstStart.get(k.name)! < FAILURE_MS);
    assert.ok(starts.length <= MAX_STARTS, `${k.name}: ${starts.length} starts in the first 60 s (at most ${MAX_STARTS}): ${JSON.stringify(events(lines))}`);
    assert.ok(starts.length >= 5, `${k.name}: kept retrying (${starts.length} starts in 60 s)`);
    startsInWindow.set(k.name, starts.length);
  }
  const repairedAt = Date.now();
  fs.writeFileSync(flag, '');
  fs.writeFileSync(`${missing}.tmp`, `#!/bin/sh\nexec ${q(goodText)} "$@"\n`, { mode: 0o755 });
  fs.renameSync(`${missing}.tmp`, missing);

  // The hanging tcpdump: one start in all that time, and TERM still stops the daemon (TERM, KILL after 2 s).
  const hangLines = parseLog(readText(logOf('hang')), 'hang log');
  assert.equal(startsOf(hangLines, hang).length, 1, `hang: one start, not a restart loop: ${JSON.stringify(events(hangLines))}`);
  assert.ok(hangDaemon.running, `hang: the daemon still runs; stderr: ${hangDaemon.stderr}`);
  const termAt = Date.now();
  hangDaemon.signal('SIGTERM');
  const hangStop = hangDaemon.waitExit(8000).then((st) => ({ st, ms: Date.now() - termAt }));

  // Every other one recovers at its next start (63 s after its first).
  const report: string[] = [];
  for (const k of kinds) {
    const lines = await waitFor(`${k.name} to recover`, () => {
      const text = readText(logOf(k.name));
      if (!text.endsWith('\n')) return undefined;
      const l = parseLog(text, `${k.name} log`);
      return k.recovered(l) ? l : undefined;
    }, 15_000, 20);
    const recoveredAt = Date.now();
    const d = k.d!;
    assert.ok(d.running, `${k.name}: the daemon keeps running; stderr: ${d.stderr}`);
    assert.equal(d.stderr, '', `${k.name}: nothing on the daemon's own stderr`);
    const ev = events(lines);
    const starts = startsOf(lines, k.tcpdump);
    const t0 = starts[0]!;
    const inWindow = starts.filter((s) => s - t0 < FAILURE_MS);
    assert.equal(inWindow.length, startsInWindow.get(k.name));
    // every failed run: its exit logged, then the restart with the doubled delay
    const failedRuns = starts.length - 1;
    assert.ok(starts.length > inWindow.length, `${k.name}: a start after the repair`);
    const exits = ev.filter((e) => k.exitEvent.test(e));
    assert.equal(exits.length, failedRuns, `${k.name}: each of the ${failedRuns} failed runs logged: ${JSON.stringify(ev)}`);
    const delays = ev.filter((e) => e.startsWith('restarting ')).map((e) => Number(/ in (\d+) s$/.exec(e)?.[1]));
    assert.deepEqual(delays, [1, 2, 4, 8, 16, 32, 60].slice(0, failedRuns), `${k.name}: backoff doubles`);
    for (let i = 1; i < starts.length; i++) {
      const gap = (starts[i]! - starts[i - 1]!) / 1000;
      assert.ok(gap >= delays[i - 1]! * 0.99, `${k.name}: start ${i + 1} came ${gap} s after start ${i}, before the ${delays[i - 1]} s delay`);
    }
    const stderrLines = lines.filter((l) => l.payload === STDERR_LINE).length;
    assert.equal(stderrLines, k.stderr ? failedRuns : 0, `${k.name}: tcpdump's stderr logged once per failed run`);

    const isOther = (l: LogLine) => l.payload.startsWith('pfasciilogd: ') || l.payload === STDERR_LINE || l.payload === LISTENING_LINE || /^seq \d+ x*$|^done$|^rule /.test(l.payload);
    const junkLines = lines.filter((l) => !isOther(l)).map((l) => l.payload);
    if (k.name === 'junk-text') {
      // one line per line of junk (the tail too, when the run ends), each escaped, none split
      const expected = junk.toString('latin1').split('\n').map((s) => escapeBytes(Buffer.from(s, 'latin1')));
      assert.equal(junkLines.length, expected.length * failedRuns, `junk-text: ${expected.length} lines a run, ${failedRuns} runs`);
      for (let r = 0; r < failedRuns; r++) assert.deepEqual(junkLines.slice(r * expected.length, (r + 1) * expected.length), expected, `junk-text: run ${r + 1}`);
    } else assert.deepEqual(junkLines, [], `${k.name}: only events, tcpdump's stderr and the repaired run's lines`);
    if (k.name === 'junk-native') {
      const streamEvents = ev.filter((e) => e.startsWith('capture stream: '));
      assert.equal(streamEvents.length, failedRuns, `junk-native: the broken stream reported once a run: ${JSON.stringify(streamEvents)}`);
    }
    report.push(`${k.name}: ${inWindow.length} starts in 60 s, recovered ${((recoveredAt - repairedAt) / 1000).toFixed(1)} s after the repair`);
  }
  // raw bytes: nothing but printable ASCII and newlines in any log
  for (const name of [...kinds.map((k) => k.name), 'hang']) {
    const raw = fs.readFileSync(logOf(name));
    const bad = raw.findIndex((c) => c !== 0x0a && (c < 0x20 || c > 0x7e));
    assert.equal(bad, -1, `${name}: byte 0x${raw[bad]?.toString(16)} at offset ${bad}`);
  }

  const { st, ms } = await hangStop;
  assert.deepEqual(st, { code: 0, signal: null }, `hang: exit status; stderr ${hangDaemon.stderr}`);
  assert.ok(ms >= 1900 && ms < 3500, `hang: stopped ${ms} ms after TERM (TERM, then KILL after 2 s)`);
  const hangEv = events(parseLog(readText(logOf('hang'))));
  assert.deepEqual(hangEv.slice(-3), ['caught signal SIGTERM', `${hang} killed by signal SIGKILL`, 'exiting'], JSON.stringify(hangEv));
  report.push(`hang: 1 start in 60 s, stopped ${(ms / 1000).toFixed(2)} s after SIGTERM`);

  // stop the rest: exit 0, pidfiles gone, no tcpdump left
  for (const k of kinds) k.d!.signal('SIGTERM');
  for (const k of kinds) {
    assert.deepEqual(await k.d!.waitExit(5000), { code: 0, signal: null }, `${k.name}: ${k.d!.stderr}`);
    assert.equal(fs.existsSync(box.path(`${k.name}.pid`)), false, `${k.name}: pidfile removed`);
  }
  await sleep(100);
  for (const pid of box.fakePids()) assert.equal(isFakeRunning(pid), false, `fake tcpdump ${pid} left running`);
  for (const line of report) t.diagnostic(line);
});
