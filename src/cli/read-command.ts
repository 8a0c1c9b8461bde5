// `pfasciilogd read [--format text|json|filterlog] [-F|--follow] FILE...`: decode
// capture files (pflogd's /var/log/pflog, tcpdump -w output, pcapng) to
// stamped lines on stdout. The stamp is each packet's capture time.

import { once } from 'node:events';
import { escapeText } from '../format/escape.js';
import type { OutputFormat } from '../format/line.js';
import { writeCaptureFileLines } from '../format/capture-file-lines.js';
import { EX_OK } from '../util/sysexits.js';
import { RepeatFilter, summaryText } from '../dedupe/repeat-filter.js';
import { checkDedupe, DAEMON_DEFAULTS, FORMATS, parseChoice, parseDedupeMax, parseSeconds, UsageError } from './options.js';

export interface ReadOptions {
  format: OutputFormat;
  follow: boolean;
  files: string[];
  /** --dedupe seconds (0: off) and --dedupe-max, as for the daemon */
  dedupe: number;
  dedupeMax: number;
}

export const READ_USAGE = `usage: pfasciilogd read [-F] [--format text|json|filterlog]
                        [--dedupe seconds [--dedupe-max entries]] file ...

Decode pflog (or any IPv4/IPv6) captures to stamped lines on stdout.
'-' reads standard input. -F (--follow) waits for more data like tail -F.
--dedupe writes one line per source, protocol and port per window of
capture time; what it held back is reported on stderr at the end.
`;

export function parseFormat(v: string): OutputFormat {
  return parseChoice('--format', v, FORMATS);
}

/** A flag's value: the next word, or what follows '=' in --flag=value. */
function valueOf(argv: readonly string[], i: number, flag: string): [string, number] {
  const a = argv[i]!;
  if (a.startsWith(`${flag}=`)) return [a.slice(flag.length + 1), i];
  if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
  return [argv[i + 1]!, i + 1];
}

export function parseReadArgs(argv: readonly string[]): ReadOptions | 'help' {
  const o: ReadOptions = { format: 'text', follow: false, files: [], dedupe: 0, dedupeMax: DAEMON_DEFAULTS.dedupeMax };
  let dedupeMaxGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flag = a.startsWith('--') ? a.split('=', 1)[0]! : a;
    let v: string;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '-F' || a === '--follow') o.follow = true;
    else if (flag === '--format') {
      [v, i] = valueOf(argv, i, flag);
      o.format = parseFormat(v);
    } else if (flag === '--dedupe') {
      [v, i] = valueOf(argv, i, flag);
      o.dedupe = parseSeconds(flag, v);
    } else if (flag === '--dedupe-max') {
      [v, i] = valueOf(argv, i, flag);
      o.dedupeMax = parseDedupeMax(flag, v);
      dedupeMaxGiven = true;
    } else if (a === '--') {
      o.files.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`read: unknown option ${escapeText(a)}`);
    else o.files.push(a);
  }
  checkDedupe({ dedupe: o.dedupe, dedupeMaxGiven });
  if (o.files.length === 0) throw new UsageError('read: no capture file given');
  return o;
}

function warn(message: string): void {
  process.stderr.write(`pfasciilogd: ${message}\n`);
}

/** 128 + the signal's number, as a shell reports a command a signal ended. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export async function runRead(o: ReadOptions): Promise<number> {
  let status = EX_OK;
  const out = process.stdout;
  // INT or TERM: stop between chunks (each chunk is decoded whole, so the
  // output ends with a whole line), skip the rest, and exit 130 or 143. A
  // second signal finds no handler and ends the process at once, should the
  // first be held up (a stdout that takes nothing more).
  const stop = new AbortController();
  let caught: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    caught ??= sig;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // one filter across the files: rotated captures are one stream of packets
  const repeats = o.dedupe > 0 ? new RepeatFilter({ windowSeconds: o.dedupe, max: o.dedupeMax }) : null;
  const write = async (buf: Buffer, recycle: () => void) => {
    if (!out.write(buf, recycle)) await once(out, 'drain');
  };
  for (const file of o.files) {
    if (caught !== null) break;
    const fileStatus = await writeCaptureFileLines(file, { format: o.format, follow: o.follow, signal: stop.signal, repeats, warn, write });
    if (fileStatus !== EX_OK) status = fileStatus;
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const summary = repeats?.takeSummary();
  if (summary) warn(summaryText(summary));
  if (caught === null) return status;
  // A read from a FIFO may still be pending (it cannot be cancelled, and
  // would keep the process alive): exit once stdout has taken the lines.
  const code = SIGNAL_EXIT[caught]!;
  out.write('', () => process.exit(code));
  return code;
}
