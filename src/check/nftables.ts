// Linux: some nftables rule logs to the NFLOG group the daemon captures
// (-i nflog:N needs a rule with "log group N"). nft prints the statement as
// `log prefix "pf-block" group 1` (iptables-nft's NFLOG target the same);
// reading it is a pure function over `nft list ruleset`.

import { parseNflogDevice } from './interface.js';
import { type CheckResult, ok, problem, skip } from './result.js';
import { findExecutable, firstLine, runTool } from './tools.js';

const LOG_STATEMENT = /(?:^|\s)log((?:\s+(?:prefix\s+""|group\s+\d+|snaplen\s+\d+|queue-threshold\s+\d+|level\s+\S+|flags\s+\S+))*)/g;

/** The NFLOG groups that log statements in an `nft list ruleset` listing send to, in order of first use. */
export function nftLogGroups(ruleset: string): number[] {
  // quoted strings (prefixes, comments) emptied first: no text in them can look like a statement
  const text = ruleset.replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
  const groups: number[] = [];
  for (const m of text.matchAll(LOG_STATEMENT)) {
    const g = /\bgroup\s+(\d+)/.exec(m[1]!);
    if (g && !groups.includes(Number(g[1]))) groups.push(Number(g[1]));
  }
  return groups;
}

export function nftVerdict(logged: readonly number[], wanted: readonly number[]): CheckResult {
  const subject = 'nftables';
  const missing = wanted.filter((g) => !logged.includes(g));
  if (missing.length === 0) return ok(subject, `a rule logs to NFLOG group ${wanted.join(', ')}`);
  const example = `log group ${missing[0]!} prefix "pf-block" drop`;
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
  return nftVerdict(nftLogGroups(r.stdout), wanted);
}
