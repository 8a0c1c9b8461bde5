// The real fail2ban-regex over a log with the shipped filter: which address
// each matching line gives, and when.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FILTER = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'etc/fail2ban/filter.d/pfasciilogd.conf');

/** Time zone for fail2ban-regex: POSIX form (needs no tzdata), UTC+9. */
export const F2B_TZ = 'JST-9';

export interface Hit {
  ip: string;
  /** epoch seconds */
  time: number;
  line: string;
}

/** fail2ban-regex `log` against `regex` (a regex or "filter.conf[opts]"), one Hit per match. */
export function fail2banRegex(tool: string, log: string, regex: string): Hit[] {
  const r = spawnSync(tool, ['-o', '<ip>\t<time>\t<msg>', log, regex], {
    encoding: 'utf8',
    env: { ...process.env, TZ: F2B_TZ },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `fail2ban-regex ${regex} failed:\n${r.stderr}\n${r.stdout}`);
  const hits: Hit[] = [];
  for (const row of r.stdout.split('\n')) {
    if (row === '') continue;
    const a = row.indexOf('\t');
    const b = row.indexOf('\t', a + 1);
    assert.ok(a > 0 && b > a, `unexpected fail2ban-regex output row: ${JSON.stringify(row.slice(0, 200))}`);
    hits.push({ ip: row.slice(0, a), time: Number(row.slice(a + 1, b)), line: row.slice(b + 1).trimEnd() });
  }
  return hits;
}

/** The shipped filter in `mode`; fail2ban-regex accepts "path/to/filter.conf[opts]" only for paths of [\w/.-], else a copy in `tmp`. */
export function filterArg(tmp: string, mode: string): string {
  let path = FILTER;
  if (!/^[\w/.-]+$/.test(path)) {
    const dir = join(tmp, 'fail2ban/filter.d');
    mkdirSync(dir, { recursive: true });
    path = join(dir, 'pfasciilogd.conf');
    cpSync(FILTER, path);
  }
  return `${path}[mode=${mode}]`;
}
