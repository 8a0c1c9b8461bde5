// `pfasciilogd check`: every check in turn, one line each as it finishes.

import type { DaemonOptions } from '../cli/options.js';
import { checkFilterInstalled, checkFilterMatch, locateFilter } from './filter.js';
import { checkInterface } from './interface.js';
import { checkNftables } from './nftables.js';
import { checkLogFile, checkPidFile } from './paths.js';
import { checkPf } from './pf.js';
import { type CheckResult, formatResult, problem } from './result.js';
import { checkTcpdump } from './tcpdump.js';
import { checkUser } from './user.js';

export interface CheckOptions {
  /** the flags the daemon would be started with */
  daemon: DaemonOptions;
  /** --filter: the installed fail2ban filter; undefined: look in the usual places */
  filter: string | undefined;
  /** --lines: how many of the log's last lines fail2ban-regex tries */
  lines: number;
}

interface Check {
  /** what the line is about if the check itself fails */
  subject: string;
  run(): Promise<CheckResult> | CheckResult;
}

export function planChecks(o: CheckOptions, platform: NodeJS.Platform = process.platform): Check[] {
  const d = o.daemon;
  const filter = locateFilter(o.filter);
  const checks: Check[] = [
    { subject: 'tcpdump', run: () => checkTcpdump(d.tcpdump, platform) },
    { subject: `user ${d.user}`, run: () => checkUser(d.user, platform) },
    { subject: `interface ${d.interface}`, run: () => checkInterface(d.interface, d.readFile, platform) },
    { subject: `log file ${d.logFile}`, run: () => checkLogFile(d.logFile) },
    ...d.outputs.map((out) => ({ subject: `log file ${out.path}`, run: () => checkLogFile(out.path, `-o ${out.format}:PATH`) })),
    { subject: `pidfile ${d.pidFile}`, run: () => checkPidFile(d.pidFile) },
    { subject: 'fail2ban filter', run: () => checkFilterInstalled(o.filter, filter, platform) },
    { subject: 'fail2ban-regex', run: () => checkFilterMatch(filter, d.logFile, o.lines, platform) },
    { subject: 'pf ruleset', run: () => checkPf(d.interface, platform) },
  ];
  if (platform === 'linux') checks.push({ subject: 'nftables', run: () => checkNftables(d.interface, d.readFile) });
  return checks;
}

/** Runs the checks in order, writing each line as it is known; returns every verdict. */
export async function runChecks(o: CheckOptions, write: (line: string) => void, platform: NodeJS.Platform = process.platform): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const c of planChecks(o, platform)) {
    let r: CheckResult;
    try {
      r = await c.run();
    } catch (err) {
      r = problem(c.subject, `the check itself failed: ${err instanceof Error ? err.message : String(err)}`, 'report this as a bug in pfasciilogd check');
    }
    results.push(r);
    write(`${formatResult(r)}\n`);
  }
  return results;
}
