// What tests need from the machine: finding a tool, and the one rule for a
// tool, root or kernel feature that is missing: under CI (which runs as root
// with every package installed) a failure; anywhere else a skip with the
// reason printed.

import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

/** The path of an executable on PATH or in the usual sbin/bin directories. */
export function findTool(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const d of [...dirs, '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function unavailable(t: TestContext, reason: string): void {
  if (process.env.CI) assert.fail(`${reason} (required when CI is set)`);
  t.skip(reason);
}
