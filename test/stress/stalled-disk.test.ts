// A stalled or slow disk: the log is a FIFO that the test drains at a tenth
// of the rate the fake tcpdump can produce. The daemon must read its input
// only as fast as the sink drains (the pipe fills, the producer blocks; with
// a real capture the kernel then drops and counts), so its memory stays
// bounded: peak RSS at most 80 MB over the run (60 s; PFASCIILOGD_STRESS_SECONDS),
// with node's heap capped as the rc.d scripts and the systemd unit cap it
// (HEAP_FLAGS): a daemon that outgrew the cap would die, and the test with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Daemon, Sandbox, TEXT_RELAY, sleep } from '../support/daemon-harness.js';
import { HEAP_FLAGS } from '../../src/daemon/heap.js';

const SECONDS = Number(process.env.PFASCIILOGD_STRESS_SECONDS ?? 60);
const DRAIN_BYTES_PER_TICK = 32 * 1024;
const TICK_MS = 50; // the sink takes 640 KiB/s

function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) : 0;
}

test(`input 10x faster than the sink for ${SECONDS} s: bounded memory, lines whole and in order`, async (t) => {
  if (!fs.existsSync('/proc/self/status')) return t.skip('needs /proc to read the peak RSS');
  const box = new Sandbox('stalled');
  const fifo = box.path('pf.log');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  // the read end first, so the daemon's open for writing does not block
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  let daemon: Daemon | null = null;
  t.after(async () => {
    daemon?.signal('SIGKILL');
    fs.closeSync(fd);
    await box.cleanup(); // also kills the fake, which never ends by itself
  });
  // ~6.4 MB/s of lines offered: ten times what the sink takes
  const fake = box.fake('numbered', { FAKE_COUNT: 1e9, FAKE_PER_TICK: 150 });
  daemon = new Daemon([...TEXT_RELAY, '-u', '', '--tcpdump', fake, '-f', fifo, '-p', box.pidfile], { nodeFlags: HEAP_FLAGS });
  const buf = Buffer.alloc(DRAIN_BYTES_PER_TICK);
  let received = '';
  let bytes = 0;
  let lastSeq = 0;
  let peak = 0;
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    await sleep(TICK_MS);
    let n = 0;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    bytes += n;
    received += buf.toString('latin1', 0, n);
    // check and drop the whole lines received so far
    const cut = received.lastIndexOf('\n');
    if (cut >= 0) {
      for (const line of received.slice(0, cut).split('\n')) {
        assert.match(line, /^\S+ \S/, `a whole stamped line: ${JSON.stringify(line.slice(0, 80))}`);
        const m = / seq (\d+) /.exec(line);
        if (m) {
          assert.equal(Number(m[1]), lastSeq + 1, 'in order, none lost between the pipe and the sink');
          lastSeq++;
        }
      }
      received = received.slice(cut + 1);
    }
    assert.ok(daemon.running, `the daemon stopped: ${daemon.stderr}`);
    peak = Math.max(peak, peakRssKiB(daemon.pid));
  }
  peak = Math.max(peak, peakRssKiB(daemon.pid));
  const offered = (SECONDS * 1000) * 150 * 45; // bytes the fake would have written unthrottled, roughly
  assert.ok(bytes < offered / 5, `the sink took ${bytes} bytes: input was throttled to its pace`);
  assert.ok(lastSeq > 1000, `lines flowed (${lastSeq})`);
  assert.ok(peak <= 80 * 1024, `peak RSS ${Math.round(peak / 1024)} MB <= 80 MB`);
  t.diagnostic(`peak RSS ${(peak / 1024).toFixed(1)} MB; sink took ${(bytes / 1e6).toFixed(1)} MB, ${lastSeq} lines in ${SECONDS} s`);
});
