// Drops are visible: the daemon runs the real tcpdump on a real interface
// (one end of a veth pair between two namespaces made here) with
// --stats-interval 1, while the other namespace floods it with UDP. tcpdump's
// counters (captured, received by filter, dropped by kernel) must reach the
// log every interval and at exit. To make the kernel drop for certain, the
// daemon is stopped (SIGSTOP) during the second flood: its pipe fills,
// tcpdump blocks, and the capture buffer (made small with -B) overflows; the
// next counters line must show the drops. Every packet tcpdump captured must
// be in the log, once. Needs root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { HEAP_FLAGS } from '../../src/daemon/heap.js';
import { Lab, MAIN_JS, addVeth, removeStale, sleep, waitFor, type Proc } from '../support/netns.js';
import { findTool, unavailable } from '../support/unavailable.js';

const SERVER = '10.78.1.1';
const SCANNER = '10.78.1.2';
const PHASE1 = 2000;
const PHASE2 = 20_000;
/** tcpdump's capture buffer, KiB: small, so that a stalled reader makes the kernel drop */
const BUFFER_KIB = 256;

const INTERVAL_RE = /^\S+ tcpdump: (\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel$/gm;

/** A bounded UDP flood to SERVER:9 from inside the scanner namespace; prints how many sends succeeded. */
const FLOOD = `
const d = require('dgram').createSocket('udp4');
const total = Number(process.argv[1]), burst = Number(process.argv[2]), pause = Number(process.argv[3]);
let sent = 0, ok = 0, failed = 0, over = false;
const deadline = Date.now() + 10000;
const finish = () => {
  if (over || ok + failed < sent || (sent < total && Date.now() < deadline)) return;
  over = true;
  d.close();
  process.stdout.write(JSON.stringify({ ok, failed }));
};
const go = () => {
  for (let i = 0; i < burst && sent < total; i++, sent++) d.send('x', 9, '${SERVER}', (e) => { e ? failed++ : ok++; finish(); });
  if (sent < total && Date.now() < deadline) setTimeout(go, pause);
  else finish();
};
go();
`;

interface Counters {
  captured: number;
  received: number;
  dropped: number;
  stamp: string;
}

function intervalCounters(text: string): Counters[] {
  return [...text.matchAll(INTERVAL_RE)].map((m) => ({ captured: Number(m[1]), received: Number(m[2]), dropped: Number(m[3]), stamp: m[0].slice(0, m[0].indexOf(' ')) }));
}

test('on a veth under a flood: counters every --stats-interval and at exit, kernel drops shown, every captured packet logged', { timeout: 90_000 }, async (t) => {
  if (process.getuid?.() !== 0) return unavailable(t, 'needs root for network namespaces');
  const tcpdump = findTool('tcpdump');
  if (!tcpdump || !findTool('ip')) return unavailable(t, `${tcpdump ? 'ip' : 'tcpdump'} not found`);
  removeStale();
  const lab = new Lab();
  let daemon: Proc | null = null;
  t.after(async () => {
    if (daemon?.child.pid && !daemon.exit) process.kill(daemon.child.pid, 'SIGCONT');
    await lab.destroy();
  });
  lab.addNamespace('scanner');
  lab.addNamespace('server');
  addVeth(lab, { role: 'scanner', ifname: 'flood0', addr: SCANNER }, { role: 'server', ifname: 'cap0', addr: SERVER });
  fs.chmodSync(lab.dir, 0o755);
  const wrapper = join(lab.dir, 'tcpdump');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${tcpdump} -B ${BUFFER_KIB} "$@"\n`, { mode: 0o755 });
  const log = join(lab.dir, 'pf.log');
  const text = () => {
    try {
      return fs.readFileSync(log, 'latin1');
    } catch {
      return '';
    }
  };
  daemon = lab.spawn('server', 'pfasciilogd', [process.execPath, ...HEAP_FLAGS, MAIN_JS, '-u', '', '-i', 'cap0', '--tcpdump', wrapper, '--stats-interval', '1', '-f', log, '-p', join(lab.dir, 'pid'), '--', 'udp', 'and', 'dst', 'port', '9']);
  await waitFor('tcpdump to listen on cap0', () => {
    if (daemon!.exit) throw new Error(`pfasciilogd exited: ${daemon!.stderr}`);
    return text().includes('listening on cap0');
  }, 10_000, 25);
  const flood = (count: number, burst: number, pause: number) => JSON.parse(lab.exec('scanner', [process.execPath, '-e', FLOOD, String(count), String(burst), String(pause)])) as { ok: number; failed: number };

  // a paced flood: counted, captured, logged
  const first = flood(PHASE1, 100, 5);
  const c1 = await waitFor('a counters line with the first flood', () => intervalCounters(text()).find((c) => c.received >= first.ok), 5000, 50);
  assert.ok(first.ok >= PHASE1 * 0.9, `the first flood was sent (${JSON.stringify(first)})`);

  // the reader stalls: tcpdump's pipe fills, the kernel buffer overflows
  const pid = daemon.child.pid!;
  process.kill(pid, 'SIGSTOP');
  let second: { ok: number; failed: number };
  try {
    second = flood(PHASE2, 500, 1);
    await sleep(300);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const c2 = await waitFor('a counters line with kernel drops', () => intervalCounters(text()).find((c) => c.dropped > 0), 5000, 50);
  // and the interval goes on after that
  const periodic = await waitFor('another counters line', () => {
    const all = intervalCounters(text());
    return all.length >= 3 && all.at(-1)!.stamp > c2.stamp ? all : undefined;
  }, 5000, 50);

  process.kill(pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => daemon!.exit !== null, 10_000, 20);
  assert.deepEqual(daemon.exit, { code: 0, signal: null }, daemon.stderr);
  const all = text();
  const exit = /^\S+ (\d+) packets? captured\n\S+ (\d+) packets? received by filter\n\S+ (\d+) packets? dropped by kernel\n/m.exec(all);
  assert.ok(exit, `the counters at exit:\n${all.split('\n').slice(-8).join('\n')}`);
  const [captured, received, dropped] = [Number(exit[1]), Number(exit[2]), Number(exit[3])];

  // every interval, not only once: stamps about a second apart
  assert.ok(periodic.length >= 3, `${periodic.length} counters lines while running:\n${all.split("\n").filter((l) => /tcpdump|pfasciilogd/.test(l)).join("\n")}`);
  const ms = (s: string) => Date.parse(s.slice(0, 19) + s.slice(26)) + Number(s.slice(20, 26)) / 1000;
  for (let i = 1; i < periodic.length; i++) {
    const gap = ms(periodic[i]!.stamp) - ms(periodic[i - 1]!.stamp);
    assert.ok(gap >= 700, `counters ${gap} ms apart`);
  }
  // the counters only grow, and the exit line has them all
  for (let i = 1; i < periodic.length; i++) assert.ok(periodic[i]!.received >= periodic[i - 1]!.received && periodic[i]!.dropped >= periodic[i - 1]!.dropped);
  assert.ok(received >= periodic.at(-1)!.received && dropped >= c2.dropped && dropped > 0, `exit counters ${captured}/${received}/${dropped}`);
  assert.ok(captured + dropped <= received, 'captured and dropped are parts of what the filter received');
  // nothing lost between tcpdump and the file: one line per captured packet
  const logged = (all.match(new RegExp(` ${SCANNER.replace(/\./g, '\\.')}\\.\\d+ > ${SERVER.replace(/\./g, '\\.')}\\.9: UDP, length 1$`, 'gm')) ?? []).length;
  assert.equal(logged, captured, `${logged} packets logged, tcpdump captured ${captured}`);
  t.diagnostic(
    `sent ${first.ok} + ${second.ok} over the veth; counters every 1 s (${periodic.length} lines), first with the paced flood ${c1.received} received / ${c1.dropped} dropped; ` +
      `at exit ${captured} captured, ${received} received by filter, ${dropped} dropped by kernel; ${logged} logged`,
  );
});
