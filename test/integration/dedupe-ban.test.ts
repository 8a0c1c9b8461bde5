// --dedupe gives fail2ban scan semantics: with the jail's scan preset
// (maxretry 8, findtime 600, --dedupe 600) a scan of 20 ports is banned and
// a client that sends 500 blocked packets to one port is not. The real
// daemon (reading the capture through the real tcpdump) writes the log; the
// real fail2ban-server, with the project's filter and jail, decides. The
// control run without --dedupe bans both, so the test can tell.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAIN_JS, Sandbox, waitFor } from '../support/daemon-harness.js';
import { Fail2banServer, fail2banBackend } from '../support/fail2ban-server.js';
import { interleave, oneport, probeCapture, scan } from '../support/scan-capture.js';
import { findTool, unavailable } from '../support/unavailable.js';

const ROOT = path.resolve(path.dirname(MAIN_JS), '../..');
const FILTER = path.join(ROOT, 'etc/fail2ban/filter.d/pfasciilogd.conf');
const SCANNER = '203.0.113.7';
const CLIENT = '198.51.100.9';
/** the jail's commented scan preset */
const PRESET = { dedupe: 600, maxretry: 8, findtime: 600 };

function missing(): string | undefined {
  for (const tool of ['tcpdump', 'fail2ban-server', 'fail2ban-client', 'fail2ban-regex']) if (!findTool(tool)) return `${tool} not found (Debian: apt-get install tcpdump fail2ban)`;
  return Fail2banServer.missingSystemConfig();
}

/** The daemon reads the capture (-r) into `log`, with the given extra flags, and exits. */
function daemonLog(dir: string, capture: string, log: string, flags: string[]): string {
  const r = spawnSync(process.execPath, [MAIN_JS, '-u', '', '-r', capture, '-f', log, '-p', path.join(dir, 'pid'), ...flags], { encoding: 'latin1', timeout: 30_000 });
  assert.equal(r.status, 0, `daemon: ${r.stderr}`);
  return fs.readFileSync(log, 'latin1');
}

/** What fail2ban-server bans from `lines` appended to a watched log (waits for `expect`, then a little longer for extras). */
async function bansOf(dir: string, lines: string, expect: string[]): Promise<string[]> {
  fs.mkdirSync(dir);
  const log = path.join(dir, 'pf.log');
  fs.writeFileSync(log, '');
  const f2b = new Fail2banServer(dir, {
    jail: 'pf',
    logpath: log,
    backend: fail2banBackend(findTool('fail2ban-server')),
    filter: 'pfasciilogd[mode=syn]',
    action: `dummy[target=${path.join(dir, 'dummy.bans')}]`,
    maxretry: PRESET.maxretry,
    findtime: PRESET.findtime,
    bantime: 3600,
    ignoreip: ['127.0.0.1/8', '::1'],
  });
  const [cmd, ...args] = f2b.serverArgv();
  const server = spawn(cmd!, args, { stdio: 'ignore' });
  try {
    await waitFor('the fail2ban jail to run', async () => (await f2b.client(['status', 'pf'])).status === 0, 30_000, 200);
    fs.appendFileSync(log, lines);
    const want = [...expect].sort().join(' ');
    await waitFor(`bans ${want}; fail2ban log:\n${f2b.logText()}`, async () => (await f2b.banned()).join(' ') === want || undefined, 20_000, 200);
    await new Promise((r) => setTimeout(r, 2500)); // the polling backend looks every second: room for a wrong ban
    return await f2b.banned();
  } finally {
    await f2b.client(['stop']);
    server.kill('SIGKILL');
  }
}

test('with --dedupe and the scan preset, a 20-port scan is banned and a client retrying one port 500 times is not', { timeout: 120_000 }, async (t) => {
  const why = missing();
  if (why) return unavailable(t, why);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-dedupe-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // within findtime of now, as fail2ban only counts recent lines
  const start = Math.floor(Date.now() / 1000) - 60;
  const capture = path.join(dir, 'scan.pcap');
  fs.writeFileSync(capture, probeCapture(interleave(scan(SCANNER, 20, 2, start), oneport(CLIENT, 443, 500, start))));

  const deduped = daemonLog(dir, capture, path.join(dir, 'deduped.log'), ['--dedupe', String(PRESET.dedupe)]);
  const plain = daemonLog(dir, capture, path.join(dir, 'plain.log'), []);
  const packetLines = (text: string) => text.split('\n').filter((l) => / rule 3\/0\(match\): block in on em0: /.test(l));
  assert.equal(packetLines(plain).length, 540);
  assert.equal(packetLines(deduped).length, 21, 'one line per port scanned, one for the client');
  assert.match(deduped, /pfasciilogd: dedupe: 519 repeated packets not logged \(21 source\/port pairs; most from 198\.51\.100\.9 tcp\/443 \(499\)\)/);

  // the summary line names the client's address; the filter must not count it
  const regex = spawnSync('fail2ban-regex', ['-v', path.join(dir, 'deduped.log'), FILTER], { encoding: 'utf8', timeout: 60_000 });
  assert.match(regex.stdout, /^Lines: \d+ lines, 0 ignored, 21 matched, \d+ missed/m, regex.stdout);

  assert.deepEqual(await bansOf(path.join(dir, 'f2b-dedupe'), deduped, [SCANNER]), [SCANNER]);
  // control: counting packets, the client is banned too
  assert.deepEqual(await bansOf(path.join(dir, 'f2b-plain'), plain, [SCANNER, CLIENT]), [CLIENT, SCANNER]);
});

test('the live daemon reports what --dedupe held back once a window, and again at exit only if there is more', { timeout: 30_000 }, async (t) => {
  const sb = new Sandbox('dedupe');
  t.after(() => sb.cleanup());
  const capture = sb.path('repeats.pcap');
  fs.writeFileSync(capture, probeCapture(oneport(CLIENT, 443, 20, 1000)));
  // a tcpdump that writes a pcap stream and then waits, as on a quiet interface
  const tcpdump = sb.script('tcpdump-pcap', `cat '${capture}'\nexec sleep 600`);
  const d = sb.start(['-u', '', '--tcpdump', tcpdump, '--dedupe', '1']);
  const lines = await sb.waitForLine(/^pfasciilogd: dedupe: /, 5000);
  assert.equal(lines.filter((l) => / block in on em0: /.test(l.payload)).length, 1);
  assert.deepEqual(lines.filter((l) => /^pfasciilogd: dedupe: /.test(l.payload)).map((l) => l.payload), [
    'pfasciilogd: dedupe: 19 repeated packets not logged (1 source/port pairs; most from 198.51.100.9 tcp/443 (19)); 0 pairs forgotten early, 1 of 100000 remembered, window 1 s',
  ]);
  await new Promise((r) => setTimeout(r, 1500)); // another window: nothing new to say
  d.signal('SIGTERM');
  assert.deepEqual(await d.waitExit(5000), { code: 0, signal: null });
  assert.equal(sb.lines().filter((l) => /^pfasciilogd: dedupe: /.test(l.payload)).length, 1);
});
