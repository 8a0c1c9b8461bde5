// CrowdSec for the tests, offline, without systemd and without touching
// /etc/crowdsec: a config tree of its own per component in a temp directory,
// with the stock parsers and scenario linked from the hub snapshot Debian
// ships in /usr/share/crowdsec/hub (as the Debian package links them into
// /etc/crowdsec) and the project's etc/crowdsec files, plus readers for what
// cscli prints. The processes themselves run in a Lab's namespaces (netns.ts),
// which stops them and removes their nftables tables with the namespaces.

import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool } from './unavailable.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ETC = join(ROOT, 'etc/crowdsec');

/** The project's CrowdSec files. */
export const OURS = {
  acquisition: join(ETC, 'acquis.d/pfasciilogd.yaml'),
  scenario: join(ETC, 'scenarios/pfasciilogd-pf-scan-multi_ports-proto.yaml'),
  whitelist: join(ETC, 'parsers/s02-enrich/pfasciilogd-whitelist.yaml'),
  bouncerNftables: join(ETC, 'bouncers/crowdsec-firewall-bouncer.nftables.yaml'),
  bouncerPf: join(ETC, 'bouncers/crowdsec-firewall-bouncer.pf.yaml'),
  nft: join(ETC, 'crowdsec-bouncer.nft'),
  pfAnchor: join(ETC, 'pf-crowdsec.conf'),
} as const;

export const HUB = '/usr/share/crowdsec/hub';
/** Debian installs the grok patterns as conffiles, not into the hub. */
export const PATTERNS = '/etc/crowdsec/patterns';

/** What the Debian package's linux collection and the hub's pf collection enable, by stage. */
const STOCK_PARSERS: Record<string, string[]> = {
  's00-raw': ['crowdsecurity/syslog-logs.yaml'],
  's01-parse': ['firewallservices/pf-logs.yaml'],
  's02-enrich': ['crowdsecurity/dateparse-enrich.yaml', 'crowdsecurity/whitelists.yaml'],
};
const STOCK_SCENARIO_FILE = 'firewallservices/pf-scan-multi_ports.yaml';
export const STOCK_SCENARIO = 'firewallservices/pf-scan-multi_ports';
export const OUR_SCENARIO = 'pfasciilogd/pf-scan-multi_ports-proto';

/** Why CrowdSec cannot run here, or undefined when it can. */
export function crowdsecMissing(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (Debian\'s crowdsec packages, namespaces, nftables)';
  if (process.getuid?.() !== 0) return 'needs root (namespaces, nftables)';
  for (const tool of ['crowdsec', 'cscli', 'crowdsec-firewall-bouncer', 'nft', 'ip']) {
    if (!findTool(tool)) return `${tool} not found (apt-get install crowdsec crowdsec-firewall-bouncer nftables iproute2; see .ci/run for the offline install)`;
  }
  const files = [
    ...Object.entries(STOCK_PARSERS).flatMap(([stage, names]) => names.map((n) => join(HUB, 'parsers', stage, n))),
    join(HUB, 'scenarios', STOCK_SCENARIO_FILE),
    join(PATTERNS, 'firewalls'),
  ];
  for (const f of files) if (!existsSync(f)) return `${f} not found (Debian's crowdsec package ships it)`;
  return undefined;
}

export interface TreeOptions {
  /** host:port of the Local API: where it listens, or where an agent finds it */
  lapi: string;
  /** acquisition YAML (what a live agent tails); default: none that exists */
  acquisition?: string;
  /** scenario files enabled beside the stock one */
  scenarios?: string[];
  /** extra s02-enrich parsers (whitelists) */
  enrich?: string[];
  /** leave the stock scenario out */
  noStockScenario?: boolean;
  /** port of the Prometheus endpoint on 127.0.0.1 (off when unset): the agent's counters */
  prometheusPort?: number;
}

/**
 * A CrowdSec configuration tree in `dir`: config.yaml (foreground, logs on
 * stdout, no Central API, no Prometheus), its own sqlite database, the stock
 * pf parsers and scenario (symlinks into the hub) and copies of the given files.
 */
export class CrowdsecTree {
  readonly config: string;
  readonly credentials: string;

  constructor(
    readonly dir: string,
    readonly o: TreeOptions,
  ) {
    const etc = join(dir, 'etc');
    for (const d of ['parsers/s00-raw', 'parsers/s01-parse', 'parsers/s02-enrich', 'scenarios', 'postoverflows', 'collections']) {
      mkdirSync(join(etc, d), { recursive: true });
    }
    mkdirSync(join(dir, 'data'), { recursive: true });
    for (const [stage, names] of Object.entries(STOCK_PARSERS)) {
      for (const n of names) symlinkSync(join(HUB, 'parsers', stage, n), join(etc, 'parsers', stage, n.split('/')[1]!));
    }
    // local items are copied, as an admin installs them: crowdsec ignores a
    // symlink that does not point into its hub
    for (const f of o.enrich ?? []) copyFileSync(f, join(etc, 'parsers/s02-enrich', f.split('/').pop()!));
    if (!o.noStockScenario) symlinkSync(join(HUB, 'scenarios', STOCK_SCENARIO_FILE), join(etc, 'scenarios', 'pf-scan-multi_ports.yaml'));
    for (const f of o.scenarios ?? []) copyFileSync(f, join(etc, 'scenarios', f.split('/').pop()!));
    symlinkSync(PATTERNS, join(etc, 'patterns'));
    writeFileSync(join(etc, 'simulation.yaml'), 'simulation: off\n');
    writeFileSync(
      join(etc, 'profiles.yaml'),
      ['name: default_ip_remediation', 'filters:', ' - Alert.Remediation == true && Alert.GetScope() == "Ip"', 'decisions:', ' - type: ban', '   duration: 4h', 'on_success: break', ''].join('\n'),
    );
    writeFileSync(join(etc, 'acquis.yaml'), o.acquisition ?? `filenames:\n  - ${join(dir, 'none.log')}\nlabels:\n  type: syslog\n`);
    this.credentials = join(etc, 'local_api_credentials.yaml');
    this.config = join(etc, 'config.yaml');
    writeFileSync(
      this.config,
      `common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: ${dir}
config_paths:
  config_dir: ${etc}/
  data_dir: ${dir}/data/
  simulation_path: ${etc}/simulation.yaml
  hub_dir: ${HUB}/
  index_path: ${HUB}/.index.json
crowdsec_service:
  acquisition_path: ${etc}/acquis.yaml
  parser_routines: 1
cscli:
  output: human
  color: no
  hub_branch: master
db_config:
  type: sqlite
  db_path: ${dir}/data/crowdsec.db
  use_wal: false
api:
  client:
    credentials_path: ${this.credentials}
  server:
    listen_uri: ${o.lapi}
    profiles_path: ${etc}/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
${o.prometheusPort === undefined ? '  enabled: false' : `  enabled: true\n  level: full\n  listen_addr: 127.0.0.1\n  listen_port: ${o.prometheusPort}`}
`,
    );
  }

  /** argv of cscli on this tree. */
  cscli(...args: string[]): string[] {
    return ['cscli', '-c', this.config, ...args];
  }

  /** argv of crowdsec on this tree. */
  crowdsec(...args: string[]): string[] {
    return ['crowdsec', '-c', this.config, ...args];
  }

  /** The LAPI's URL as agents and bouncers write it. */
  get url(): string {
    return `http://${this.o.lapi}/`;
  }
}

/** A counter of the agent's Prometheus text, summed over its labels (0 when absent). */
export function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

/** A bouncer config made from one of the project's examples, pointed at `url` with `key`. */
export function bouncerConfig(example: string, dir: string, url: string, key: string, updateFrequency = '1s'): string {
  mkdirSync(dir, { recursive: true });
  let text = readFileSync(example, 'utf8');
  const set = (k: string, v: string) => {
    const re = new RegExp(`^${k}:.*$`, 'm');
    if (!re.test(text)) throw new Error(`${example} has no ${k}:`);
    text = text.replace(re, `${k}: ${v}`);
  };
  set('api_url', url);
  set('api_key', key);
  set('update_frequency', updateFrequency);
  set('log_mode', 'stdout');
  set('pid_dir', `${dir}/`);
  const file = join(dir, 'bouncer.yaml');
  writeFileSync(file, text);
  return file;
}

// ---------------------------------------------------------------------------
// what cscli prints

export interface Explained {
  line: string;
  /** every stage passed ("parser success") */
  success: boolean;
  whitelisted: boolean;
  sourceIp: string | undefined;
  dstPort: string | undefined;
  /** the scenarios the event was poured into */
  scenarios: string[];
}

/** `cscli explain -v` output, one entry per log line in the order printed. */
export function parseExplain(out: string): Explained[] {
  const blocks = out.split(/^line: /m).slice(1);
  return blocks.map((b) => {
    const nl = b.indexOf('\n');
    const body = b.slice(nl + 1);
    const after = body.split('├ Scenarios')[1] ?? '';
    return {
      line: b.slice(0, nl),
      success: body.includes('parser success'),
      whitelisted: body.includes('[whitelisted]'),
      sourceIp: /create evt\.Meta\.source_ip : (\S+)/.exec(body)?.[1],
      dstPort: /create evt\.Parsed\.dst_port : (\S*)/.exec(body)?.[1],
      scenarios: [...after.matchAll(/🟢 (\S+)/g)].map((m) => m[1]!),
    };
  });
}

export interface Alert {
  scenario: string;
  value: string;
  decisions: number;
}

/** `cscli alerts list -o json`: which scenario fired for which source. */
export function parseAlerts(json: string): Alert[] {
  const list = JSON.parse(json.trim() === '' || json.trim() === 'null' ? '[]' : json) as Array<{
    scenario: string;
    source: { value: string };
    decisions: unknown[] | null;
  }> | null;
  return (list ?? []).map((a) => ({ scenario: a.scenario, value: a.source.value, decisions: a.decisions?.length ?? 0 }));
}

/** Addresses in an nftables set (`nft -j list set ...` output). */
export function nftSetElements(json: string): string[] {
  const out: string[] = [];
  for (const item of (JSON.parse(json) as { nftables: Array<{ set?: { elem?: unknown[] } }> }).nftables) {
    for (const e of item.set?.elem ?? []) {
      if (typeof e === 'string') out.push(e);
      else if (e && typeof e === 'object' && 'elem' in e) {
        const v = (e as { elem: { val?: unknown } }).elem.val;
        if (typeof v === 'string') out.push(v);
      }
    }
  }
  return out.sort();
}
