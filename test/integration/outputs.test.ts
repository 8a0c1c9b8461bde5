// Several outputs from one capture (-o FORMAT:PATH), with the real daemon:
// bad -o words are refused before anything is created; every output holds
// exactly what `pfasciilogd read` prints for its format (one decode, one
// rendering per format, --dedupe applied to all), through both ways the
// daemon gets packets (reading -r itself, and tcpdump's pcap stream); a
// rename of every output and HUP or USR1 reopens them all, no line lost,
// doubled or split; one output's directory removed leaves the other whole.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { MAIN_JS, Sandbox, TEXT_RELAY, parseLog, readText, waitFor } from '../support/daemon-harness.js';
import { interleave, oneport, probeCapture, scan } from '../support/scan-capture.js';

const sandbox = (t: TestContext, name: string) => Sandbox.for(t, name);

/** The daemon's own lines, in every format: "STAMP pfasciilogd: message". */
const EVENT = /^\S+ pfasciilogd: /;

/** The packet lines of an output (events left out), the filterlog PID made neutral (read's and the daemon's differ). */
function packetLines(text: string): string[] {
  assert.ok(text === '' || text.endsWith('\n'), `ends with a whole line: ${JSON.stringify(text.slice(-80))}`);
  return text
    .split('\n')
    .slice(0, -1)
    .filter((l) => !EVENT.test(l))
    .map((l) => l.replace(/ filterlog\[\d+\]: /, ' filterlog[PID]: '));
}

/** What `pfasciilogd read` prints for the capture in the given format. */
function readAs(capture: string, format: string, extra: string[] = []): string[] {
  const r = spawnSync(process.execPath, [MAIN_JS, 'read', '--format', format, ...extra, capture], { encoding: 'latin1', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return packetLines(r.stdout);
}

test('-o bad input (real process): one line on stderr, exit 64, no log, no pidfile', async (t) => {
  const s = sandbox(t, 'outputs-usage');
  const a = s.path('a.log');
  const f = ['-f', a, '-p', s.pidfile, '-r', '/dev/null'];
  const cases: string[][] = [
    [...f, '-o', `xml:${s.path('x.log')}`],
    [...f, '-o', 'json:'],
    [...f, '-o', s.path('nocolon.log')],
    [...f, '-o', `json:${a}`],
    [...f, '-o', `filterlog:${s.dir}/./sub/../a.log`],
    [...f, '-o', `json:${s.path('b.log')}`, '-o', `text:${s.dir}//b.log`],
    [...f, '-o', 'text:b.log', '-o', `filterlog:${s.path('b.log')}`], // relative to the daemon's cwd, the sandbox
    [...f, '--decoder', 'tcpdump', '-o', `json:${s.path('j.log')}`],
    [...f, '-o', `filterlog:${s.path('f.log')}`, '--decoder', 'tcpdump'],
  ];
  const results = await Promise.all(cases.map((args) => s.run(args, { files: false })));
  results.forEach((r, i) => {
    const what = JSON.stringify(cases[i]);
    assert.equal(r.code, 64, `${what}: exit status; stderr ${r.stderr}`);
    assert.match(r.stderr, /^pfasciilogd: -o[: ][\x20-\x7e]+ \(see pfasciilogd -h\)\n$/, `${what}: one printable line naming -o`);
  });
  assert.deepEqual(fs.readdirSync(s.dir), [], 'no log, no pidfile, nothing at all');
  assert.match(results[3]!.stderr, /the same file as -f /);
  assert.match(results[6]!.stderr, /the same file as -o text:b\.log/);
});

/** A capture of TCP and UDP scans and a client retrying one port (what --dedupe drops). */
function testCapture(s: Sandbox): string {
  const file = s.path('capture.pcap');
  const probes = interleave(scan('203.0.113.5', 40, 3, 1_700_000_000), oneport('198.51.100.9', 443, 50, 1_700_000_000.5), scan('203.0.113.6', 10, 1, 1_700_000_001));
  probes.forEach((p, i) => i % 3 === 0 && (p.proto = 'udp'));
  fs.writeFileSync(file, probeCapture(probes));
  return file;
}

for (const via of ['-r, read by the daemon itself', "tcpdump's pcap stream"] as const) {
  for (const dedupe of [[], ['--dedupe', '600']]) {
    test(`every output holds what read prints for its format (${via}${dedupe.length ? ', --dedupe 600' : ''}); two text outputs get the same bytes`, async (t) => {
      const s = sandbox(t, 'outputs-formats');
      const capture = testCapture(s);
      const out = { text: s.path('pf.log'), filterlog: s.path('filter.log'), json: s.path('pf.json'), text2: s.path('second:text.log') };
      const args = ['-u', '', '-f', out.text, '-p', s.pidfile, '-o', `filterlog:${out.filterlog}`, '-o', `json:${out.json}`, '-o', `text:${out.text2}`, ...dedupe];
      const expected = { text: readAs(capture, 'text', dedupe), filterlog: readAs(capture, 'filterlog', dedupe), json: readAs(capture, 'json', dedupe) };
      assert.ok(expected.text.length >= (dedupe.length ? 50 : 150), `the capture gives lines (${expected.text.length})`);
      if (via === "tcpdump's pcap stream") {
        const d = s.start([...args, '--tcpdump', s.fake('pcap', { FAKE_PCAP: capture })], { files: false });
        await waitFor('every packet in the last output', () => {
          const text = readText(out.text2);
          return text.endsWith('\n') && packetLines(text).length >= expected.text.length;
        }, 10_000);
        d.signal('SIGTERM');
        assert.equal((await d.waitExit(5000)).code, 0, d.stderr);
      } else {
        const r = await s.run([...args, '-r', capture], { files: false });
        assert.equal(r.code, 0, r.stderr);
      }
      assert.deepEqual(packetLines(readText(out.text)), expected.text, 'text output');
      assert.deepEqual(packetLines(readText(out.filterlog)), expected.filterlog, 'filterlog output');
      assert.deepEqual(packetLines(readText(out.json)), expected.json, 'json output');
      assert.equal(readText(out.text2), readText(out.text), 'the second text output: the same bytes, events included');
      for (const file of Object.values(out)) {
        assert.equal(fs.statSync(file).mode & 0o777, 0o640, `${file} created 0640`);
        const events = readText(file).split('\n').filter((l) => EVENT.test(l));
        assert.ok(events.some((l) => / pfasciilogd: exiting$/.test(l)), `${file} has the daemon's event lines`);
        if (dedupe.length) assert.ok(events.some((l) => /pfasciilogd: dedupe: \d+ repeated packets not logged/.test(l)), `${file} has the dedupe summary`);
      }
      // the event lines are the same in every output
      const eventsOf = (file: string) => readText(file).split('\n').filter((l) => EVENT.test(l));
      for (const file of [out.filterlog, out.json]) assert.deepEqual(eventsOf(file), eventsOf(out.text), `${file}: the same event lines`);
    });
  }
}

test('two outputs rotated by rename + HUP, then + USR1: every line once, in order, whole, in both', async (t) => {
  const s = sandbox(t, 'outputs-rotation');
  const a = s.path('a.log');
  const b = s.path('b.log');
  const count = 90;
  const d = s.start([...TEXT_RELAY, '-u', '', '-f', a, '-p', s.pidfile, '-o', `text:${b}`, '--tcpdump', s.fake('tick', { FAKE_COUNT: count, FAKE_INTERVAL_MS: 15 })], { files: false });
  const ticks = (file: string) => readText(file).split('\n').filter((l) => / tick \d+ \d+$/.test(l)).length;
  const rotated: string[][] = [[], []];
  for (const [i, signal] of (['SIGHUP', 'SIGUSR1'] as const).entries()) {
    await waitFor(`tick ${(i + 1) * 20} in both outputs`, () => ticks(a) >= 20 && ticks(b) >= 20, 10_000);
    for (const [j, file] of [a, b].entries()) {
      fs.renameSync(file, `${file}.${i}`);
      rotated[j]!.push(`${file}.${i}`);
    }
    d.signal(signal);
    for (const file of [a, b]) await waitFor(`${file} reopened after ${signal}`, () => fs.existsSync(file) && readText(file).includes('pfasciilogd: log reopened\n'), 5000);
  }
  await waitFor(`tick ${count} in both`, () => [a, b].every((f) => readText(f).includes(`tick ${count} `)), 10_000);
  d.signal('SIGTERM');
  assert.equal((await d.waitExit(5000)).code, 0, d.stderr);
  for (const [j, live] of [a, b].entries()) {
    const files = [...rotated[j]!, live];
    const seq: number[] = [];
    for (const file of files) {
      const lines = parseLog(readText(file), file); // whole, stamped, printable
      for (const l of lines) {
        const m = /^tick (\d+) \d+$/.exec(l.payload);
        if (m) seq.push(Number(m[1]));
      }
    }
    assert.deepEqual(seq, Array.from({ length: count }, (_, i) => i + 1), `${live}: every tick once, in order, across ${files.length} files`);
    for (const file of files.slice(1)) assert.match(readText(file), /^\S+ pfasciilogd: log reopened\n/, `${file} starts with the reopen notice`);
    assert.equal(fs.statSync(live).mode & 0o777, 0o640);
  }
});

test("one output's directory removed: that output warns, drops and counts, and comes back; the other gets every line", async (t) => {
  const s = sandbox(t, 'outputs-removed');
  const a = s.path('a.log');
  const gone = s.path('gone');
  fs.mkdirSync(gone);
  const b = `${gone}/b.log`;
  const count = 80;
  const d = s.start([...TEXT_RELAY, '-u', '', '-f', a, '-p', s.pidfile, '-o', `text:${b}`, '--tcpdump', s.fake('tick', { FAKE_COUNT: count, FAKE_INTERVAL_MS: 15 })], { files: false });
  const has = (file: string, n: number) => readText(file).includes(` tick ${n} `);
  await waitFor('tick 10 in both', () => has(a, 10) && has(b, 10), 10_000);
  fs.rmSync(gone, { recursive: true, force: true });
  await waitFor('the removal reported on stderr', () => d.stderr.includes(`${b} was removed`), 10_000);
  fs.mkdirSync(gone);
  await waitFor(`tick ${count} in both`, () => has(a, count) && fs.existsSync(b) && has(b, count), 10_000);
  d.signal('SIGTERM');
  assert.equal((await d.waitExit(5000)).code, 0, d.stderr);
  const ticks = (file: string) => parseLog(readText(file), file).flatMap((l) => /^tick (\d+) \d+$/.exec(l.payload)?.[1] ?? []).map(Number);
  assert.deepEqual(ticks(a), Array.from({ length: count }, (_, i) => i + 1), 'the other output: every tick once, in order');
  const back = ticks(b);
  assert.ok(back.length > 0 && back[back.length - 1] === count, `the removed output is written again: ${back.join(',')}`);
  assert.match(readText(b), /pfasciilogd: \d+ lines dropped: log file removed\n/, 'and says how many lines it lost');
  assert.equal(fs.statSync(b).mode & 0o777, 0o640);
});
