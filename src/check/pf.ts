// pf: fail2ban's bans live in the anchor f2b/<jail>, which pf evaluates only
// where the main ruleset names it. `pfctl -sr` must therefore show
// anchor "f2b/*" before the first rule that blocks and logs inbound packets
// (see etc/pf.conf.example). The ruleset is read by a pure function over
// pfctl's text.

import { type CheckResult, ok, problem, skip } from './result.js';
import { findExecutable, firstLine, runTool } from './tools.js';

export interface PfRulesetFacts {
  /** rules in the listing */
  rules: number;
  /** the first anchor "f2b/*" that inbound packets reach, as pfctl prints it */
  anchor: { index: number; text: string } | null;
  /** the first block rule with "log" that applies to inbound packets */
  blockLog: { index: number; text: string } | null;
  /** the pflog interfaces the inbound block log rules log to, in order of first use */
  logInterfaces: string[];
}

// pfctl prints a rule as: action, for block its return policy ("drop",
// "return", "return-rst(ttl 64)", "return-icmp(port-unr, port-unr)"), the
// direction, then "log" with its options ("log (all, user, to pflog1)"), then
// "quick", "on IF" and the rest.
const BLOCK_LOG = /^block(?: (?:drop|return|return-rst(?:\([^)]*\))?|return-icmp6?(?:\([^)]*\))?))?(?: (in|out))? log(?: ?\(([^)]*)\))?(?: |$)/;
const BLOCK = /^block(?: |$)/;
const ANCHOR = /^anchor "f2b\/\*"(?: (in|out))?(?: |$)/;
/** Anything pfctl prints as a rule (not braces, not -v counters). */
const RULE = /^[a-z]/;

export function analysePfRuleset(text: string): PfRulesetFacts {
  const facts: PfRulesetFacts = { rules: 0, anchor: null, blockLog: null, logInterfaces: [] };
  for (const raw of text.split('\n')) {
    // "@3 block drop log all" with -v; rules of inline anchors are indented
    const line = raw.trim().replace(/^@\d+ /, '');
    if (!RULE.test(line)) continue;
    const index = facts.rules++;
    const a = ANCHOR.exec(line);
    if (a) {
      if (a[1] !== 'out' && facts.anchor === null) facts.anchor = { index, text: line };
      continue;
    }
    if (!BLOCK.test(line)) continue;
    const b = BLOCK_LOG.exec(line);
    if (!b || b[1] === 'out') continue; // outbound only: the jail counts "block in"
    if (facts.blockLog === null) facts.blockLog = { index, text: line };
    const to = b[2] !== undefined ? /\bto (pflog\d+)/.exec(b[2]) : null;
    const logIf = to ? to[1]! : 'pflog0';
    if (!facts.logInterfaces.includes(logIf)) facts.logInterfaces.push(logIf);
  }
  return facts;
}

const SEE = 'see etc/pf.conf.example';
const RELOAD = 'reload pf (pfctl -f /etc/pf.conf)';

export function pfVerdict(facts: PfRulesetFacts, captureInterface: string): CheckResult {
  const subject = 'pf ruleset';
  if (facts.rules === 0) {
    return problem(subject, 'pfctl -sr shows no rules: no ruleset is loaded', `load one with anchor "f2b/*" before block log all (pfctl -f /etc/pf.conf); ${SEE}`);
  }
  if (facts.blockLog === null) {
    const add = facts.anchor === null ? 'add anchor "f2b/*" and after it block log all' : 'add block log all after anchor "f2b/*"';
    return problem(subject, `no block rule logs inbound packets, so pf sends no blocked packet to ${captureInterface}`, `${add}, and ${RELOAD}; ${SEE}`);
  }
  const first = `the first block log rule (${facts.blockLog.text})`;
  if (facts.anchor === null) {
    return problem(subject, `no anchor "f2b/*": fail2ban's bans have no effect`, `add anchor "f2b/*" before your block log rules and ${RELOAD}; ${SEE}`);
  }
  if (facts.anchor.index > facts.blockLog.index) {
    return problem(subject, `anchor "f2b/*" comes after ${first}`, `move anchor "f2b/*" before your block log rules and ${RELOAD}; ${SEE}`);
  }
  if (/^pflog\d+$/.test(captureInterface) && !facts.logInterfaces.includes(captureInterface)) {
    const to = facts.logInterfaces.join(', ');
    return problem(subject, `the block log rules log to ${to}, but pfasciilogd captures ${captureInterface}`, `pass -i ${facts.logInterfaces[0]!}, or have the rules log to ${captureInterface}`);
  }
  return ok(subject, `anchor "f2b/*" comes before ${first}`);
}

export async function checkPf(captureInterface: string, platform: NodeJS.Platform = process.platform): Promise<CheckResult> {
  const subject = 'pf ruleset';
  const pfctl = findExecutable('pfctl', true);
  if (pfctl === undefined) return skip(subject, 'pfctl not found: not a pf host');
  const r = await runTool(pfctl, ['-sr'], 15_000);
  if (r.code !== 0) {
    // FreeBSD's pfctl also says "No ALTQ support in kernel" on success: not the reason
    const why = r.error ?? (firstLine(r.stderr.replace(/^.*ALTQ.*$/gm, '')) || `exit status ${r.code}`);
    const load = platform === 'freebsd' ? ', with pf loaded (sysrc pf_enable=YES && service pf start)' : '';
    return problem(subject, `pfctl -sr failed: ${why}`, `run the check as root${load}`);
  }
  return pfVerdict(analysePfRuleset(r.stdout), captureInterface);
}
