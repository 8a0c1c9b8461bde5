// -i: the capture interface exists. Linux: /sys/class/net/NAME, or an NFLOG
// group (nflog:N); the BSDs: `ifconfig NAME` succeeds. The verdicts are pure
// functions over what was read, so they can be tested anywhere.

import * as fs from 'node:fs';
import { type CheckResult, ok, problem, skip } from './result.js';
import { findExecutable, firstLine, runTool } from './tools.js';

const MAX_GROUP = 65535;
/** libpcap takes at most this many groups in one nflog device */
const MAX_GROUPS = 32;

/**
 * The NFLOG groups of a libpcap netfilter device name: "nflog" is group 0,
 * "nflog:1" group 1, "nflog:1,2" both. undefined when `name` is no nflog
 * device at all; null when it starts like one but libpcap would refuse it.
 */
export function parseNflogDevice(name: string): number[] | null | undefined {
  if (!/^nflog(?::|$)/.test(name)) return undefined;
  if (name === 'nflog') return [0];
  const m = /^nflog:(\d{1,5}(?:,\d{1,5})*)$/.exec(name);
  if (!m) return null;
  const groups = m[1]!.split(',').map(Number);
  if (groups.length > MAX_GROUPS || groups.some((g) => g > MAX_GROUP)) return null;
  return groups;
}

/** The NFLOG groups some socket is bound to now, from /proc/net/netfilter/nfnetlink_log. */
export function boundNflogGroups(procText: string): Set<number> {
  const groups = new Set<number>();
  for (const line of procText.split('\n')) {
    const m = /^\s*(\d+)\s+\d+/.exec(line);
    if (m) groups.add(Number(m[1]));
  }
  return groups;
}

/** What Linux knows, for linuxInterfaceVerdict. */
export interface LinuxFacts {
  /** names in /sys/class/net, or null if it cannot be read */
  interfaces: string[] | null;
  /** /proc/net/netfilter/nfnetlink_log's text; null when absent (module not loaded), undefined when unreadable (not root) */
  nfnetlinkLog: string | null | undefined;
}

/** how to name an NFLOG group; "pass " + this is a fix of its own */
const NFLOG_ALT = '-i nflog:N, N (0 to 65535) being the group your nftables "log group N" or iptables "--nflog-group N" rule logs to';
const nflogFix = `pass ${NFLOG_ALT}`;

export function linuxInterfaceVerdict(name: string, facts: LinuxFacts): CheckResult {
  const subject = `interface ${name}`;
  const groups = parseNflogDevice(name);
  if (groups === null) return problem(subject, 'not a valid NFLOG device name', nflogFix);
  if (groups !== undefined) {
    const list = groups.join(', ');
    const what = `NFLOG group${groups.length > 1 ? 's' : ''} ${list}`;
    if (facts.nfnetlinkLog === null) return ok(subject, `${what} (nfnetlink_log is not loaded yet; the kernel loads it when tcpdump binds the group)`);
    if (facts.nfnetlinkLog === undefined) return ok(subject, what);
    const bound = boundNflogGroups(facts.nfnetlinkLog);
    const busy = groups.filter((g) => bound.has(g));
    if (busy.length > 0) return ok(subject, `${what}; group ${busy.join(', ')} is bound now (by a running pfasciilogd, or by another listener such as ulogd, which would keep tcpdump out)`);
    return ok(subject, `${what} (nfnetlink_log loaded)`);
  }
  if (name === 'any') return ok(subject, "tcpdump's pseudo-interface for all interfaces");
  if (name.length > 15 || name === '.' || name === '..' || /[/\s:]/.test(name)) {
    return problem(subject, 'not a valid Linux interface name', `pass -i with an interface from ip link, or ${NFLOG_ALT}`);
  }
  if (facts.interfaces === null) return skip(subject, 'cannot read /sys/class/net to look it up');
  if (facts.interfaces.includes(name)) return ok(subject, `exists (/sys/class/net/${name})`);
  const have = facts.interfaces.slice().sort().join(', ');
  if (/^pflog\d*$/.test(name)) {
    return problem(subject, `not found: pflog is pf's log interface, which Linux does not have`, nflogFix);
  }
  return problem(subject, `not found (this host has ${have || 'no interfaces'})`, `pass -i with one of them, or ${NFLOG_ALT}`);
}

/** A BSD interface name that is safe to hand to ifconfig as an operand. */
const BSD_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,15}$/;

export function bsdInterfaceVerdict(name: string, ifconfig: { code: number | null; stderr: string; error: string | null }): CheckResult {
  const subject = `interface ${name}`;
  if (ifconfig.error !== null) return skip(subject, `ifconfig could not be run: ${ifconfig.error}`);
  if (ifconfig.code === 0) return ok(subject, 'exists (ifconfig)');
  const said = firstLine(ifconfig.stderr);
  const found = `not found${said ? ` (${said})` : ''}`;
  if (/^pflog\d+$/.test(name)) {
    return problem(subject, found, `create it (ifconfig ${name} create; FreeBSD: sysrc pflog_enable=YES && service pflog start), or pass -i with the pflog interface your pf rules log to`);
  }
  return problem(subject, found, 'pass -i with an existing interface (pflog0 for pf)');
}

function readLinuxFacts(): LinuxFacts {
  let interfaces: string[] | null;
  try {
    interfaces = fs.readdirSync('/sys/class/net');
  } catch {
    interfaces = null;
  }
  let nfnetlinkLog: string | null | undefined;
  try {
    nfnetlinkLog = fs.readFileSync('/proc/net/netfilter/nfnetlink_log', 'latin1');
  } catch (err) {
    nfnetlinkLog = (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
  return { interfaces, nfnetlinkLog };
}

export async function checkInterface(name: string, readFile: string | undefined, platform: NodeJS.Platform = process.platform): Promise<CheckResult> {
  if (readFile !== undefined) {
    // -r: tcpdump reads the file; no interface is opened
    const subject = `capture file ${readFile}`;
    try {
      fs.accessSync(readFile, fs.constants.R_OK);
      if (!fs.statSync(readFile).isFile()) return problem(subject, 'not a regular file', 'pass -r with a pcap file');
      return ok(subject, 'readable (-r: tcpdump reads it instead of an interface)');
    } catch (err) {
      return problem(subject, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'pass -r with a readable pcap file');
    }
  }
  if (platform === 'linux') return linuxInterfaceVerdict(name, readLinuxFacts());
  const subject = `interface ${name}`;
  if (parseNflogDevice(name) !== undefined) return problem(subject, 'NFLOG exists only on Linux', "pass -i with pf's log interface (pflog0)");
  if (!BSD_NAME.test(name)) return problem(subject, 'not a valid interface name', 'pass -i with an existing interface (pflog0 for pf)');
  const ifconfig = findExecutable('ifconfig', true);
  if (ifconfig === undefined) return skip(subject, 'ifconfig not found, cannot look the interface up');
  return bsdInterfaceVerdict(name, await runTool(ifconfig, [name], 10_000));
}
