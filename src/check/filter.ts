// The fail2ban filter: installed, and matching what is in the log. The match
// is fail2ban's own verdict: fail2ban-regex runs the installed filter over a
// copy of the log's last lines. Reading its summary and sorting the log's
// lines are pure functions.

import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { type CheckResult, ok, problem, skip } from './result.js';
import { findExecutable, runTool } from './tools.js';
import { packageRoot } from '../util/package-root.js';

/** Where fail2ban's packages put filters: Debian, OpenBSD; then FreeBSD's ports. */
export const FILTER_LOCATIONS = ['/etc/fail2ban/filter.d/pfasciilogd.conf', '/usr/local/etc/fail2ban/filter.d/pfasciilogd.conf'];

/** The filter in this package's etc/; undefined if the package root is not found. */
export function shippedFilterPath(): string | undefined {
  const root = packageRoot();
  return root === undefined ? undefined : join(root, 'etc/fail2ban/filter.d/pfasciilogd.conf');
}

function filterDirFor(platform: NodeJS.Platform): string {
  return platform === 'freebsd' ? '/usr/local/etc/fail2ban/filter.d/' : '/etc/fail2ban/filter.d/';
}

/** --filter, else the first of FILTER_LOCATIONS that exists; undefined if none does. */
export function locateFilter(given: string | undefined, exists: (p: string) => boolean = fs.existsSync): string | undefined {
  if (given !== undefined) return given;
  return FILTER_LOCATIONS.find((p) => exists(p));
}

function installFix(platform: NodeJS.Platform): string {
  const shipped = shippedFilterPath();
  const from = shipped !== undefined && fs.existsSync(shipped) ? shipped : 'etc/fail2ban/filter.d/pfasciilogd.conf (in pfasciilogd\'s source)';
  return `cp ${from} ${filterDirFor(platform)}`;
}

export function checkFilterInstalled(given: string | undefined, located: string | undefined, platform: NodeJS.Platform = process.platform): CheckResult {
  if (located === undefined) {
    return problem('fail2ban filter', `not found (looked for ${FILTER_LOCATIONS.join(' and ')})`, `install it: ${installFix(platform)}; or pass --filter with its path`);
  }
  const subject = `fail2ban filter ${located}`;
  let text: string;
  try {
    if (!fs.statSync(located).isFile()) return problem(subject, 'not a regular file', `install the filter: ${installFix(platform)}`);
    text = fs.readFileSync(located, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && given !== undefined) return problem(subject, 'no such file', 'pass --filter with the path of the installed filter');
    return problem(subject, `cannot be read (${code ?? String(err)})`, `install the filter: ${installFix(platform)}`);
  }
  if (!/^failregex\s*=/m.test(text)) return problem(subject, 'has no failregex: it is no fail2ban filter', `install the filter: ${installFix(platform)}`);
  const notes: string[] = [];
  const shipped = shippedFilterPath();
  try {
    if (shipped !== undefined && resolve(shipped) !== resolve(located)) {
      const same = fs.readFileSync(shipped, 'utf8') === text;
      notes.push(same ? 'the same as the one shipped with this pfasciilogd' : `differs from the one shipped with this pfasciilogd (${shipped})`);
    }
  } catch {
    // no shipped copy to compare with
  }
  const local = join(dirname(located), `${basename(located, '.conf')}.local`);
  if (local !== located && fs.existsSync(local)) notes.push(`${local} overrides parts of it`);
  return ok(subject, `present${notes.length > 0 ? `, ${notes.join('; ')}` : ''}`);
}

export interface RegexSummary {
  lines: number;
  ignored: number;
  matched: number;
  missed: number;
}

/** fail2ban-regex's "Lines: 95 lines, 0 ignored, 71 matched, 24 missed" line; null when it printed none. */
export function parseRegexSummary(text: string): RegexSummary | null {
  const m = /^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/m.exec(text);
  if (!m) return null;
  return { lines: Number(m[1]), ignored: Number(m[2]), matched: Number(m[3]), missed: Number(m[4]) };
}

/** What fail2ban-regex said went wrong: its ERROR line, else its last words. */
export function regexError(stdout: string, stderr: string): string {
  const err = /^ERROR: (.*)$/m.exec(`${stdout}\n${stderr}`);
  if (err) return err[1]!.trim();
  const last = (t: string) => t.split('\n').map((l) => l.trim()).filter((l) => l !== '').pop() ?? '';
  return last(stderr) || last(stdout) || 'no summary printed';
}

export interface LogLineCounts {
  lines: number;
  /** pflog or NFLOG packet lines, from either decoder */
  packets: number;
  /** packets the filter must match: pf "block in", NFLOG "in on" */
  inbound: number;
  /** JSON objects (--format json), which the filter does not read */
  json: number;
}

// After the stamp: upstream/FreeBSD "rule 1/0(match): block in on",
// "rule 1/0(match) [uid 0]: block in on"; OpenBSD "rule 1/(match) block in on";
// NFLOG "nflog 1 "pf-block" in on".
const PACKET = /^\S+ (?:rule |nflog \d)/;
const INBOUND = /^\S+ (?:rule [^:\n]{1,200}?:? block in on |nflog \d{1,5} "[^"]{0,64}" in on )/;
const JSON_LINE = /^\{"/;

export function classifyLogLines(lines: readonly string[]): LogLineCounts {
  const c: LogLineCounts = { lines: lines.length, packets: 0, inbound: 0, json: 0 };
  for (const line of lines) {
    if (JSON_LINE.test(line)) c.json++;
    else if (PACKET.test(line)) {
      c.packets++;
      if (INBOUND.test(line)) c.inbound++;
    }
  }
  return c;
}

/**
 * The last `n` whole lines of `text`, the end of a file. If `fromStart` is
 * false, `text` begins somewhere in the file and its first line is a
 * fragment, which is dropped.
 */
export function splitTail(text: string, n: number, fromStart: boolean): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (!fromStart) lines.shift();
  return n >= lines.length ? lines : lines.slice(lines.length - n);
}

const CHUNK = 64 * 1024;
/** read no more than this from the end of the log, however many lines were asked for */
const MAX_TAIL_BYTES = 64 << 20;

/** The last `n` lines of a file, read from its end; latin1, so bytes survive unchanged. */
export function readLastLines(path: string, n: number): string[] {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const chunks: Buffer[] = [];
    let pos = size;
    let newlines = 0;
    while (pos > 0 && newlines <= n && size - pos < MAX_TAIL_BYTES) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.allocUnsafe(len);
      const got = fs.readSync(fd, buf, 0, len, pos);
      const chunk = buf.subarray(0, got);
      for (const b of chunk) if (b === 0x0a) newlines++;
      chunks.unshift(chunk);
    }
    return splitTail(Buffer.concat(chunks).toString('latin1'), n, pos === 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** The verdict on fail2ban-regex's summary for lines classified as `counts`. */
export function matchVerdict(subject: string, where: string, counts: LogLineCounts, summary: RegexSummary, fix: string): CheckResult {
  const inbound = `${counts.inbound} inbound block line${counts.inbound === 1 ? '' : 's'}`;
  if (summary.matched === 0) {
    return problem(subject, `none of the ${inbound} in ${where} match the filter: the filter and the log disagree`, fix);
  }
  if (summary.matched > counts.inbound) return ok(subject, `${summary.matched} lines in ${where} match the filter`);
  const missed = counts.inbound > summary.matched ? ` (fail2ban-regex --print-all-missed shows the other ${counts.inbound - summary.matched})` : '';
  return ok(subject, `${summary.matched} of ${inbound} in ${where} match the filter${missed}`);
}

/** fail2ban-regex reads a filter FILE only from a path of [\w/.-]; anything else it takes for a regex. */
const PLAIN_PATH = /^[\w/.-]+$/;

export async function checkFilterMatch(filter: string | undefined, logFile: string, n: number, platform: NodeJS.Platform = process.platform): Promise<CheckResult> {
  const subject = 'fail2ban-regex';
  const tool = findExecutable('fail2ban-regex', true);
  if (tool === undefined) return skip(subject, 'not installed, so the filter cannot be tried on the log');
  if (filter === undefined || !fs.existsSync(filter)) return skip(subject, 'no filter to try (see above)');
  let lines: string[];
  try {
    const st = fs.statSync(logFile);
    if (!st.isFile()) return skip(subject, `${logFile} is no regular file to read`);
    lines = readLastLines(logFile, n);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return skip(subject, `${logFile} does not exist yet: nothing to try the filter on (run the check again once pf has logged packets)`);
    return skip(subject, `${logFile} cannot be read (${code ?? String(err)})`);
  }
  const where = `the last ${lines.length} line${lines.length === 1 ? '' : 's'} of ${logFile}`;
  const counts = classifyLogLines(lines);
  if (counts.json > 0 && counts.packets === 0) {
    return problem(subject, `${where} are JSON objects (--format json), which the filter does not read`, 'run the daemon without --format json');
  }
  if (counts.inbound === 0) {
    const what = counts.packets === 0 ? 'no packet lines' : `${counts.packets} packet lines, none blocked inbound`;
    return skip(subject, `${where} hold ${what}: nothing for the filter to match yet`);
  }

  const dir = fs.mkdtempSync(join(tmpdir(), 'pfasciilogd-check-'));
  try {
    const sample = join(dir, 'pf.log');
    fs.writeFileSync(sample, lines.join('\n') + '\n', 'latin1');
    let filterArg = resolve(filter);
    let copied: string | null = null;
    if (!PLAIN_PATH.test(filterArg)) {
      // copy it (and its .local) to a path fail2ban-regex reads as a file
      fs.mkdirSync(join(dir, 'filter.d'));
      const copy = join(dir, 'filter.d', 'pfasciilogd.conf');
      fs.copyFileSync(filterArg, copy);
      const local = join(dirname(filterArg), `${basename(filterArg, '.conf')}.local`);
      if (fs.existsSync(local)) fs.copyFileSync(local, join(dir, 'filter.d', 'pfasciilogd.local'));
      filterArg = copied = copy;
    }
    const r = await runTool(tool, ['--print-no-missed', sample, filterArg], 120_000);
    const fix = `install the filter shipped with this pfasciilogd (${installFix(platform)}), or see what fail2ban-regex ${logFile} ${filter} reports`;
    if (r.error !== null) return problem(subject, `${tool} could not be run: ${r.error}`, 'check the fail2ban installation');
    const summary = parseRegexSummary(r.stdout);
    if (summary === null) {
      const said = regexError(r.stdout, r.stderr);
      return problem(subject, `could not use ${filter}: ${copied !== null ? said.split(copied).join(filter) : said}`, fix);
    }
    return matchVerdict(subject, where, counts, summary, fix);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
