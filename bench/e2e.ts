// `npm run bench:e2e [-- --runs N] [--backend polling|pyinotify] [--queue-threshold N|none]`:
// the end-to-end ban latency on Linux, in the scene of
// test/integration/e2e-ban.test.ts (namespaces, nftables logging to NFLOG,
// pfasciilogd -i nflog:N, fail2ban-server with the project's filter and jail
// and an nftables ban). Each run is a new attacker address in the scanner
// namespace: it probes 20 closed ports at once and then tries the open port
// every 10 ms; the latency is the time from its first probe to the first
// refused connection (the ban is in force). Prints every run, then p50, p95
// and max (default 20 runs).
//
// --backend: fail2ban's (default: pyinotify when fail2ban's Python has it,
// else polling, which looks at the log about once a second; polling is what
// the BSDs have, fail2ban having no kqueue backend). --queue-threshold: the
// log rules' nftables queue-threshold (default 1, as in
// etc/nftables/pfasciilogd.nft; none: the kernel's batching, which hands a
// partial batch of logged packets to tcpdump only after 1 s).
// Needs root, ip, nft, tcpdump and fail2ban; exits 1 with the reason without.

import { quantile, runLabBench } from './lab-bench.js';
import { parseArgs } from 'node:util';
import { OPEN_PORT, JAIL, missingPrerequisite, startScene, waitFor, ADDR, type ConnectResult, type RaceResult } from '../test/support/netns.js';
import type { Backend } from '../test/support/fail2ban-server.js';

const GROUP = 7;
const CLOSED_PORTS = Array.from({ length: 20 }, (_, i) => 3000 + i);
const PROBE_TIMEOUT_MS = 200;
const POLL_MS = 10;
const LIMIT_MS = 20_000;

function usage(msg: string): never {
  process.stderr.write(`bench:e2e: ${msg}\nusage: npm run bench:e2e -- [--runs N] [--backend polling|pyinotify] [--queue-threshold N|none]\n`);
  process.exit(64);
}

function options(): { runs: number; backend: Backend | undefined; queueThreshold: number | undefined } {
  let values;
  try {
    ({ values } = parseArgs({
      options: { runs: { type: 'string' }, backend: { type: 'string' }, 'queue-threshold': { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const runs = Number(values.runs ?? 20);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) usage('--runs takes 1..50');
  const b = values.backend;
  if (b !== undefined && b !== 'polling' && b !== 'pyinotify') usage('--backend takes polling or pyinotify');
  const rawQ = values['queue-threshold'] ?? '1';
  const q = rawQ === 'none' ? undefined : Number(rawQ);
  if (q !== undefined && (!Number.isInteger(q) || q < 1 || q > 65535)) usage('--queue-threshold takes 1..65535 or none');
  return { runs, backend: b, queueThreshold: q };
}

/** Epoch ms of fail2ban's first log message "[jail] <event> ADDR..." (its log stamps are local time, ms). */
function f2bEventAt(log: string, event: 'Found' | 'Ban', addr: string): number | undefined {
  const re = new RegExp(`^(\\d{4}-\\d\\d-\\d\\d) (\\d\\d:\\d\\d:\\d\\d),(\\d{3}) .*\\[${JAIL}\\] ${event} ${addr.replace(/\./g, '\\.')}\\b`, 'm');
  const m = re.exec(log);
  return m ? new Date(`${m[1]}T${m[2]}.${m[3]}`).getTime() : undefined;
}

function main(): void {
  const opts = options();
  const missing = missingPrerequisite();
  if (missing) {
    console.error(`bench:e2e: cannot run here: ${missing}`);
    process.exit(1);
  }
  runLabBench('bench:e2e', async (lab) => {
    const scene = await startScene(lab, {
      group: GROUP,
      maxretry: 10,
      findtime: 60,
      bantime: 3600,
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...(opts.queueThreshold !== undefined ? { queueThreshold: opts.queueThreshold } : {}),
    });
    console.log(`end-to-end ban latency: first of ${CLOSED_PORTS.length} probes (all at once) -> a connect to the open port is refused`);
    console.log(`fail2ban backend ${scene.backend}, maxretry 10, nftables log queue-threshold ${opts.queueThreshold ?? 'none (the kernel batches)'}, open port tried every ${POLL_MS} ms`);
    const totals: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      // a new attacker each run: no failures or ban left over from the last one
      const attacker = `10.77.1.${10 + i}`;
      lab.exec('scanner', ['ip', 'addr', 'add', `${attacker}/24`, 'dev', 'eth0']);
      const r = await lab.agent<RaceResult>(
        'scanner',
        'race',
        { host: ADDR.serverForScanner, port: OPEN_PORT, ports: CLOSED_PORTS, from: attacker, timeoutMs: PROBE_TIMEOUT_MS, pollMs: POLL_MS, limitMs: LIMIT_MS },
        LIMIT_MS + 10_000,
      );
      if (r.ms === null) throw new Error(`run ${i + 1}: ${attacker} was not banned within ${LIMIT_MS} ms (last outcome ${r.outcome})\n${scene.diagnostics()}`);
      const ban = await waitFor(`fail2ban's Ban notice for ${attacker}`, () => f2bEventAt(scene.f2b.logText(), 'Ban', attacker), 5000);
      const found = f2bEventAt(scene.f2b.logText(), 'Found', attacker) ?? NaN;
      totals.push(r.ms);
      const at = (t: number) => `${(t - r.t0).toFixed(0).padStart(4)} ms`;
      console.log(
        `run ${i + 1}: ${r.ms.toFixed(0).padStart(5)} ms   fail2ban: first failure read at ${at(found)}, Ban at ${at(ban)}; then ${r.outcome} after ${r.attempts} tries${i === 0 ? ' (the first ban also creates the nftables table)' : ''}`,
      );
      // the ban hit the attacker alone: the friend still gets in
      const f = await lab.agent<ConnectResult>('friend', 'connect', { host: ADDR.serverForFriend, port: OPEN_PORT, from: ADDR.friend, timeoutMs: 1000 });
      if (f.outcome !== 'connected') throw new Error(`run ${i + 1}: the friend cannot connect either (${f.outcome})\n${scene.diagnostics()}`);
      // the kernel may hand over the last probes a second later: keep them out
      // of the next run; a random pause, so that runs do not keep one phase of
      // fail2ban's 2 s polling cycles
      await new Promise((res) => setTimeout(res, 1200 + Math.random() * 2000));
    }
    const f = (x: number) => `${x.toFixed(0)} ms`;
    console.log(`${totals.length} runs: p50 ${f(quantile(totals, 0.5))}, p95 ${f(quantile(totals, 0.95))}, max ${f(Math.max(...totals))} (min ${f(Math.min(...totals))})`);
    return 0;
  });
}

main();
