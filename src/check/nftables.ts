// Linux: some nftables rule logs to the NFLOG group the daemon captures
// (-i nflog:N needs a rule with "log group N"). nft prints the statement as
// `log prefix "pf-block" group 1` (iptables-nft's NFLOG target the same);
// reading it is a pure function over `nft list ruleset`.

import { parseNflogDevice } from './interface.js';
import { type CheckResult, ok, problem, skip } from './result.js';
import { findExecutable, firstLine, runTool } from './tools.js';

const LOG_STATEMENT = /(?:^|\s)log((?:\s+(?:prefix\s+""|group\s+\d+|snaplen\s+\d+|queue-threshold\s+\d+|level\s+\S+|flags\s+\S+))*)/g;

export interface NftLogStatement {
  group: number;
  /** queue-threshold as listed; undefined when absent */
  threshold: number | undefined;
}

/** The log statements of an `nft list ruleset` listing that send to an NFLOG group, in order. */
export function nftLogStatements(ruleset: string): NftLogStatement[] {
  // quoted strings (prefixes, comments) emptied first: no text in them can look like a statement
  const text = ruleset.replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
  const found: NftLogStatement[] = [];
  for (const m of text.matchAll(LOG_STATEMENT)) {
    const g = /\bgroup\s+(\d+)/.exec(m[1]!);
    if (!g) continue;
    const q = /\bqueue-threshold\s+(\d+)/.exec(m[1]!);
    found.push({ group: Number(g[1]), threshold: q ? Number(q[1]) : undefined });
  }
  return found;
}

/** The NFLOG groups that log statements in an `nft list ruleset` listing send to, in order of first use. */
export function nftLogGroups(ruleset: string): number[] {
  const groups: number[] = [];
  for (const s of nftLogStatements(ruleset)) if (!groups.includes(s.group)) groups.push(s.group);
  return groups;
}

/**
 * A log statement without "queue-threshold 1" batches: the kernel
 * (nfnetlink_log) holds its packets until the threshold is reached or its
 * flush timer fires. Absent (or 0), the threshold is the group's default of
 * 100 packets (NFULNL_QTHRESH_DEFAULT) with a 1 s timer (NFULNL_TIMEOUT_DEFAULT),
 * and libpcap sets neither: an isolated blocked packet reached the log about
 * a second late. null when every statement of the wanted groups sends at once.
 */
export function nftBatching(statements: readonly NftLogStatement[], wanted: readonly number[]): CheckResult | null {
  const batched = statements.filter((s) => wanted.includes(s.group) && s.threshold !== 1);
  if (batched.length === 0) return null;
  const b = batched[0]!;
  const what = b.threshold === undefined || b.threshold === 0 ? 'no queue-threshold (the kernel then holds up to 100 packets, or 1 s)' : `queue-threshold ${b.threshold} (the kernel holds that many packets, or 1 s)`;
  return problem(
    'nftables',
    `${batched.length === 1 ? 'a rule logs' : `${batched.length} rules log`} to NFLOG group ${b.group} with ${what}: an isolated blocked packet reaches the log up to a second late`,
    `add queue-threshold 1 to the log statement (log group ${b.group} prefix "pf-block" queue-threshold 1 drop, as in etc/nftables/pfasciilogd.nft); with iptables, --nflog-threshold 1`,
  );
}

export function nftVerdict(logged: readonly number[], wanted: readonly number[]): CheckResult {
  const subject = 'nftables';
  const missing = wanted.filter((g) => !logged.includes(g));
  if (missing.length === 0) return ok(subject, `a rule logs to NFLOG group ${wanted.join(', ')}`);
  const example = `log group ${missing[0]!} prefix "pf-block" queue-threshold 1 drop`;
  if (logged.length === 0) {
    return problem(
      subject,
      'no rule logs to an NFLOG group',
      `end your input chain with ${example} (see etc/nftables/pfasciilogd.nft); rules loaded with iptables-legacy are not listed by nft: check those with iptables-legacy -S`,
    );
  }
  const groups = logged.join(', ');
  return problem(subject, `no rule logs to NFLOG group ${missing.join(', ')}; the ruleset logs to group ${groups}`, `pass -i nflog:${logged[0]!}, or log to group ${missing[0]!} (${example})`);
}

export async function checkNftables(captureInterface: string, readFile: string | undefined): Promise<CheckResult> {
  const subject = 'nftables';
  if (readFile !== undefined) return skip(subject, '-r: packets come from a file, not from the firewall');
  const wanted = parseNflogDevice(captureInterface);
  if (!wanted) return skip(subject, `${captureInterface} is not an NFLOG group: nothing to look for`);
  const nft = findExecutable('nft', true);
  if (nft === undefined) return skip(subject, 'nft not found (iptables rules are not checked)');
  const r = await runTool(nft, ['list', 'ruleset'], 15_000);
  if (r.code !== 0) {
    return problem(subject, `nft list ruleset failed: ${r.error ?? (firstLine(r.stderr) || `exit status ${r.code}`)}`, 'run the check as root');
  }
  const statements = nftLogStatements(r.stdout);
  const verdict = nftVerdict(nftLogGroups(r.stdout), wanted);
  return verdict.status === 'ok' ? (nftBatching(statements, wanted) ?? verdict) : verdict;
}
