// `npm run bench [-- --only relay|decode|dedupe|stats|flood|footprint|latency] [--lines N] [--repeat N] [--keep]
// [--packets N] [--flood N]`:
// runs the relay bench (bench/relay.ts: generated tcpdump text through tee,
// a Python relay and pfasciilogd), then the decode bench (bench/decode.ts: two
// generated pflog captures through tcpdump -S -r and pfasciilogd read), then the
// dedupe bench (bench/dedupe.ts: a flood capture through read with and
// without --dedupe, and fail2ban-regex; at most 1,000,000 packets), then the
// stats bench (bench/stats.ts: `pfasciilogd stats` over a log written by
// `read` and over its capture), then the flood bench (bench/flood.ts: CPU
// seconds of tcpdump plus pfasciilogd per 1M packets, both decoders, beside
// the seed design's tcpdump | Python relay), then the footprint bench
// (bench/footprint.ts: RSS and private memory of pfasciilogd's processes,
// idle beside the unbundled build and the seed design, and under a flood of
// --lines packets; needs root, else it says so and passes). The latency bench
// (bench/latency.ts: an isolated packet to its line, and NFLOG under a flood,
// in a network namespace; needs root) runs only when asked for with --only
// latency: --packets per configuration (default 50), --flood packets (default
// 200,000; 0: none). --lines is the number of lines relayed, of
// packets decoded and of lines summarised; --repeat runs each
// contender N times round-robin and keeps its best time and highest peak RSS
// (default: 3 for decode, flood and footprint, 1 for the others);
// --keep leaves the scratch directories in place.
// Informational: missing a target is reported, not failed; a contender that
// fails or produces wrong output makes the exit status 1.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDecodeBench } from './decode.js';
import { runDedupeBench } from './dedupe.js';
import { runFloodBench } from './flood.js';
import { runRelayBench } from './relay.js';
import { runStatsBench } from './stats.js';
import { runLatencyBench } from './latency.js';
import { runFootprintBench } from './footprint.js';

const DAEMON = fileURLToPath(new URL('../bin/pfasciilogd.js', import.meta.url));
const BENCHES = ['relay', 'decode', 'dedupe', 'stats', 'flood', 'footprint'] as const;
/** run only when named with --only */
const ON_REQUEST = ['latency'] as const;
type Bench = (typeof BENCHES)[number] | (typeof ON_REQUEST)[number];

interface Options {
  lines: number;
  /** null: each bench's own default (decode: best of 3; the others: 1) */
  repeat: number | null;
  keep: boolean;
  only: Bench | null;
  packets: number;
  flood: number;
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\nusage: npm run bench [-- [--only relay|decode|dedupe|stats|flood|footprint|latency] [--lines N] [--repeat N] [--keep] [--packets N] [--flood N]]\n`);
  process.exit(2);
}

function positive(flag: string, v: string | undefined, dflt: string, maxDigits: number): number {
  const raw = (v ?? dflt).replace(/[_,]/g, '');
  if (!new RegExp(`^[1-9]\\d{0,${maxDigits - 1}}$`).test(raw)) usage(`${flag}: a positive integer, not '${v}'`);
  return Number(raw);
}

function options(): Options {
  let values;
  try {
    ({ values } = parseArgs({
      options: { lines: { type: 'string' }, repeat: { type: 'string' }, keep: { type: 'boolean' }, only: { type: 'string' }, packets: { type: 'string' }, flood: { type: 'string' } },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const only = values.only ?? null;
  const all: readonly string[] = [...BENCHES, ...ON_REQUEST];
  if (only !== null && !all.includes(only)) usage(`--only: ${all.join(', ')}, not '${only}'`);
  const flood = (values.flood ?? '').replace(/[_,]/g, '') === '0' ? 0 : positive('--flood', values.flood, '200000', 8);
  return {
    lines: positive('--lines', values.lines, '1000000', 9),
    repeat: values.repeat === undefined ? null : positive('--repeat', values.repeat, '1', 2),
    keep: values.keep === true,
    only: only as Bench | null,
    packets: positive('--packets', values.packets, '50', 4),
    flood,
  };
}

/** Runs one bench in a fresh scratch directory; false when it failed. */
async function inScratch(name: Bench, keep: boolean, run: (dir: string) => Promise<boolean>): Promise<boolean> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pfasciilogd-bench-${name}-`));
  try {
    return await run(dir);
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { lines, repeat, keep, only, packets, flood } = options();
  if (!fs.existsSync(DAEMON)) usage(`${DAEMON} not found: run npm run build first`);
  const benches: readonly Bench[] = only === null ? BENCHES : [only];
  let ok = true;
  for (const [i, bench] of benches.entries()) {
    if (benches.length > 1) console.log(`${i > 0 ? '\n' : ''}=== ${bench} bench ===`);
    const passed =
      bench === 'relay'
        ? await inScratch(bench, keep, (dir) => runRelayBench({ lines, repeat: repeat ?? 1, keep, dir }))
        : bench === 'decode'
          ? await inScratch(bench, keep, (dir) => runDecodeBench({ packets: lines, repeat: repeat ?? 3, keep, dir }))
          : bench === 'dedupe'
            ? await inScratch(bench, keep, (dir) => runDedupeBench({ packets: Math.min(lines, 1_000_000), dir }))
            : bench === 'stats'
              ? await inScratch(bench, keep, (dir) => runStatsBench({ lines, repeat: repeat ?? 1, keep, dir }))
              : bench === 'latency'
                ? await inScratch(bench, keep, (dir) => runLatencyBench({ packets, flood, dir }))
                : bench === 'flood'
                  ? await inScratch(bench, keep, (dir) => runFloodBench({ packets: lines, repeat: repeat ?? 3, keep, dir }))
                  : await inScratch(bench, keep, (dir) => runFootprintBench({ packets: lines, repeat: repeat ?? 3, dir }));
    ok &&= passed;
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
