// `pfasciilogd stats [--json] [--ascii] [--top n] [--since time] [--until time] [file ...]`:
// what is in our logs (text, gzip, bzip2) and in capture files, as totals,
// top tables and a chart of blocked packets over time (src/stats/).

import { escapeText } from '../format/escape.js';
import { Aggregator } from '../stats/aggregate.js';
import { readInput } from '../stats/input.js';
import { parseIsoArg } from '../stats/iso-time.js';
import { renderJson } from '../stats/render-json.js';
import { renderText } from '../stats/render-text.js';
import { EX_NOINPUT, EX_OK, EX_UNAVAILABLE } from '../util/sysexits.js';
import { UsageError } from './options.js';

export interface StatsOptions {
  files: string[];
  json: boolean;
  ascii: boolean;
  top: number;
  /** ms since the epoch, or null */
  since: number | null;
  until: number | null;
}

export const STATS_USAGE = `usage: pfasciilogd stats [--json] [--ascii] [--top n] [--since time]
                         [--until time] [file ...]

Summarise pf logs: time span, totals by action and protocol, top sources
and destination ports, rules, interfaces, and blocked packets over time.
Files may be our text log (plain, gzip or bzip2) or pcap/pcapng captures;
none, or '-', reads standard input.

  --json         one JSON document instead of text
  --ascii        draw the chart with '#' only
  --top n        rows in each top table (default 10)
  --since time   count packets from this time on
  --until time   count packets before this time
                 time: ISO 8601, e.g. 2026-11-25, 2026-11-25T10:00,
                 2026-11-25T10:00:00Z; local time without an offset
`;

export const STATS_DEFAULT_TOP = 10;
const MAX_TOP = 100_000;

/** A flag's value: the next word, or what follows '=' in --flag=value. */
function valueOf(argv: readonly string[], i: number, flag: string): [string, number] {
  const a = argv[i]!;
  if (a.startsWith(`${flag}=`)) return [a.slice(flag.length + 1), i];
  if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
  return [argv[i + 1]!, i + 1];
}

function parseTime(flag: string, v: string): number {
  const t = parseIsoArg(v);
  if (t === null) throw new UsageError(`${flag}: expected an ISO 8601 date or time such as 2026-11-25 or 2026-11-25T10:00:00Z, not '${escapeText(v)}'`);
  return t;
}

export function parseStatsArgs(argv: readonly string[]): StatsOptions | 'help' {
  const o: StatsOptions = { files: [], json: false, ascii: false, top: STATS_DEFAULT_TOP, since: null, until: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flag = a.startsWith('--') ? a.split('=', 1)[0]! : a;
    let v: string;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--json') o.json = true;
    else if (a === '--ascii') o.ascii = true;
    else if (flag === '--top') {
      [v, i] = valueOf(argv, i, flag);
      if (!/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > MAX_TOP) throw new UsageError(`--top: a number of rows from 1 to ${MAX_TOP}, not '${escapeText(v)}'`);
      o.top = Number(v);
    } else if (flag === '--since') {
      [v, i] = valueOf(argv, i, flag);
      o.since = parseTime(flag, v);
    } else if (flag === '--until') {
      [v, i] = valueOf(argv, i, flag);
      o.until = parseTime(flag, v);
    } else if (a === '--') {
      o.files.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`stats: unknown option ${escapeText(flag)}`);
    else o.files.push(a);
  }
  if (o.since !== null && o.until !== null && o.since >= o.until) throw new UsageError('--since must be before --until');
  if (o.files.length === 0) o.files.push('-');
  return o;
}

/** The width to draw for: COLUMNS, else the terminal's, else 80 (within 40..1000). */
export function outputColumns(env: NodeJS.ProcessEnv = process.env, tty: number | undefined = process.stdout.columns): number {
  const fromEnv = env['COLUMNS'] !== undefined && /^\d{1,5}$/.test(env['COLUMNS']) ? Number(env['COLUMNS']) : 0;
  const n = fromEnv > 0 ? fromEnv : tty !== undefined && tty > 0 ? tty : 80;
  return Math.min(1000, Math.max(40, n));
}

function warn(message: string): void {
  process.stderr.write(`pfasciilogd: ${message}\n`);
}

export async function runStats(o: StatsOptions): Promise<number> {
  const agg = new Aggregator({ since: o.since, until: o.until });
  let status = EX_OK;
  let readAny = false;
  for (const file of o.files) {
    const s = await readInput(file, agg, { warn });
    // print what a damaged file gave; nothing when no file could be read at all
    if (s !== EX_NOINPUT && s !== EX_UNAVAILABLE) readAny = true;
    if (s !== EX_OK && status === EX_OK) status = s;
  }
  if (!readAny) return status;
  const summary = agg.summary(o.top);
  const text = o.json
    ? renderJson(summary, { files: o.files, since: o.since, until: o.until, top: o.top })
    : renderText(summary, { columns: outputColumns(), ascii: o.ascii, files: o.files });
  await new Promise<void>((resolve) => {
    // a reader that went away (stats | head) is not an error
    process.stdout.once('error', () => resolve());
    process.stdout.write(text, () => resolve());
  });
  return status;
}
