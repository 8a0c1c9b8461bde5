// node's V8 heap is capped where the daemon is started: the same HEAP_FLAGS in
// the FreeBSD and OpenBSD rc.d scripts and in the systemd unit, and a
// --dedupe-max the cap cannot hold is refused at start (exit 78), before a
// pidfile or a log exists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEAP_FLAGS } from '../../src/daemon/heap.js';
import { Sandbox } from '../support/daemon-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('the rc.d scripts and the systemd unit start node with HEAP_FLAGS', () => {
  const flags = HEAP_FLAGS.join(' ');
  const freebsd = fs.readFileSync(join(ROOT, 'etc/rc.d/pfasciilogd'), 'latin1');
  assert.match(freebsd, new RegExp(`^: \\$\\{pfasciilogd_node_flags:="${flags}"\\}$`, 'm'));
  assert.match(freebsd, /\$\{pfasciilogd_node\} \$\{pfasciilogd_node_flags\} \$\{pfasciilogd_script\}/);
  const openbsd = fs.readFileSync(join(ROOT, 'etc/rc.d/pfasciilogd.openbsd'), 'latin1');
  assert.match(openbsd, new RegExp(`^_pfasciilogd_node_flags="${flags}"$`, 'm'));
  assert.match(openbsd, /rc_exec "\$\{_pfasciilogd_node\} \$\{_pfasciilogd_node_flags\} \$\{daemon\}/);
  assert.match(openbsd, /set -- \$\{_pfasciilogd_node\} \$\{_pfasciilogd_node_flags\} \$\{daemon\}/, 'pexp is built from the same words');
  const unit = fs.readFileSync(join(ROOT, 'etc/systemd/pfasciilogd.service'), 'latin1');
  assert.match(unit, new RegExp(`^ExecStart=/usr/bin/env node ${flags} /usr/local/bin/pfasciilogd `, 'm'));
});

test('a --dedupe-max the capped heap cannot hold: exit 78, one line, nothing created', async (t) => {
  const box = new Sandbox('heap');
  t.after(() => box.cleanup());
  const d = box.start(['-u', '', '-r', join(ROOT, 'demo/pflog.pcap'), '--dedupe', '600', '--dedupe-max', '1000000'], { nodeFlags: HEAP_FLAGS });
  assert.deepEqual(await d.waitExit(10_000), { code: 78, signal: null });
  assert.match(d.stderr, /^pfasciilogd: --dedupe-max 1000000 needs about \d+ MB of V8 heap and node allows this process \d+ MB: .*\n$/);
  assert.equal(fs.existsSync(box.log), false, 'no log');
  assert.equal(fs.existsSync(box.pidfile), false, 'no pidfile');

  const ok = box.start(['-u', '', '-r', join(ROOT, 'demo/pflog.pcap'), '--dedupe', '600'], { nodeFlags: HEAP_FLAGS });
  assert.deepEqual(await ok.waitExit(10_000), { code: 0, signal: null }, ok.stderr);
});
