// Rotation under a flood, zero loss: a fake tcpdump prints numbered lines in
// fast bursts while the log is rotated the way newsyslog does it (rename,
// then the signal from the pidfile; HUP and USR1 alternately) over a
// thousand times. Concatenated in order, the rotated files and the live one
// must hold every numbered line exactly once, in order, none split, each
// stamped. PFASCIILOGD_STRESS_LINES scales it (npm run stress runs more).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Daemon, Sandbox, STAMP, TEXT_RELAY, readText, sleep, waitFor } from '../support/daemon-harness.js';

const LINES = Number(process.env.PFASCIILOGD_STRESS_LINES ?? 1_000_000);
const MIN_ROTATIONS = Number(process.env.PFASCIILOGD_STRESS_ROTATIONS ?? 1000);

test(`${LINES} lines through ${MIN_ROTATIONS}+ rotations (rename + HUP/USR1): every line once, in order, whole`, async (t) => {
  const box = new Sandbox('rotation');
  let daemon: Daemon | null = null;
  t.after(async () => {
    daemon?.signal('SIGKILL');
    await box.cleanup(); // also kills a fake left behind
  });
  // bursts of 60 lines a millisecond or so: the run lasts long enough to rotate often
  const fake = box.fake('numbered', { FAKE_COUNT: LINES, FAKE_PER_TICK: Math.max(1, Math.ceil(LINES / 16000)) });
  daemon = new Daemon([...TEXT_RELAY, '-u', '', '--tcpdump', fake, '-f', box.log, '-p', box.pidfile]);
  await waitFor('the pidfile', () => fs.existsSync(box.pidfile), 5000);
  const pid = Number(fs.readFileSync(box.pidfile, 'latin1').trim());
  const rotated: string[] = [];
  // "done" may land in the live file or in one just rotated away: look in both
  const hasDone = (file: string) => / done\n/.test(readText(file).slice(-200));
  let sawDone = false;
  const deadline = Date.now() + 180_000;
  while (!sawDone || rotated.length < MIN_ROTATIONS) {
    const name = `${box.log}.${rotated.length}`;
    fs.renameSync(box.log, name);
    rotated.push(name);
    process.kill(pid, rotated.length % 2 === 0 ? 'SIGHUP' : 'SIGUSR1');
    sawDone ||= hasDone(name);
    await sleep(rotated.length < MIN_ROTATIONS ? 8 : 50);
    if (!fs.existsSync(box.log)) await waitFor('the reopened log', () => fs.existsSync(box.log), 5000);
    sawDone ||= hasDone(box.log);
    assert.ok(daemon.running, `the daemon stopped: ${daemon.stderr}`);
    assert.ok(Date.now() < deadline, `the fake did not finish in time (${rotated.length} rotations)`);
  }
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitExit(5000)).code, 0);

  const lineRe = new RegExp(`^${STAMP} (.*)$`);
  let expected = 1;
  let reopenNotices = 0;
  let lastStamp = '';
  for (const file of [...rotated, box.log]) {
    const text = readText(file);
    assert.ok(text === '' || text.endsWith('\n'), `${file} ends mid-line`);
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      const line = text.slice(start, nl);
      start = nl + 1;
      const m = lineRe.exec(line);
      assert.ok(m, `not "<stamp> <payload>" in ${file}: ${JSON.stringify(line.slice(0, 120))}`);
      const payload = m[1]!;
      if (payload.startsWith('seq ')) {
        // tcpdump's lines are stamped when read: never back in time (the
        // "log reopened" notice heads the new file, stamped when it is written)
        const stamp = line.slice(0, line.length - payload.length - 1);
        assert.ok(stamp >= lastStamp, `stamps never go back: ${lastStamp} then ${stamp}`);
        lastStamp = stamp;
        const n = Number(payload.slice(4, payload.indexOf(' ', 4)));
        assert.equal(n, expected, `in ${file}: expected seq ${expected}, got ${n}`);
        assert.equal(payload, `seq ${n} ${'x'.repeat((n * 7919) % 61)}`, `line ${n} whole`);
        expected++;
      } else if (payload === 'pfasciilogd: log reopened') reopenNotices++;
    }
  }
  assert.equal(expected - 1, LINES, 'every numbered line, exactly once');
  assert.ok(rotated.length >= MIN_ROTATIONS, `${rotated.length} rotations`);
  assert.equal(reopenNotices, rotated.length, 'each rotation reopened the log once');
  t.diagnostic(`${LINES} lines through ${rotated.length} rotations (${Math.ceil(rotated.length / 2)} USR1, ${Math.floor(rotated.length / 2)} HUP): every line once, in order, whole`);
});
