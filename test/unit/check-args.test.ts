// `pfasciilogd check`'s command line: the daemon's flags and defaults, plus
// --filter and --lines; and the output line format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAEMON_DEFAULTS, UsageError } from '../../src/cli/options.js';
import { DEFAULT_CHECK_LINES, parseCheckArgs } from '../../src/cli/check-command.js';
import type { CheckOptions } from '../../src/check/run.js';
import { formatResult, ok, problem, skip } from '../../src/check/result.js';

function parse(argv: string[]): CheckOptions {
  const o = parseCheckArgs(argv);
  assert.notEqual(o, 'help');
  return o as CheckOptions;
}

function usageError(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseCheckArgs(argv),
    (err: unknown) => err instanceof UsageError && pattern.test(err.message) && /^check: /.test(err.message),
    JSON.stringify(argv),
  );
}

test('defaults are the daemon defaults', () => {
  const o = parse([]);
  assert.deepEqual(o.daemon, { ...DAEMON_DEFAULTS, expression: [] });
  assert.equal(o.filter, undefined);
  assert.equal(o.lines, DEFAULT_CHECK_LINES);
});

test('the daemon flags in every spelling, --filter and --lines among them', () => {
  const o = parse(['-i', 'nflog:1', '-f/var/log/x.log', '--filter', '/etc/f.conf', '-p', '/run/p.pid', '--lines=50', '--tcpdump=/usr/sbin/tcpdump', '-u', '', '--dedupe', '600']);
  assert.equal(o.daemon.interface, 'nflog:1');
  assert.equal(o.daemon.logFile, '/var/log/x.log');
  assert.equal(o.daemon.pidFile, '/run/p.pid');
  assert.equal(o.daemon.tcpdump, '/usr/sbin/tcpdump');
  assert.equal(o.daemon.user, '');
  assert.equal(o.daemon.dedupe, 600);
  assert.equal(o.filter, '/etc/f.conf');
  assert.equal(o.lines, 50);
  // the rc.conf flags, expression and all, as the daemon takes them
  const rc = parse(['-i', 'pflog0', '--', 'inbound', 'and', 'action', 'block']);
  assert.deepEqual(rc.daemon.expression, ['inbound', 'and', 'action', 'block']);
  assert.equal(parse(['--filter=/a b/f.conf']).filter, '/a b/f.conf');
});

test('help; bad flags are usage errors', () => {
  assert.equal(parseCheckArgs(['-h']), 'help');
  assert.equal(parseCheckArgs(['-i', 'lo', '--help']), 'help');
  usageError(['-x'], /unknown option -x/);
  usageError(['-V'], /unknown option -V/);
  usageError(['--lines', '0'], /--lines: a number of lines from 1 to 1000000, not '0'/);
  usageError(['--lines=1e3'], /--lines/);
  usageError(['--lines'], /--lines needs a value/);
  usageError(['--filter'], /--filter needs a value/);
  usageError(['--filter', ''], /must not be empty/);
  usageError(['--filter', 'a\nb'], /NUL or newline/);
  usageError(['-i'], /-i needs a value/);
  usageError(['-s', 'x'], /snaplen/);
  usageError(['-i', 'nflog:1', '--', 'tcp'], /filter expression cannot be used with nflog:1/);
  // as for the daemon: an expression without '--' is refused, not taken for one
  usageError(['-i', 'pflog0', 'inbound', 'and', 'action', 'block'], /unexpected operand 'inbound'/);
});

test('output lines: status in a column, the fix after the finding, printable ASCII only', () => {
  assert.equal(formatResult(ok('tcpdump', '/usr/bin/tcpdump, tcpdump version 4.99.3')), 'ok       tcpdump: /usr/bin/tcpdump, tcpdump version 4.99.3');
  assert.equal(formatResult(skip('pf ruleset', 'pfctl not found')), 'skip     pf ruleset: pfctl not found');
  assert.equal(
    formatResult(problem('interface pflog0', 'not found', 'create it (ifconfig pflog0 create) or pass -i')),
    'problem  interface pflog0: not found; create it (ifconfig pflog0 create) or pass -i',
  );
  assert.equal(formatResult(problem('log file /tmp/\u00e9\x1b', 'said:\n  more', 'fix')), 'problem  log file /tmp/M-CM-)^[: said: more; fix');
});

test('check -o: each output path is checked like -f, the fix naming -o', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { planChecks } = await import('../../src/check/run.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-check-o-'));
  try {
    const link = path.join(dir, 'filter.log');
    fs.symlinkSync('/etc/passwd', link);
    const o = parseCheckArgs(['-f', path.join(dir, 'pf.log'), '-o', `filterlog:${link}`, '-o', `json:${path.join(dir, 'pf.json')}`]) as CheckOptions;
    const checks = planChecks(o, 'linux').filter((c) => c.subject.startsWith('log file '));
    assert.deepEqual(checks.map((c) => c.subject), [`log file ${path.join(dir, 'pf.log')}`, `log file ${link}`, `log file ${path.join(dir, 'pf.json')}`]);
    const results = await Promise.all(checks.map((c) => c.run()));
    assert.deepEqual(results.map((r) => r.status), ['ok', 'problem', 'ok']);
    assert.match(results[1]!.detail, /a symbolic link to \/etc\/passwd/);
    assert.match(results[1]!.fix ?? '', /pass -o filterlog:PATH with the real path/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
