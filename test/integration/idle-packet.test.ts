// The daemon end to end on an idle path: a fake tcpdump writes a pcap header
// and ONE packet, then blocks (no further input, no end of stream). The
// packet's line must reach the log while it blocks: nothing waits for a next
// packet, a full buffer or the end of the run. (That no timer is involved
// either is shown in test/unit/idle-path.test.ts, with mocked timers.)
//
//   npm run build && node --test dist/test/integration/idle-packet.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { events, isFakeRunning, Sandbox } from '../support/daemon-harness.js';
import { ipv4, pcapFileHeader, pcapRecord, pflogHeader, udp } from '../support/capture-builder.js';

test('one packet, then silence: its line is in the log while tcpdump still blocks', async (t) => {
  const s = new Sandbox('idle');
  t.after(() => s.cleanup());
  const pcap = s.path('one.pcap');
  const packet = Buffer.concat([pflogHeader({ length: 100, ifname: 'em0' }), ipv4({ src: '203.0.113.7', dst: '198.51.100.1', proto: 17, payload: udp(40000, 53) })]);
  fs.writeFileSync(pcap, Buffer.concat([pcapFileHeader(), pcapRecord(packet, { sec: 1_700_000_000 })]));
  const d = s.start(['--tcpdump', s.fake('pcap', { FAKE_PCAP: pcap }), '-u', '']);
  const lines = await s.waitForLine(/ 203\.0\.113\.7\.40000 > 198\.51\.100\.1\.53: UDP, length 0$/);
  // still the first run, and its tcpdump still blocks: the line did not wait for more input or an exit
  assert.deepEqual(events(lines).filter((e) => !e.startsWith('starting ')), [], JSON.stringify(events(lines)));
  assert.equal(s.fakePids().filter(isFakeRunning).length, 1, 'the fake is still running');
  d.signal('SIGTERM');
  assert.deepEqual(await d.waitExit(5000), { code: 0, signal: null });
});
