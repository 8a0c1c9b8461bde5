// The fleet of the issue, in network namespaces (a Lab, netns.ts):
//
//   scanner 203.0.113.77 (+ .78-.81) ─┬─ 203.0.113.2/28 ── 203.0.113.1  fw-a ── 192.0.2.1/28 ─┐ LAPI :8080
//                                     └─ 203.0.113.18/28 ─ 203.0.113.17 fw-b ── 192.0.2.2/28 ─┘
//   client  198.51.100.20 ────────────┬─ 198.51.100.2/28 ─ 198.51.100.1  fw-a
//                                     └─ 198.51.100.18/28  198.51.100.17 fw-b
//
// Each firewall: nftables (tcp 2222 open, the management link open, all else
// logged to NFLOG group 1 and dropped) with etc/crowdsec/crowdsec-bouncer.nft
// in front, pfasciilogd -i nflog:1 --format filterlog, a CrowdSec agent with
// the project's acquisition, scenario and whitelist, and the firewall bouncer
// with the project's nftables example. fw-a's crowdsec is agent and Local API
// in one process; fw-b's is an agent alone (-no-api) that reports to fw-a.
// The scanner's and the client's addresses sit on their loopback, so that
// both firewalls see the same source. Documentation ranges only: the stock
// whitelist spares the private ones.

import { join } from 'node:path';
import { Lab, MAIN_JS, must, readText, run, waitFor, type Proc } from './netns.js';
import { CrowdsecTree, OURS, bouncerConfig, metric, nftSetElements } from './crowdsec.js';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT_JS = join(dirname(fileURLToPath(import.meta.url)), 'netns.js');

export type FwRole = 'fwa' | 'fwb';

export const FLEET = {
  /** one scanner address per bench round: a source is blackholed for 1 min after its overflow */
  scanners: ['203.0.113.77', '203.0.113.78', '203.0.113.79', '203.0.113.80', '203.0.113.81'],
  client: '198.51.100.20',
  fwa: { scanSide: '203.0.113.1', scanPeer: '203.0.113.2', clientSide: '198.51.100.1', clientPeer: '198.51.100.2', mgmt: '192.0.2.1' },
  fwb: { scanSide: '203.0.113.17', scanPeer: '203.0.113.18', clientSide: '198.51.100.17', clientPeer: '198.51.100.18', mgmt: '192.0.2.2' },
} as const;
export const OPEN_PORT = 2222;
const LAPI_PORT = 8080;
const METRICS_PORT = 6060;
const GROUP = 1;
/** UDP port the client pokes until a firewall's pfasciilogd and agent have seen a line */
const READY_PORT = 9;
const LAPI = `${FLEET.fwa.mgmt}:${LAPI_PORT}`;

function ruleset(): string {
  return `table inet pffleet {
  chain input {
    type filter hook input priority filter; policy drop;
    iif "lo" accept
    ct state established,related accept
    iifname "peer" accept
    tcp dport ${OPEN_PORT} accept
    log group ${GROUP} prefix "pf-block" drop
  }
}
`;
}

export interface Firewall {
  role: FwRole;
  log: string;
  tree: CrowdsecTree;
  daemon: Proc;
  crowdsec: Proc;
  bouncer: Proc;
}

export interface Fleet {
  lab: Lab;
  fwa: Firewall;
  fwb: Firewall;
  updateFrequency: string;
  /** The addresses in a firewall's IPv4 ban set. */
  banned(fw: FwRole): string[];
  /** Runs cscli on fw-a (the LAPI). */
  cscli(...args: string[]): string;
  /** Tails of every log and process, for a failure report. */
  diagnostics(): string;
}

function tail(text: string, lines = 25): string {
  return text.split('\n').slice(-lines).join('\n');
}

function link(lab: Lab, a: { role: FwRole | 'scanner' | 'client'; ifname: string; addr: string }, b: typeof a, prefix = 28): void {
  must(['ip', 'link', 'add', a.ifname, 'netns', lab.ns(a.role), 'type', 'veth', 'peer', 'name', b.ifname, 'netns', lab.ns(b.role)]);
  for (const end of [a, b]) {
    must(['ip', '-n', lab.ns(end.role), 'addr', 'add', `${end.addr}/${prefix}`, 'dev', end.ifname]);
    must(['ip', '-n', lab.ns(end.role), 'link', 'set', end.ifname, 'up']);
  }
}

/** The agent's Prometheus counters, fetched from inside the namespace. */
function metrics(lab: Lab, role: FwRole): string {
  const script = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), () => {})`;
  return run(['ip', 'netns', 'exec', lab.ns(role), process.execPath, '-e', script]).stdout;
}

async function udpPoke(lab: Lab, role: FwRole): Promise<void> {
  await lab.agent('client', 'udp', { host: FLEET[role].clientSide, port: READY_PORT, from: FLEET.client });
}

/**
 * Builds the fleet in `lab`, each part proven to work before the next starts:
 * pfasciilogd has logged a packet, each agent has parsed a line of it, the
 * bouncers have fetched the decisions once.
 */
export async function startFleet(lab: Lab, updateFrequency = '1s'): Promise<Fleet> {
  for (const r of ['fwa', 'fwb', 'scanner', 'client'] as const) lab.addNamespace(r);
  link(lab, { role: 'fwa', ifname: 'scan', addr: FLEET.fwa.scanSide }, { role: 'scanner', ifname: 'to-a', addr: FLEET.fwa.scanPeer });
  link(lab, { role: 'fwb', ifname: 'scan', addr: FLEET.fwb.scanSide }, { role: 'scanner', ifname: 'to-b', addr: FLEET.fwb.scanPeer });
  link(lab, { role: 'fwa', ifname: 'client', addr: FLEET.fwa.clientSide }, { role: 'client', ifname: 'to-a', addr: FLEET.fwa.clientPeer });
  link(lab, { role: 'fwb', ifname: 'client', addr: FLEET.fwb.clientSide }, { role: 'client', ifname: 'to-b', addr: FLEET.fwb.clientPeer });
  link(lab, { role: 'fwa', ifname: 'peer', addr: FLEET.fwa.mgmt }, { role: 'fwb', ifname: 'peer', addr: FLEET.fwb.mgmt });
  for (const a of FLEET.scanners) must(['ip', '-n', lab.ns('scanner'), 'addr', 'add', `${a}/32`, 'dev', 'lo']);
  must(['ip', '-n', lab.ns('client'), 'addr', 'add', `${FLEET.client}/32`, 'dev', 'lo']);
  for (const fw of ['fwa', 'fwb'] as const) {
    for (const a of FLEET.scanners) must(['ip', '-n', lab.ns(fw), 'route', 'add', `${a}/32`, 'via', FLEET[fw].scanPeer]);
    must(['ip', '-n', lab.ns(fw), 'route', 'add', `${FLEET.client}/32`, 'via', FLEET[fw].clientPeer]);
    lab.exec(fw, ['nft', '-f', '-'], ruleset());
    lab.exec(fw, ['nft', '-f', OURS.nft]);
  }

  const fws = {} as Record<FwRole, Partial<Firewall>>;
  for (const fw of ['fwa', 'fwb'] as const) {
    const listener = lab.spawn(fw, `${fw} listener`, [process.execPath, AGENT_JS, 'listen', JSON.stringify({ port: OPEN_PORT })]);
    await waitFor(`${fw}'s listener`, () => {
      if (listener.exit) throw new Error(`listener exited: ${listener.stderr}`);
      return listener.stdout.includes('listening');
    }, 10_000, 50);
    const log = join(lab.dir, `${fw}-filter.log`);
    const daemon = lab.spawn(fw, `${fw} pfasciilogd`, [process.execPath, MAIN_JS, '-i', `nflog:${GROUP}`, '--format', 'filterlog', '-f', log, '-p', join(lab.dir, `${fw}.pid`), '-u', '']);
    await waitFor(`${fw}'s pfasciilogd to log a packet`, async () => {
      if (daemon.exit) throw new Error(`pfasciilogd exited ${JSON.stringify(daemon.exit)}: ${daemon.stderr}`);
      if (readText(log).includes(' filterlog[')) return true;
      await udpPoke(lab, fw);
      return false;
    }, 15_000, 200);
    const acquisition = readFileSync(OURS.acquisition, 'utf8').replace(/^( +- )\/var\/log\/filter\.log$/m, `$1${log}`);
    if (!acquisition.includes(log)) throw new Error(`${OURS.acquisition} does not list /var/log/filter.log`);
    const tree = new CrowdsecTree(join(lab.dir, `${fw}-crowdsec`), {
      lapi: LAPI,
      acquisition,
      scenarios: [OURS.scenario],
      enrich: [OURS.whitelist],
      prometheusPort: METRICS_PORT,
    });
    fws[fw] = { role: fw, log, tree, daemon };
  }
  const a = fws.fwa as Firewall;
  const b = fws.fwb as Firewall;
  // both machines are registered in fw-a's database, each with its own credentials
  must(a.tree.cscli('machines', 'add', 'fw-a', '--auto', '-f', a.tree.credentials, '--url', a.tree.url));
  must(a.tree.cscli('machines', 'add', 'fw-b', '--auto', '-f', b.tree.credentials, '--url', a.tree.url));
  a.crowdsec = lab.spawn('fwa', 'fw-a crowdsec (agent + LAPI)', a.tree.crowdsec());
  await waitFor('the Local API on fw-a', () => {
    if (a.crowdsec.exit) throw new Error(`crowdsec on fw-a exited ${JSON.stringify(a.crowdsec.exit)}: ${tail(a.crowdsec.stdout + a.crowdsec.stderr)}`);
    return /Local API listening/.test(a.crowdsec.stdout + a.crowdsec.stderr);
  }, 60_000, 200);
  b.crowdsec = lab.spawn('fwb', 'fw-b crowdsec (agent)', b.tree.crowdsec('-no-api'));
  // each agent tails from the end of its file: it is reading once a new line shows in its counters
  for (const fw of [a, b]) {
    await waitFor(`${fw.role}'s agent to parse a line`, async () => {
      if (fw.crowdsec.exit) throw new Error(`crowdsec on ${fw.role} exited ${JSON.stringify(fw.crowdsec.exit)}: ${tail(fw.crowdsec.stdout + fw.crowdsec.stderr)}`);
      if (metric(metrics(lab, fw.role), 'cs_parser_hits_ok_total') > 0) return true;
      await udpPoke(lab, fw.role);
      return false;
    }, 60_000, 500);
  }
  for (const fw of [a, b]) {
    const key = `pfasciilogd-fleet-${fw.role}-${process.pid}`;
    must(a.tree.cscli('bouncers', 'add', `${fw.role}-firewall`, '-k', key));
    const cfg = bouncerConfig(OURS.bouncerNftables, join(lab.dir, `${fw.role}-bouncer`), a.tree.url, key, updateFrequency);
    fw.bouncer = lab.spawn(fw.role, `${fw.role} bouncer`, ['crowdsec-firewall-bouncer', '-c', cfg]);
  }
  for (const fw of [a, b]) {
    await waitFor(`${fw.role}'s bouncer to reach the LAPI`, () => {
      if (fw.bouncer.exit) throw new Error(`bouncer on ${fw.role} exited ${JSON.stringify(fw.bouncer.exit)}: ${tail(fw.bouncer.stdout + fw.bouncer.stderr)}`);
      return /Processing new and deleted decisions/.test(fw.bouncer.stdout + fw.bouncer.stderr);
    }, 30_000, 100);
  }

  const banned = (fw: FwRole) => {
    const r = run(['ip', 'netns', 'exec', lab.ns(fw), 'nft', '-j', 'list', 'set', 'ip', 'crowdsec', 'crowdsec-blacklists']);
    return r.status === 0 ? nftSetElements(r.stdout) : [];
  };
  return {
    lab,
    fwa: a,
    fwb: b,
    updateFrequency,
    banned,
    cscli: (...args: string[]) => must(['ip', 'netns', 'exec', lab.ns('fwa'), ...a.tree.cscli(...args)]),
    diagnostics: () =>
      [
        ...[a, b].map((fw) => `--- ${fw.role} filter.log (tail)\n${tail(readText(fw.log), 10)}`),
        lab.report(),
        ...[a, b].map((fw) => `--- ${fw.role} nftables\n${run(['ip', 'netns', 'exec', lab.ns(fw.role), 'nft', 'list', 'ruleset']).stdout}`),
      ].join('\n'),
  };
}

/** Resident memory of a process and its children (ip netns exec execs the command itself), in KiB. */
export function rssKiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readText(`/proc/${pid}/status`));
  return m ? Number(m[1]) : null;
}
