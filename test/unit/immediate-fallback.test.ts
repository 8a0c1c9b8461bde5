// What counts as tcpdump refusing --immediate-mode, and that the flag is
// dropped once, only for a run that failed before writing anything.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { immediateModeRefusal } from '../../src/capture/tcpdump-command.js';
import { ImmediateModeFallback } from '../../src/daemon/immediate-fallback.js';

const GLIBC = "tcpdump: unrecognized option '--immediate-mode'\nUsage: tcpdump [-aAbdDefhHIJKlLnNOpqRStuUvxX#] [ -B size ] [ -c count ]\n";
const BSD = 'tcpdump: unrecognized option `--immediate-mode\'\nusage: tcpdump ...\n';
const LIBPCAP = 'tcpdump: lo: Can\'t set immediate mode: Operation not supported\n';
// a tcpdump that has the flag lists it in its usage: a usage error for another reason is not a refusal
const USAGE_ONLY = "tcpdump: option requires an argument -- 's'\n\t\t[ -Q in|out|inout ] [ --immediate-mode ] [ -T type ] [ --version ]\n";

test('refusals: glibc and BSD getopt_long, libpcap without immediate mode; a usage text is not one', () => {
  assert.equal(immediateModeRefusal(GLIBC), "tcpdump: unrecognized option '--immediate-mode'");
  assert.equal(immediateModeRefusal(BSD), 'tcpdump: unrecognized option `--immediate-mode\'');
  assert.match(immediateModeRefusal(LIBPCAP)!, /Can't set immediate mode/);
  assert.equal(immediateModeRefusal(USAGE_ONLY), null);
  assert.equal(immediateModeRefusal('tcpdump: pflog0: No such device exists\n'), null);
});

test('the flag is dropped after a failed run that refused it, once', () => {
  const f = new ImmediateModeFallback();
  f.runStart();
  f.stderrChunk(Buffer.from(GLIBC.slice(0, 20)));
  f.stderrChunk(Buffer.from(GLIBC.slice(20)));
  assert.equal(f.runEnd(1), "tcpdump: unrecognized option '--immediate-mode'");
  assert.equal(f.enabled, false);
  f.runStart();
  f.stderrChunk(Buffer.from(GLIBC));
  assert.equal(f.runEnd(1), null, 'reported once');
});

test('kept: a run that wrote packets, exited 0 or was killed, or failed for another reason', () => {
  const cases: Array<[string, (f: ImmediateModeFallback) => number | null]> = [
    ['wrote packets first', (f) => (f.stdout(), 1)],
    ['exit 0', () => 0],
    ['killed', () => null],
  ];
  for (const [what, act] of cases) {
    const f = new ImmediateModeFallback();
    f.runStart();
    f.stderrChunk(Buffer.from(GLIBC));
    assert.equal(f.runEnd(act(f)), null, what);
    assert.equal(f.enabled, true, what);
  }
  const f = new ImmediateModeFallback();
  f.runStart();
  f.stderrChunk(Buffer.from(USAGE_ONLY));
  assert.equal(f.runEnd(1), null);
  assert.equal(f.enabled, true);
  // what an earlier run said does not count for the next
  f.runStart();
  f.stderrChunk(Buffer.from(GLIBC));
  f.runStart();
  assert.equal(f.runEnd(1), null);
});
