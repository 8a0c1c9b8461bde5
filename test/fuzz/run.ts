// `npm run fuzz`: the decoder fuzz harness (test/support/random-packets.ts)
// for at least 1,000,000 records, or FUZZ_RECORDS. Prints the seed first;
// FUZZ_SEED=<seed> reproduces a failure. Exits 1 on the first failure, which
// is also:
//  - a hang: the fuzz runs in a worker thread, watched from the main thread;
//    no progress for HANG_MS (progress comes every 5 s) ends the run;
//  - a capture of 50-350 records taking longer than BATCH_MS to decode;
//  - a leak: the heap after a full collection at the end may exceed the heap
//    once warm (after WARMUP_RECORDS) by at most HEAP_GROWTH_BYTES.
//
// Under a test runner (node --test on the dist/test directory loads every .js
// file in it) it does nothing.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FuzzFailure, fullGc, runFuzz, seedFromEnv, type FuzzReport } from '../support/random-packets.js';

const HANG_MS = 60_000;
const BATCH_MS = 1000;
const WARMUP_RECORDS = 100_000;
const HEAP_GROWTH_BYTES = 4 * 1024 * 1024;

type Message = { kind: 'progress'; report: FuzzReport } | { kind: 'done'; report: FuzzReport } | { kind: 'failed'; message: string };

function worker(): void {
  const { seed, records } = workerData as { seed: number; records: number };
  const post = (m: Message) => parentPort!.postMessage(m);
  try {
    const report = runFuzz(seed, records, (p) => post({ kind: 'progress', report: p }), { gc: fullGc(), afterRecords: Math.min(WARMUP_RECORDS, Math.floor(records / 10)) });
    post({ kind: 'done', report });
  } catch (e) {
    post({ kind: 'failed', message: e instanceof FuzzFailure ? e.message : `threw: ${(e as Error).stack}` });
  }
}

function check(r: FuzzReport): string | null {
  if (r.slowestPushMs > BATCH_MS) return `a capture took ${r.slowestPushMs.toFixed(0)} ms to decode (bound ${BATCH_MS} ms)`;
  if (r.heapWarm === 0) return 'the heap was not measured';
  if (r.heapEnd - r.heapWarm > HEAP_GROWTH_BYTES) return `the heap grew by ${mb(r.heapEnd - r.heapWarm)} MB between the warm-up and the end (bound ${mb(HEAP_GROWTH_BYTES)} MB): a leak`;
  return null;
}

const mb = (b: number) => (b / 1048576).toFixed(1);

function main(): Promise<number> {
  const seed = seedFromEnv();
  const records = Number(process.env.FUZZ_RECORDS ?? 1_000_000);
  if (!Number.isInteger(records) || records < 1) {
    console.error(`FUZZ_RECORDS must be a positive integer, got ${process.env.FUZZ_RECORDS}`);
    return Promise.resolve(2);
  }
  console.log(`fuzz: seed ${seed} (FUZZ_SEED=${seed} reproduces), ${records} records`);
  return new Promise((resolve) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { seed, records } });
    let last = 0;
    const fail = (why: string) => {
      clearInterval(watchdog);
      console.error(`fuzz: FAILED: ${why} (FUZZ_SEED=${seed})`);
      void w.terminate();
      resolve(1);
    };
    const watchdog = setInterval(() => {
      if (Date.now() - last > HANG_MS) fail(`no progress for ${HANG_MS / 1000} s after ${lastRecords} records: a hang`);
    }, 1000);
    let lastRecords = 0;
    last = Date.now();
    w.on('message', (m: Message) => {
      last = Date.now();
      if (m.kind === 'progress') {
        lastRecords = m.report.records;
        console.log(`  ${m.report.records} records, ${Math.round(m.report.records / (m.report.millis / 1000))}/s`);
        return;
      }
      if (m.kind === 'failed') return fail(m.message);
      clearInterval(watchdog);
      const r = m.report;
      const bad = check(r);
      if (bad) return fail(bad);
      const secs = r.millis / 1000;
      console.log(
        `fuzz: OK: ${r.records} records, ${r.lines} lines in ${secs.toFixed(1)} s (${Math.round(r.records / secs)} records/s incl. generation and re-decodes; ` +
          `decoding alone ${Math.round(r.records / (r.decodeMillis / 1000))} records/s); ` +
          `${r.splitChecks} chunked re-decodes, ${r.pcapngChecks} pcapng comparisons, ` +
          `${r.corruptInjected} corrupt headers injected / ${r.corruptReported} reported; slowest capture ${r.slowestPushMs.toFixed(1)} ms (bound ${BATCH_MS}); ` +
          `heap ${mb(r.heapWarm)} MB when warm, ${mb(r.heapEnd)} MB at the end (growth bound ${mb(HEAP_GROWTH_BYTES)} MB)`,
      );
      resolve(0);
    });
    w.on('error', (e) => fail(`the fuzz worker died: ${e.stack ?? String(e)}`));
  });
}

if (!isMainThread) worker();
else if (process.env.NODE_TEST_CONTEXT === undefined) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
