// `npm run bench:fleet [-- --runs N] [--update-frequency DURATION]`: the
// fleet-wide ban latency through CrowdSec, in the scene of
// test/integration/fleet.test.ts (test/support/fleet.ts): a scanner probes 30
// closed ports of fw-a at once, then tries fw-b's open port every 100 ms; the
// latency runs from its last probe on fw-a to the first try that fw-b drops.
// Each run is a new scanner address (CrowdSec blackholes a source for a minute
// after its overflow), and its ban is deleted afterwards. Prints every run,
// the median, the bouncers' update_frequency, and the memory of each
// component. Needs root, Debian's crowdsec and crowdsec-firewall-bouncer, ip,
// nft and tcpdump; exits 1 with the reason without.

import { quantile, runLabBench } from './lab-bench.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { removeStale, waitFor, type ConnectResult, type RaceResult } from '../test/support/netns.js';
import { crowdsecMissing } from '../test/support/crowdsec.js';
import { FLEET, OPEN_PORT, startFleet, type Fleet } from '../test/support/fleet.js';
import { readVmHWM } from './measure.js';
import { printTable } from './report.js';

const CLOSED_PORTS = Array.from({ length: 30 }, (_, i) => 1000 + i);
const PROBE_TIMEOUT_MS = 300;
const POLL_MS = 100;
const LIMIT_MS = 60_000;

function usage(msg: string): never {
  process.stderr.write(`bench:fleet: ${msg}\nusage: npm run bench:fleet -- [--runs N] [--update-frequency DURATION]\n`);
  process.exit(64);
}

function options(): { runs: number; updateFrequency: string } {
  let values;
  try {
    ({ values } = parseArgs({ options: { runs: { type: 'string' }, 'update-frequency': { type: 'string' } }, strict: true }));
  } catch (err) {
    usage((err as Error).message);
  }
  const runs = Number(values.runs ?? 5);
  if (!Number.isInteger(runs) || runs < 1 || runs > FLEET.scanners.length) usage(`--runs takes 1..${FLEET.scanners.length}`);
  const updateFrequency = values['update-frequency'] ?? '1s';
  if (!/^\d+(ms|s|m)$/.test(updateFrequency)) usage('--update-frequency takes a Go duration such as 1s or 500ms');
  return { runs, updateFrequency };
}

function status(pid: number | undefined, field: 'VmRSS'): number | null {
  if (pid === undefined) return null;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function children(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
  } catch {
    return '?';
  }
}

function memoryRows(f: Fleet): string[][] {
  const mb = (b: number | null) => (b === null ? 'n/a' : (b / 1e6).toFixed(1));
  const rows = [['component', 'RSS MB', 'peak RSS MB']];
  for (const fw of [f.fwa, f.fwb]) {
    const name = fw.role === 'fwa' ? 'fw-a' : 'fw-b';
    const comps: Array<[string, number | undefined]> = [
      [`${name} pfasciilogd (node)`, fw.daemon.child.pid],
      ...children(fw.daemon.child.pid).map((p): [string, number] => [`${name}   its child ${comm(p)}`, p]),
      [`${name} crowdsec ${fw.role === 'fwa' ? '(agent + LAPI)' : '(agent)'}`, fw.crowdsec.child.pid],
      [`${name} crowdsec-firewall-bouncer`, fw.bouncer.child.pid],
    ];
    for (const [label, pid] of comps) rows.push([label, mb(status(pid, 'VmRSS')), mb(pid === undefined ? null : readVmHWM(pid))]);
  }
  return rows;
}

function main(): void {
  const opts = options();
  const missing = crowdsecMissing();
  if (missing) {
    console.error(`bench:fleet: cannot run here: ${missing}`);
    process.exit(1);
  }
  removeStale();
  runLabBench('bench:fleet', async (lab) => {
    const f = await startFleet(lab, opts.updateFrequency);
    console.log(`fleet ban latency: last of ${CLOSED_PORTS.length} probes to fw-a (all at once) -> fw-b drops a connect to its open port`);
    console.log(`crowdsec 1.4.6 agents (fw-a: agent + LAPI, fw-b: agent), scenario overflow at 16 distinct pairs; bouncer update_frequency ${opts.updateFrequency}; fw-b tried every ${POLL_MS} ms`);
    const totals: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const scanner = FLEET.scanners[i]!;
      const r = await f.lab.agent<RaceResult>(
        'scanner',
        'relay',
        { host: FLEET.fwa.scanSide, ports: CLOSED_PORTS, host2: FLEET.fwb.scanSide, port: OPEN_PORT, from: scanner, timeoutMs: PROBE_TIMEOUT_MS, pollMs: POLL_MS, limitMs: LIMIT_MS },
        LIMIT_MS + 30_000,
      );
      if (r.ms === null) throw new Error(`run ${i + 1}: fw-b never dropped ${scanner} (last outcome ${r.outcome})\n${f.diagnostics()}`);
      totals.push(r.ms);
      console.log(`run ${i + 1}: ${r.ms.toFixed(0).padStart(5)} ms   (${scanner}; ${r.outcome} after ${r.attempts} tries)`);
      f.cscli('decisions', 'delete', '--ip', scanner);
      for (const fw of ['fwa', 'fwb'] as const) await waitFor(`${fw} to lift the ban on ${scanner}`, () => !f.banned(fw).includes(scanner), 30_000, 200);
      const c = await f.lab.agent<ConnectResult>('scanner', 'connect', { host: FLEET.fwb.scanSide, port: OPEN_PORT, from: scanner, timeoutMs: 1000 });
      if (c.outcome !== 'connected') throw new Error(`run ${i + 1}: ${scanner} still cannot reach fw-b after cscli decisions delete (${c.outcome})`);
      // different phases of the bouncers' polling cycle
      await new Promise((res) => setTimeout(res, 500 + Math.random() * 1000));
    }
    console.log(`median of ${totals.length}: ${quantile(totals, 0.5).toFixed(0)} ms (min ${Math.min(...totals).toFixed(0)}, max ${Math.max(...totals).toFixed(0)})`);
    printTable(memoryRows(f));
    return 0;
  });
}

main();
