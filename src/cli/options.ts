// Command-line parsing for the daemon. Pure: argv in, options or a UsageError
// out, so a bad flag is reported before anything is created or started.

import { resolve } from 'node:path';
import { escapeText } from '../format/escape.js';
import type { OutputFormat } from '../format/line.js';

/** One log file and the format of its packet lines. */
export interface OutputSpec {
  format: OutputFormat;
  path: string;
}

export const FORMATS = ['text', 'json', 'filterlog'] as const;

export interface DaemonOptions {
  interface: string;
  logFile: string;
  pidFile: string;
  /** user for tcpdump -Z; '' omits -Z */
  user: string;
  snaplen: number | undefined;
  tcpdump: string;
  readFile: string | undefined;
  expression: string[];
  /** native: tcpdump only captures (-w -), we decode; tcpdump: tcpdump prints, we stamp */
  decoder: 'native' | 'tcpdump';
  format: OutputFormat;
  /** -o FORMAT:PATH: the outputs after the first (-f in --format), in the order given */
  outputs: OutputSpec[];
  /** seconds between asking tcpdump for its packet counters; 0: only at exit */
  statsInterval: number;
  /** --dedupe: seconds within which repeats of a (source, protocol, port) are not logged; 0: off */
  dedupe: number;
  /** --dedupe-max: (source, protocol, port) keys remembered at most */
  dedupeMax: number;
}

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'daemon'; options: DaemonOptions };

export class UsageError extends Error {}

/**
 * The defaults on `platform`. OpenBSD's tcpdump has no -Z (it drops to
 * _tcpdump by itself, and refuses an unknown flag), so the user is '' there:
 * `-Z nobody` would leave a capture that never starts.
 */
export function daemonDefaults(platform: NodeJS.Platform = process.platform): DaemonOptions {
  return { ...BASE_DEFAULTS, user: platform === 'openbsd' ? '' : 'nobody', expression: [], outputs: [] };
}

const BASE_DEFAULTS: DaemonOptions = {
  interface: 'pflog0',
  logFile: '/var/log/pf.log',
  pidFile: '/var/run/pfasciilogd.pid',
  user: 'nobody',
  snaplen: undefined,
  tcpdump: 'tcpdump',
  readFile: undefined,
  expression: [],
  decoder: 'native',
  format: 'text',
  outputs: [],
  statsInterval: 3600,
  dedupe: 0,
  dedupeMax: 100000,
};

export const DAEMON_DEFAULTS: DaemonOptions = daemonDefaults();

/** Short flags that take a value, and the long spellings that take one. */
const VALUE_FLAGS: Record<string, keyof DaemonOptions> = {
  '-i': 'interface',
  '-f': 'logFile',
  '-p': 'pidFile',
  '-u': 'user',
  '-s': 'snaplen',
  '-r': 'readFile',
  '-o': 'outputs',
  '--tcpdump': 'tcpdump',
  '--decoder': 'decoder',
  '--format': 'format',
  '--stats-interval': 'statsInterval',
  '--dedupe': 'dedupe',
  '--dedupe-max': 'dedupeMax',
};

const MAX_SNAPLEN = 262144;

function parseSnaplen(v: string): number {
  if (!/^\d{1,7}$/.test(v) || Number(v) > MAX_SNAPLEN) {
    throw new UsageError(`-s: snaplen must be an integer from 0 to ${MAX_SNAPLEN}, not '${escapeText(v)}'`);
  }
  return Number(v);
}

export function parseChoice<T extends string>(flag: string, v: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`${flag}: expected ${choices.join(' or ')}, not '${escapeText(v)}'`);
  return v as T;
}

const MAX_SECONDS = 7 * 86400;

export function parseSeconds(flag: string, v: string): number {
  if (!/^\d{1,6}$/.test(v) || Number(v) > MAX_SECONDS) {
    throw new UsageError(`${flag}: seconds from 0 to ${MAX_SECONDS}, not '${escapeText(v)}'`);
  }
  return Number(v);
}

const MAX_DEDUPE_KEYS = 10_000_000;

export function parseDedupeMax(flag: string, v: string): number {
  if (!/^\d{1,8}$/.test(v) || Number(v) < 1 || Number(v) > MAX_DEDUPE_KEYS) {
    throw new UsageError(`${flag}: a number of entries from 1 to ${MAX_DEDUPE_KEYS}, not '${escapeText(v)}'`);
  }
  return Number(v);
}

/** The checks --dedupe and --dedupe-max share between the daemon and `read`. */
export function checkDedupe(o: { dedupe: number; dedupeMaxGiven: boolean }): void {
  if (o.dedupeMaxGiven && o.dedupe === 0) throw new UsageError('--dedupe-max has no effect without --dedupe SECONDS');
}

/** -o FORMAT:PATH, split at the first ':' so that the path may hold one. */
export function parseOutput(flag: string, v: string): OutputSpec {
  const colon = v.indexOf(':');
  if (colon < 0) throw new UsageError(`${flag}: expected format:path (e.g. filterlog:/var/log/filter.log), not '${escapeText(v)}'`);
  const format = v.slice(0, colon);
  const path = v.slice(colon + 1);
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`${flag} ${escapeText(v)}: format must be text, json or filterlog, not '${escapeText(format)}'`);
  if (path === '') throw new UsageError(`${flag} ${escapeText(v)}: the path is empty`);
  return { format: format as OutputFormat, path };
}

/** Every output of the daemon: the first (-f, --format), then each -o. */
export function daemonOutputs(o: Pick<DaemonOptions, 'logFile' | 'format' | 'outputs'>): OutputSpec[] {
  return [{ format: o.format, path: o.logFile }, ...o.outputs];
}

/** Two outputs on one file would interleave their lines: the same path (once resolved) twice is a usage error. */
function checkOutputs(o: DaemonOptions): void {
  const seen = new Map<string, string>();
  for (const [i, out] of daemonOutputs(o).entries()) {
    const flag = i === 0 ? `-f ${out.path}` : `-o ${out.format}:${out.path}`;
    const key = resolve(out.path);
    const first = seen.get(key);
    if (first !== undefined) throw new UsageError(`${escapeText(flag)}: the same file as ${escapeText(first)}; give each output its own path`);
    seen.set(key, flag);
    if (o.decoder === 'tcpdump' && out.format !== 'text') {
      throw new UsageError(`${i === 0 ? `--format ${out.format}` : escapeText(flag)} needs --decoder native (tcpdump prints text)`);
    }
  }
}

function checkValue(flag: string, key: keyof DaemonOptions, v: string): void {
  // An empty user is meaningful (omit -Z); an empty path or interface is a mistake.
  if (v === '' && key !== 'user') throw new UsageError(`${flag}: value must not be empty`);
  if (/[\0\n]/.test(v)) throw new UsageError(`${flag}: value contains a NUL or newline`);
}

export const SUBCOMMANDS = ['read', 'stats', 'check'] as const;

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The subcommand an operand is likely a typo of (at most 2 edits away, and fewer than its length), or null. */
export function nearestSubcommand(word: string): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const sub of SUBCOMMANDS) {
    const dist = editDistance(word.toLowerCase(), sub);
    if (dist < bestDistance) [best, bestDistance] = [sub, dist];
  }
  return bestDistance <= 2 && bestDistance < word.length ? best : null;
}

function unexpectedOperand(arg: string, first: boolean): string {
  const near = nearestSubcommand(arg);
  const what = `unexpected operand '${escapeText(arg)}'`;
  if (near !== null) return `${what}: did you mean '${near}'?${first ? '' : ' (a subcommand comes first)'}`;
  return `${what}: a filter expression goes after '--', e.g. -- 'inbound and action block'`;
}

export function parseDaemonArgs(argv: readonly string[], platform: NodeJS.Platform = process.platform): ParsedCommand {
  const o: DaemonOptions = daemonDefaults(platform);
  let dedupeMaxGiven = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '-V' || arg === '--version') return { kind: 'version' };
    // An operand before '--' is a mistyped subcommand or an unquoted
    // expression: either way starting a root daemon on it would be wrong.
    if (arg === '') continue; // an empty word (pfasciilogd_flags="") is no operand
    if (!arg.startsWith('-') || arg === '-') throw new UsageError(unexpectedOperand(arg, i === 0));

    let flag = arg;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      flag = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    } else if (!arg.startsWith('--') && arg.length > 2) {
      flag = arg.slice(0, 2); // getopt style: -ipflog1
      value = arg.slice(2);
      // -hV as in the synopsis: getopt handles the first flag of a cluster first
      if (flag === '-h') return { kind: 'help' };
      if (flag === '-V') return { kind: 'version' };
    }
    const key = VALUE_FLAGS[flag];
    // escaped: the error is one line on stderr whatever the user typed
    if (key === undefined) throw new UsageError(`unknown option ${escapeText(flag)}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
      value = argv[++i]!;
    }
    checkValue(flag, key, value);
    if (key === 'snaplen') o.snaplen = parseSnaplen(value);
    else if (key === 'decoder') o.decoder = parseChoice(flag, value, ['native', 'tcpdump'] as const);
    else if (key === 'format') o.format = parseChoice(flag, value, FORMATS);
    else if (key === 'outputs') o.outputs.push(parseOutput(flag, value));
    else if (key === 'statsInterval') o.statsInterval = parseSeconds(flag, value);
    else if (key === 'dedupe') o.dedupe = parseSeconds(flag, value);
    else if (key === 'dedupeMax') {
      o.dedupeMax = parseDedupeMax(flag, value);
      dedupeMaxGiven = true;
    }
    else if (key === 'readFile') o.readFile = value;
    else if (key !== 'expression') (o[key] as string) = value;
  }
  checkOutputs(o);
  // the key (source, protocol, port) comes from the decoded packet
  if (o.decoder === 'tcpdump' && o.dedupe > 0) throw new UsageError('--dedupe needs --decoder native');
  checkDedupe({ dedupe: o.dedupe, dedupeMaxGiven });
  // only after '--' (the loop stops there or at the end)
  o.expression = argv.slice(i).filter((s) => s !== '');
  // libpcap has no filter support for the NFLOG link type (tcpdump refuses):
  // said now rather than by tcpdump failing and being restarted forever
  if (o.expression.length > 0 && o.readFile === undefined && /^nflog(:|$)/.test(o.interface)) {
    throw new UsageError(`a filter expression cannot be used with ${escapeText(o.interface)}: select packets with the nftables or iptables rule instead`);
  }
  for (const word of o.expression) {
    if (/[\0\n]/.test(word)) throw new UsageError('expression contains a NUL or newline');
  }
  return { kind: 'daemon', options: o };
}
