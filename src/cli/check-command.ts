// `pfasciilogd check [daemon flags] [--filter path] [--lines n]`: a doctor
// for an install. It takes the daemon's own flags, parsed by the daemon's
// parser, so `pfasciilogd check $FLAGS` checks what `pfasciilogd $FLAGS`
// would use; --filter and --lines are its own.

import { escapeText } from '../format/escape.js';
import { type CheckOptions, runChecks } from '../check/run.js';
import { EX_OK } from '../util/sysexits.js';
import { parseDaemonArgs, UsageError } from './options.js';

/** Exit status when any check found a problem. */
export const EX_CHECK_PROBLEM = 1;

export const DEFAULT_CHECK_LINES = 1000;
const MAX_CHECK_LINES = 1_000_000;

export const CHECK_USAGE = `usage: pfasciilogd check [-i interface] [-f logfile] [-p pidfile] [-u user]
                         [-o format:path ...]
                         [--tcpdump path] [--filter path] [--lines n]

Check an install: tcpdump, the user it drops to, the capture interface, the
log file and pidfile locations, the fail2ban filter and whether it matches
the log's last lines (fail2ban-regex), each -o output's path, and on pf
hosts that anchor "f2b/*" comes before the first block log rule. Takes the
daemon's flags, with the daemon's defaults. One line per check: ok, problem (with the fix) or skip.
Exits 0 when nothing is a problem, 1 otherwise.

  --filter path    the installed fail2ban filter (default: the first of
                   /etc/fail2ban/filter.d/pfasciilogd.conf and
                   /usr/local/etc/fail2ban/filter.d/pfasciilogd.conf)
  --lines n        how many of the log's last lines to try the filter on
                   (default ${DEFAULT_CHECK_LINES})
`;

function checkValue(flag: string, v: string): string {
  if (v === '') throw new UsageError(`check: ${flag}: value must not be empty`);
  if (/[\0\n]/.test(v)) throw new UsageError(`check: ${flag}: value contains a NUL or newline`);
  return v;
}

function parseLines(v: string): number {
  if (!/^\d{1,7}$/.test(v) || Number(v) < 1 || Number(v) > MAX_CHECK_LINES) {
    throw new UsageError(`check: --lines: a number of lines from 1 to ${MAX_CHECK_LINES}, not '${escapeText(v)}'`);
  }
  return Number(v);
}

export function parseCheckArgs(argv: readonly string[]): CheckOptions | 'help' {
  let filter: string | undefined;
  let lines = DEFAULT_CHECK_LINES;
  const daemonArgs: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break; // the expression: the daemon's parser takes it
    const long = arg.startsWith('--');
    const flag = long ? arg.split('=', 1)[0]! : arg.slice(0, 2);
    if (flag === '-h' || flag === '--help') return 'help';
    if (flag === '-V' || flag === '--version') throw new UsageError(`check: unknown option ${flag}`);
    const attached = long ? (arg.includes('=') ? arg.slice(flag.length + 1) : undefined) : arg.length > 2 ? arg.slice(2) : undefined;
    if (flag === '--filter' || flag === '--lines') {
      let v = attached;
      if (v === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`check: ${flag} needs a value`);
        v = argv[++i]!;
      }
      if (flag === '--filter') filter = checkValue(flag, v);
      else lines = parseLines(v);
      continue;
    }
    // a daemon flag: every one but -h and -V takes a value
    daemonArgs.push(arg);
    if (attached === undefined && i + 1 < argv.length) daemonArgs.push(argv[++i]!);
  }
  daemonArgs.push(...argv.slice(i));
  let parsed;
  try {
    parsed = parseDaemonArgs(daemonArgs);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`check: ${err.message}`);
    throw err;
  }
  if (parsed.kind !== 'daemon') return 'help';
  return { daemon: parsed.options, filter, lines };
}

export async function runCheck(o: CheckOptions): Promise<number> {
  // `pfasciilogd check | head`: a reader gone is no crash; the checks finish and set the status
  let readerGone = false;
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    readerGone = true;
  };
  process.stdout.on('error', onError);
  const results = await runChecks(o, (line) => {
    if (!readerGone) process.stdout.write(line);
  });
  return results.some((r) => r.status === 'problem') ? EX_CHECK_PROBLEM : EX_OK;
}
