// The one rule for tests that need a tool, root or a kernel feature: missing
// under CI (which runs as root with every package installed) is a failure;
// anywhere else the test is skipped with the reason printed.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

export function unavailable(t: TestContext, reason: string): void {
  if (process.env.CI) assert.fail(`${reason} (required when CI is set)`);
  t.skip(reason);
}
