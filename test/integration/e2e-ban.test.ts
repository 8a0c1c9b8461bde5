// End to end on Linux, everything real: network namespaces scanner, friend and
// server joined by veth; in server, nftables (port 2222 open, everything else
// "log group N" and dropped), pfasciilogd -i nflog:N writing a temp log, and
// fail2ban-server with the project's filter and jail banning through
// nftables. A port scan must get the scanner banned, and only it, for bantime.
// test/support/netns.ts builds the scene and tears it down.
//
// Needs root, ip netns, nft, tcpdump and fail2ban: skipped with the reason
// without them, failed instead when CI is set.
//
//   npm run build && node --test dist/test/integration/e2e-ban.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADDR,
  BLOCK_PREFIX,
  JAIL,
  Lab,
  OPEN_PORT,
  missingPrerequisite,
  nftBanned,
  readText,
  startScene,
  waitFor,
  type ConnectResult,
  type ProbeResult,
  type Role,
  type Scene,
} from '../support/netns.js';
import { unavailable } from '../support/unavailable.js';

const GROUP = 7;
/** 20 closed ports: the firewall drops (and logs) a SYN to any of them. */
const CLOSED_PORTS = Array.from({ length: 20 }, (_, i) => 3000 + i);
const MAXRETRY = 10;
const FINDTIME = 60;
/** seconds; short, so that the unban is seen within the test */
const BANTIME = 8;
const PROBE_TIMEOUT_MS = 200;

const STAMP = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d`;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');


/** pfasciilogd's lines for SYNs from `src` to the server's closed ports, by destination port. */
function synLines(scene: Scene, src: string, iface: string, dst: string): Map<number, string> {
  const re = new RegExp(`^${STAMP} nflog ${GROUP} "${BLOCK_PREFIX}" in on ${iface}: ${esc(src)}\\.\\d+ > ${esc(dst)}\\.(\\d+): Flags \\[S\\], seq \\d+, win \\d+, options \\[.*\\], length 0$`);
  const out = new Map<number, string>();
  for (const line of readText(scene.log).split('\n')) {
    const m = re.exec(line);
    if (m) out.set(Number(m[1]), line);
  }
  return out;
}

function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

test('a port scan gets the scanner, and only it, banned by fail2ban through NFLOG, pfasciilogd and nftables', { timeout: 90_000 }, async (t) => {
  const missing = missingPrerequisite();
  if (missing) return unavailable(t, missing);

  const lab = new Lab();
  t.after(() => lab.destroy());
  const scene = await startScene(lab, { group: GROUP, maxretry: MAXRETRY, findtime: FINDTIME, bantime: BANTIME });
  t.diagnostic(`fail2ban backend: ${scene.backend}`);
  if (lab.removed.length > 0) t.diagnostic(`removed leftovers of killed runs: ${lab.removed.join(' ')}`);

  const connect = (role: Role, from: string, host: string) => lab.agent<ConnectResult>(role, 'connect', { host, port: OPEN_PORT, from, timeoutMs: 1000 });
  const scan = (role: Role, from: string, host: string) => lab.agent<ProbeResult>(role, 'probe', { host, ports: CLOSED_PORTS, from, timeoutMs: PROBE_TIMEOUT_MS });

  // the steps share the scene: once one fails, the rest are skipped
  let failed = false;
  const step = (name: string, fn: () => Promise<void>) =>
    t.test(name, async (st) => {
      if (failed) return st.skip('an earlier step failed');
      try {
        await fn();
      } catch (err) {
        failed = true;
        for (const line of scene.diagnostics().split('\n')) st.diagnostic(line);
        throw err;
      }
    });

  let bannedAt = 0;

  await step('before any scan, scanner, friend and the ignoreip address reach the open port', async () => {
    for (const [role, from, host] of [
      ['scanner', ADDR.scanner, ADDR.serverForScanner],
      ['friend', ADDR.friend, ADDR.serverForFriend],
      ['friend', ADDR.trusted, ADDR.serverForFriend],
    ] as const) {
      const r = await connect(role, from, host);
      assert.deepEqual([r.outcome, r.data], ['connected', 'ok\n'], `${from} -> ${host}:${OPEN_PORT}`);
    }
  });

  await step('the ignoreip address, then the scanner, probe 20 closed ports; pfasciilogd logs every SYN', async () => {
    // the ignoreip address first: its lines come first in the log, so fail2ban
    // has read them by the time it bans the scanner
    for (const [role, from, host, iface] of [
      ['friend', ADDR.trusted, ADDR.serverForFriend, 's-friend'],
      ['scanner', ADDR.scanner, ADDR.serverForScanner, 's-scan'],
    ] as const) {
      const r = await scan(role, from, host);
      assert.deepEqual(new Set(Object.values(r.outcomes)), new Set(['timeout']), `probes from ${from} are dropped: ${JSON.stringify(r.outcomes)}`);
      await waitFor(`20 SYN lines from ${from} in the log`, () => synLines(scene, from, iface, host).size === CLOSED_PORTS.length, 5000);
      assert.deepEqual([...synLines(scene, from, iface, host).keys()].sort(), CLOSED_PORTS);
    }
  });

  await step("fail2ban bans exactly the scanner's address", async () => {
    const banned = await waitFor(
      'a ban',
      async () => {
        const b = await scene.f2b.banned();
        return b.length > 0 ? b : undefined;
      },
      20_000,
      200,
    );
    bannedAt = Date.now();
    assert.deepEqual(banned, [ADDR.scanner]);
    assert.deepEqual(nftBanned(lab), [ADDR.scanner], 'the nftables ban set of the server namespace');
    const f2bLog = scene.f2b.logText();
    assert.equal(countOf(f2bLog, `[${JAIL}] Ban ${ADDR.scanner}\n`), 1, f2bLog);
    assert.equal(countOf(f2bLog, '] Ban '), 1, f2bLog);
  });

  await step('the scanner can no longer connect to the open port; friend and the ignoreip address still can', async () => {
    const s = await connect('scanner', ADDR.scanner, ADDR.serverForScanner);
    assert.notEqual(s.outcome, 'connected', `the banned scanner connected: ${JSON.stringify(s)}`);
    for (const from of [ADDR.friend, ADDR.trusted]) {
      const r = await connect('friend', from, ADDR.serverForFriend);
      assert.deepEqual([r.outcome, r.data], ['connected', 'ok\n'], `${from} -> ${ADDR.serverForFriend}:${OPEN_PORT}`);
    }
  });

  await step('the ignoreip address, which scanned too, is never banned', async () => {
    // fail2ban saw every one of its 20 blocked SYNs and ignored each
    const ignored = `[${JAIL}] Ignore ${ADDR.trusted} by ip\n`;
    await waitFor(`fail2ban to ignore ${ADDR.trusted} 20 times`, () => countOf(scene.f2b.logText(), ignored) >= CLOSED_PORTS.length, 5000);
    assert.deepEqual(await scene.f2b.banned(), [ADDR.scanner]);
    assert.ok(!nftBanned(lab).includes(ADDR.trusted));
    const f2bLog = scene.f2b.logText();
    assert.ok(!f2bLog.includes(`Found ${ADDR.trusted}`) && !f2bLog.includes(`Ban ${ADDR.trusted}`), f2bLog);
  });

  await step('after bantime the scanner connects again', async () => {
    const back = await waitFor(
      'the scanner to connect again',
      async () => {
        const r = await connect('scanner', ADDR.scanner, ADDR.serverForScanner);
        return r.outcome === 'connected' ? r : undefined;
      },
      (BANTIME + 15) * 1000,
      250,
    );
    const after = (Date.now() - bannedAt) / 1000;
    assert.equal(back.data, 'ok\n');
    // the ban was seen a little after it happened: allow 2 s
    assert.ok(after >= BANTIME - 2, `unbanned ${after.toFixed(1)} s after the ban, bantime ${BANTIME} s`);
    assert.deepEqual(await scene.f2b.banned(), []);
    assert.deepEqual(nftBanned(lab), []);
    const f2bLog = scene.f2b.logText();
    assert.equal(countOf(f2bLog, `[${JAIL}] Unban ${ADDR.scanner}\n`), 1, f2bLog);
    // nobody else was ever banned
    assert.equal(countOf(f2bLog, '] Ban '), 1, f2bLog);
  });
});
