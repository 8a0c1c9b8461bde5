// One check's verdict, and the line it prints: "ok", "problem" or "skip",
// what was checked, what was found and, for a problem, the fix.

import { escapeText } from '../format/escape.js';

export type CheckStatus = 'ok' | 'problem' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** what was checked: "tcpdump", "interface pflog0", "log file /var/log/pf.log" */
  subject: string;
  /** what was found, or why the check does not apply */
  detail: string;
  /** for a problem: what to do about it */
  fix?: string;
}

export const ok = (subject: string, detail: string): CheckResult => ({ status: 'ok', subject, detail });
export const skip = (subject: string, detail: string): CheckResult => ({ status: 'skip', subject, detail });
export const problem = (subject: string, detail: string, fix: string): CheckResult => ({ status: 'problem', subject, detail, fix });

/** "ok       tcpdump: /usr/bin/tcpdump, ..." - one line of printable ASCII, whatever a path or a tool said. */
export function formatResult(r: CheckResult): string {
  const text = `${r.subject}: ${r.detail}${r.fix !== undefined ? `; ${r.fix}` : ''}`;
  return `${r.status.padEnd(9)}${escapeText(text.replace(/\s*\n\s*/g, ' '))}`;
}
