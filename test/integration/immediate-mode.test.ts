// --immediate-mode: a tcpdump that refuses it (older than 4.6, or built
// without it) must not leave a dead capture. The fake (mode noimmediate)
// exits at once with glibc's "unrecognized option" when given the flag, as
// tcpdump 4.5 does; the daemon logs that once and runs it without the flag
// from then on. The real tcpdump gets the flag and captures with it.
//
//   npm run build && node --test dist/test/integration/immediate-mode.test.js

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { events, MAIN_JS, Sandbox, TEXT_RELAY, waitFor, type LogLine } from '../support/daemon-harness.js';
import { findTool, unavailable } from '../support/unavailable.js';

const sandbox = (t: TestContext, name: string) => Sandbox.for(t, name);

const REFUSED = / refused --immediate-mode \(tcpdump: unrecognized option '--immediate-mode'\); running it without/;

for (const decoder of ['native', 'tcpdump'] as const) {
  test(`${decoder} decoder: a tcpdump that refuses --immediate-mode is logged once and run without it`, async (t) => {
    const s = sandbox(t, `noimm-${decoder}`);
    const fake = s.fake('noimmediate');
    const d = s.start(['--tcpdump', fake, '-u', '', '-i', 'pflog3', ...(decoder === 'tcpdump' ? TEXT_RELAY : [])]);
    // the second start, without the flag
    const lines = await s.waitForLine(/^pfasciilogd: starting (?!.*--immediate-mode)/, 10_000);
    const ev = events(lines);
    const starts = ev.filter((e) => e.startsWith('starting '));
    assert.equal(starts.length, 2, JSON.stringify(ev));
    assert.match(starts[0]!, / --immediate-mode /);
    assert.doesNotMatch(starts[1]!, /--immediate-mode/);
    // the failed run, then the one line that says why the flag is gone, then the restart, at once (no backoff: the cause is gone)
    const i = ev.indexOf(`${fake} exited with status 1`);
    assert.ok(i > 0, JSON.stringify(ev));
    assert.match(ev[i + 1]!, REFUSED);
    assert.equal(ev[i + 2], `restarting ${fake}`);
    if (decoder === 'tcpdump') {
      const argvLine = await s.waitForLine(/^argv /);
      const argv = JSON.parse(argvLine.find((l: LogLine) => l.payload.startsWith('argv '))!.payload.slice(5)) as string[];
      assert.deepEqual(argv, ['-t', '-l', '-e', '-n', '-i', 'pflog3', '-s', '512']);
    }
    d.signal('SIGTERM');
    assert.deepEqual(await d.waitExit(5000), { code: 0, signal: null });
    const all = events(s.lines());
    assert.equal(all.filter((e) => REFUSED.test(e)).length, 1, 'logged once');
    assert.equal(all.filter((e) => e.startsWith('starting ')).length, 2, 'the run without the flag kept running');
    assert.equal(d.stderr.match(/refused --immediate-mode/g)?.length, 1, `warned once on stderr: ${d.stderr}`);
  });
}

test('the real tcpdump gets --immediate-mode and captures with it (lo in a namespace of its own)', { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) return unavailable(t, 'needs root (a network namespace, tcpdump)');
  if (!findTool('tcpdump') || !findTool('ip')) return unavailable(t, 'needs tcpdump and ip (Debian: apt-get install tcpdump iproute2)');
  const ns = `pfal-imm-${process.pid}`;
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0, 'ip netns add');
  t.after(() => spawnSync('ip', ['netns', 'del', ns]));
  assert.equal(spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']).status, 0);
  for (const decoder of ['native', 'tcpdump'] as const) {
    await t.test(`${decoder} decoder`, async (st) => {
      const s = sandbox(st, `imm-real-${decoder}`);
      const daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, MAIN_JS, '-i', 'lo', '-u', 'nobody', '-f', s.log, '-p', s.pidfile, ...(decoder === 'tcpdump' ? TEXT_RELAY : []), '--', 'udp', 'port', '9'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      daemon.stderr!.setEncoding('latin1').on('data', (x: string) => (stderr += x));
      const closed = new Promise((res) => daemon.on('close', res));
      st.after(() => daemon.kill('SIGKILL'));
      await s.waitForLine(/^(tcpdump: )?listening on lo/, 10_000);
      // one datagram at a time until its line is there (tcpdump's filter may not be in place for the first)
      const send = `const s = require('dgram').createSocket('udp4'); s.send('x', 9, '127.0.0.1', () => s.close())`;
      await waitFor('the datagram\'s line', () => {
        spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', send]);
        return s.lines().some((l) => /127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.9: UDP/.test(l.payload));
      }, 20_000, 200);
      daemon.kill('SIGTERM');
      await closed;
      const ev = events(s.lines());
      assert.match(ev[0]!, /^starting tcpdump -Z nobody (-U )?--immediate-mode /);
      assert.ok(!ev.some((e) => /refused/.test(e)), JSON.stringify(ev));
      assert.equal(ev.filter((e) => e.startsWith('starting ')).length, 1, `one run: ${JSON.stringify(ev)}`);
      assert.doesNotMatch(stderr, /immediate/);
    });
  }
});
