// `npm run fuzz`: the decoder fuzz harness (test/support/random-packets.ts)
// for at least 1,000,000 records, or FUZZ_RECORDS. Prints the seed first;
// FUZZ_SEED=<seed> reproduces a failure. Exits 1 on the first failure.
//
// Under a test runner (node --test on the dist/test directory loads every .js
// file in it) it does nothing.

import { FuzzFailure, runFuzz, seedFromEnv } from '../support/random-packets.js';

function main(): number {
  const seed = seedFromEnv();
  const records = Number(process.env.FUZZ_RECORDS ?? 1_000_000);
  if (!Number.isInteger(records) || records < 1) {
    console.error(`FUZZ_RECORDS must be a positive integer, got ${process.env.FUZZ_RECORDS}`);
    return 2;
  }
  console.log(`fuzz: seed ${seed} (FUZZ_SEED=${seed} reproduces), ${records} records`);
  try {
    const r = runFuzz(seed, records, (p) => console.log(`  ${p.records} records, ${Math.round(p.records / (p.millis / 1000))}/s`));
    const secs = r.millis / 1000;
    console.log(
      `fuzz: OK: ${r.records} records, ${r.lines} lines in ${secs.toFixed(1)} s (${Math.round(r.records / secs)} records/s incl. generation and re-decodes; ` +
        `decoding alone ${Math.round(r.records / (r.decodeMillis / 1000))} records/s); ` +
        `${r.splitChecks} chunked re-decodes, ${r.pcapngChecks} pcapng comparisons, ` +
        `${r.corruptInjected} corrupt headers injected / ${r.corruptReported} reported; slowest capture ${r.slowestPushMs.toFixed(1)} ms`,
    );
    return 0;
  } catch (e) {
    if (e instanceof FuzzFailure) {
      console.error(`fuzz: FAILED: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (process.env.NODE_TEST_CONTEXT === undefined) process.exitCode = main();
