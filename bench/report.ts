// Number formats, best-of-N and the results table shared by the benches.

import type { RunResult } from './measure.js';

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const mb = (b: number | null) => (b === null ? 'n/a' : (b / 1e6).toFixed(1));
export const times = (x: number) => `${x >= 1 ? x.toFixed(1) : x.toPrecision(2)}×`;
export const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

export interface Checked extends RunResult {
  /** the run succeeded and its output was right */
  verified: boolean;
}

/** Over repeated runs: the best time, the highest peak RSS; failed if any run failed. */
export function best<T extends Checked>(runs: T[]): T {
  const ok = runs.filter((o) => o.verified);
  const fastest = (ok.length > 0 ? ok : runs).reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const peaks = runs.map((o) => o.peakRssBytes).filter((b) => b !== null);
  return {
    ...fastest,
    peakRssBytes: peaks.length > 0 ? Math.max(...peaks) : null,
    verified: runs.every((o) => o.verified),
  };
}

/** Prints rows as columns, preceded and followed by a blank line: the first column left-aligned, the others right-aligned. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log('');
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  console.log('');
}
