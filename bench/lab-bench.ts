// What the namespace benches (bench:e2e, bench:fleet, the latency bench)
// share: their percentiles, and a standalone bench's life around one Lab of
// network namespaces, torn down on every way out (end, error, ^C, TERM).

import { Lab } from '../test/support/netns.js';

/** The q-quantile (nearest rank) of a non-empty list: quantile(xs, 0.5) is the median for an odd count. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Runs `body` in a new Lab and exits with its status; `name` prefixes a failure's one line on stderr. */
export function runLabBench(name: string, body: (lab: Lab) => Promise<number>): void {
  const lab = new Lab();
  const stop = () => void lab.destroy().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  body(lab)
    .finally(() => lab.destroy())
    .then(
      (code) => process.exit(code),
      (err: unknown) => {
        console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
}
