// Fleet-wide bans through CrowdSec (test/support/fleet.ts): a scanner probes
// fw-a, and fw-b, which it never probed, drops it; a client that retries one
// port on both firewalls is banned nowhere; `cscli decisions delete` lifts the
// ban on both; and nothing is left behind, not even by a run that was killed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Lab, removeStale, run, waitFor, type ConnectResult, type ProbeResult, type RaceResult } from '../support/netns.js';
import { unavailable } from '../support/unavailable.js';
import { crowdsecMissing, parseAlerts } from '../support/crowdsec.js';
import { FLEET, OPEN_PORT, startFleet, type Fleet } from '../support/fleet.js';
import { isAlive } from '../../src/daemon/pidfile.js';

const SCANNER = FLEET.scanners[0];

function namespaces(): string[] {
  return run(['ip', 'netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

async function connect(f: Fleet, from: 'scanner' | 'client', fw: 'fwa' | 'fwb', src: string): Promise<string> {
  const host = from === 'scanner' ? FLEET[fw].scanSide : FLEET[fw].clientSide;
  const r = await f.lab.agent<ConnectResult>(from, 'connect', { host, port: OPEN_PORT, from: src, timeoutMs: 1000 });
  return r.outcome;
}

test('fleet: a scanner of fw-a is dropped by fw-b; a one-port client nowhere; cscli decisions delete lifts the ban on both; nothing left behind', async (t) => {
  const missing = crowdsecMissing();
  if (missing) return unavailable(t, missing);
  removeStale();
  const lab = new Lab();
  let fleet: Fleet | undefined;
  const pids: number[] = [];
  try {
    fleet = await startFleet(lab, '1s');
    const f = fleet;
    for (const fw of [f.fwa, f.fwb]) for (const p of [fw.daemon, fw.crowdsec, fw.bouncer]) if (p.child.pid) pids.push(p.child.pid);

    // before: both firewalls answer the scanner and the client on the open port
    for (const fw of ['fwa', 'fwb'] as const) {
      assert.equal(await connect(f, 'scanner', fw, SCANNER), 'connected', `scanner → ${fw} before the scan`);
      assert.equal(await connect(f, 'client', fw, FLEET.client), 'connected', `client → ${fw} before`);
    }

    // the client: 500 blocked SYNs to tcp/443 on each firewall, 100 at a time
    for (const fw of ['fwa', 'fwb'] as const) {
      for (let round = 0; round < 5; round++) {
        await f.lab.agent<ProbeResult>('client', 'probe', { host: FLEET[fw].clientSide, ports: Array(100).fill(443), from: FLEET.client, timeoutMs: 300 }, 30_000);
      }
    }

    // the scanner: 30 ports on fw-a only, then fw-b's open port until it stops answering
    const race = await f.lab.agent<RaceResult>('scanner', 'relay', {
      host: FLEET.fwa.scanSide,
      ports: Array.from({ length: 30 }, (_, i) => 1000 + i),
      host2: FLEET.fwb.scanSide,
      port: OPEN_PORT,
      from: SCANNER,
      timeoutMs: 300,
      pollMs: 100,
      limitMs: 60_000,
    }, 90_000);
    assert.notEqual(race.ms, null, `fw-b never dropped the scanner (last outcome ${race.outcome})`);
    assert.equal(race.outcome, 'timeout', 'dropped, not refused');
    t.diagnostic(`last probe on fw-a → drop on fw-b: ${Math.round(race.ms!)} ms (bouncer update_frequency ${f.updateFrequency})`);
    await waitFor('the ban on fw-a too', () => f.banned('fwa').includes(SCANNER), 30_000, 200);
    assert.deepEqual(f.banned('fwb'), [SCANNER], 'fw-b bans the scanner and only it');
    assert.deepEqual(f.banned('fwa'), [SCANNER], 'fw-a bans the scanner and only it');
    assert.equal(await connect(f, 'scanner', 'fwa', SCANNER), 'timeout', 'fw-a drops the scanner');

    // the alerts came from fw-a's agent only; fw-b's agent saw the client and nothing of the scanner
    const alerts = parseAlerts(f.cscli('alerts', 'list', '-o', 'json'));
    assert.ok(alerts.length > 0 && alerts.every((a) => a.value === SCANNER), `alerts: ${JSON.stringify(alerts)}`);
    // the client's lines were read by both agents before the scanner's (one file each, in order)
    for (const fw of ['fwa', 'fwb'] as const) assert.equal(await connect(f, 'client', fw, FLEET.client), 'connected', `client → ${fw} after`);
    assert.ok(!f.banned('fwa').includes(FLEET.client) && !f.banned('fwb').includes(FLEET.client));

    // lifting the ban once, on the LAPI, lifts it everywhere
    f.cscli('decisions', 'delete', '--ip', SCANNER);
    for (const fw of ['fwa', 'fwb'] as const) {
      await waitFor(`${fw} to lift the ban`, () => !f.banned(fw).includes(SCANNER), 30_000, 200);
      assert.equal(await connect(f, 'scanner', fw, SCANNER), 'connected', `scanner → ${fw} after cscli decisions delete`);
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${msg}\n${fleet?.diagnostics() ?? lab.report()}`);
  } finally {
    await lab.destroy();
  }
  // teardown: no process, namespace or nftables table (they lived in the namespaces) left
  for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} still runs`);
  const mine = namespaces().filter((n) => n.startsWith(`pfe2e${process.pid}-`));
  assert.deepEqual(mine, []);
  assert.doesNotMatch(run(['nft', 'list', 'tables']).stdout, /pffleet|crowdsec/, 'nothing in the host namespace');
});

test('fleet: a run killed half way leaves nothing the next run does not remove', async (t) => {
  const missing = crowdsecMissing();
  if (missing) return unavailable(t, missing);
  // a child process builds a firewall namespace with its nft tables and a crowdsec LAPI in it, then is SIGKILLed
  const script = `
    import { Lab } from ${JSON.stringify(new URL('../support/netns.js', import.meta.url).href)};
    import { CrowdsecTree, OURS } from ${JSON.stringify(new URL('../support/crowdsec.js', import.meta.url).href)};
    import { join } from 'node:path';
    const lab = new Lab();
    lab.addNamespace('fwa');
    lab.exec('fwa', ['nft', '-f', OURS.nft]);
    const tree = new CrowdsecTree(join(lab.dir, 'cs'), { lapi: '127.0.0.1:8080' });
    const p = lab.spawn('fwa', 'lapi', tree.crowdsec('-no-cs'));
    const tick = setInterval(() => {
      if (/Local API listening/.test(p.stdout + p.stderr)) { clearInterval(tick); process.stdout.write(JSON.stringify({ ns: lab.ns('fwa'), pid: p.child.pid, dir: lab.dir }) + '\\n'); }
    }, 100);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const info = await waitFor('the doomed run to start its LAPI', () => {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${err}`);
    return out.includes('\n') ? (JSON.parse(out) as { ns: string; pid: number; dir: string }) : false;
  }, 60_000, 100);
  child.kill('SIGKILL');
  await new Promise((res) => child.once('close', res));
  assert.ok(namespaces().includes(info.ns) && isAlive(info.pid), 'the killed run left its namespace and crowdsec behind');

  const removed = removeStale();
  assert.ok(removed.includes(info.ns) && removed.includes(info.dir), `removeStale removed ${JSON.stringify(removed)}`);
  assert.ok(!namespaces().includes(info.ns), 'namespace gone (and its nft tables with it)');
  await waitFor('the orphaned crowdsec to die', () => !isAlive(info.pid), 5000, 50);
});
