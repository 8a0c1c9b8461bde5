// A stalled or slow disk: the log is a FIFO that the test drains at a tenth
// of the rate the fake tcpdump can produce. The daemon must read its input
// only as fast as the sink drains (the pipe fills, the producer blocks; with
// a real capture the kernel then drops and counts), so its memory stays
// bounded: peak RSS at most 80 MB over the run (60 s; PFASCIILOGD_STRESS_SECONDS),
// with node's heap capped as the rc.d scripts and the systemd unit cap it
// (HEAP_FLAGS): a daemon that outgrew the cap would die, and the test with it.
// With several outputs (-o), the stalled one throttles the capture, and the
// others still get every line, whole and in order.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Daemon, MAIN_JS, Sandbox, TEXT_RELAY, readText, sleep } from '../support/daemon-harness.js';
import { probeCapture, type Probe } from '../support/scan-capture.js';
import { HEAP_FLAGS } from '../../src/daemon/heap.js';

const SECONDS = Number(process.env.PFASCIILOGD_STRESS_SECONDS ?? 60);
const DRAIN_BYTES_PER_TICK = 32 * 1024;
const TICK_MS = 50; // the sink takes 640 KiB/s

function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) : 0;
}

/**
 * A FIFO for the daemon to write to, its read end open non-blocking first (so
 * the daemon's open does not wait); after the test the daemon is killed, the
 * end closed and the sandbox removed (with the fake, which never ends itself).
 */
function slowSink(t: TestContext, box: Sandbox, fifo: string, daemon: () => Daemon | null): number {
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.after(async () => {
    daemon()?.signal('SIGKILL');
    fs.closeSync(fd);
    await box.cleanup();
  });
  return fd;
}

test(`input 10x faster than the sink for ${SECONDS} s: bounded memory, lines whole and in order`, async (t) => {
  if (!fs.existsSync('/proc/self/status')) return t.skip('needs /proc to read the peak RSS');
  const box = new Sandbox('stalled');
  const fifo = box.path('pf.log');
  const fd = slowSink(t, box, fifo, () => daemon);
  let daemon: Daemon | null = null;
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

/** The packet lines of a text or filterlog output (the daemon's own lines left out; filterlog's PID made neutral). */
function packetLines(text: string): string[] {
  return text
    .split('\n')
    .slice(0, -1)
    .filter((l) => !/^\S+ pfasciilogd: /.test(l))
    .map((l) => l.replace(/ filterlog\[\d+\]: /, ' filterlog[PID]: '));
}

/** Whole packet lines in `text` (up to its last newline). */
function wholePacketLines(text: string): number {
  return packetLines(text.slice(0, text.lastIndexOf('\n') + 1)).length;
}

test('two outputs, one a FIFO read slowly: the capture waits for it, and the regular file ends with every packet line, whole and in order', async (t) => {
  const PACKETS = 120_000;
  // What the slow output can hold unread, at most: the FIFO's kernel buffer,
  // the write in flight and the queue (each up to the 1 MiB high-water mark
  // plus a chunk): about 2.3 MB, 23,000 lines of 100 bytes or more.
  const MAX_LEAD = 30_000;
  const box = new Sandbox('stalled-outputs');
  const fifo = box.path('slow.log');
  const regular = box.path('filter.log');
  const fd = slowSink(t, box, fifo, () => daemon);
  let daemon: Daemon | null = null;
  const capture = box.path('capture.pcap');
  const probes: Probe[] = Array.from({ length: PACKETS }, (_, i) => ({ src: `203.0.${113 + (i % 2)}.${1 + (i % 250)}`, dport: 1 + (i % 65000), proto: i % 3 === 0 ? 'udp' : 'tcp', time: 1_700_000_000 + i / 1000 }));
  fs.writeFileSync(capture, probeCapture(probes));
  const readAs = (format: string) => {
    const r = spawnSync(process.execPath, [MAIN_JS, 'read', '--format', format, capture], { encoding: 'latin1', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    return packetLines(r.stdout);
  };
  const expected = { text: readAs('text'), filterlog: readAs('filterlog') };
  assert.equal(expected.text.length, PACKETS);

  // native decoder: the fake plays the capture as tcpdump -w - would, as fast as the pipe takes it
  daemon = new Daemon(['-u', '', '--tcpdump', box.fake('pcap', { FAKE_PCAP: capture }), '-f', fifo, '-o', `filterlog:${regular}`, '-p', box.pidfile], { nodeFlags: HEAP_FLAGS });
  const buf = Buffer.alloc(1 << 20);
  const lines: string[] = []; // whole lines read from the FIFO
  let partial = '';
  let packetsRead = 0;
  const drain = (max: number): number => {
    let n = 0;
    try {
      n = fs.readSync(fd, buf, 0, max, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    const text = partial + buf.toString('latin1', 0, n);
    const cut = text.lastIndexOf('\n');
    if (cut >= 0) {
      const whole = text.slice(0, cut).split('\n');
      lines.push(...whole);
      for (const l of whole) if (!/^\S+ pfasciilogd: /.test(l)) packetsRead++;
    }
    partial = text.slice(cut + 1);
    return n;
  };
  // Slow phase: 16 KiB every 20 ms. The regular output may run ahead of
  // what was read from the FIFO only by what the slow output holds queued.
  let maxLead = 0;
  let samples = 0;
  while (packetsRead < 15_000) {
    await sleep(20);
    drain(16 * 1024);
    const read = packetsRead;
    const written = wholePacketLines(readText(regular));
    maxLead = Math.max(maxLead, written - read);
    samples++;
    assert.ok(written - read <= MAX_LEAD, `the regular output ran ${written - read} packets ahead of the stalled one (${written} written, ${read} read): the capture was not throttled`);
    assert.ok(daemon.running, `the daemon stopped: ${daemon.stderr}`);
  }
  // Fast phase: read everything; then stop the daemon and read to the end.
  const deadline = Date.now() + 120_000;
  while (packetsRead < PACKETS) {
    if (drain(buf.length) === 0) await sleep(5);
    assert.ok(Date.now() < deadline, `the FIFO gave ${packetsRead} of ${PACKETS} packets`);
  }
  daemon.signal('SIGTERM');
  const exit = daemon.waitExit(10_000);
  while (daemon.running) if (drain(buf.length) === 0) await sleep(5);
  assert.equal((await exit).code, 0, daemon.stderr);
  while (drain(buf.length) > 0);
  assert.equal(partial, '', 'the FIFO ends with a whole line');
  assert.match(lines[lines.length - 1]!, / pfasciilogd: exiting$/, 'the FIFO got everything up to the last line');
  assert.deepEqual(packetLines(readText(regular)), expected.filterlog, 'the regular output: every packet line, whole and in order');
  assert.deepEqual(packetLines(lines.join('\n') + '\n'), expected.text, 'the slow output: every packet line, whole and in order');
  t.diagnostic(`${PACKETS} packets; the regular output ran at most ${maxLead} packets ahead of the FIFO read slowly (bound ${MAX_LEAD}, ${samples} samples)`);
});
