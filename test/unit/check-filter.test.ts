// `pfasciilogd check`, the fail2ban filter: fail2ban-regex's summary, the
// log's lines sorted into packets and inbound blocks, reading the log's end.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  classifyLogLines,
  FILTER_LOCATIONS,
  locateFilter,
  matchVerdict,
  parseRegexSummary,
  readLastLines,
  regexError,
  shippedFilterPath,
  splitTail,
} from '../../src/check/filter.js';

// fail2ban-regex 1.0.2 (Debian 12) over test/fail2ban/pfasciilogd.log with --print-no-missed
const REGEX_OUTPUT = `
Running tests
=============

Use   failregex file : /tmp/ck/f.conf
Use         maxlines : 1
Use      datepattern : {^LN-BEG}%Y-%Exm-%ExdT%ExH:%ExM:%ExS\\.%f%z : {^LN-BEG}Year-ExMonth-ExDayTEx24hour:ExMinute:ExSecond\\.MicrosecondsZone offset
Use         log file : /tmp/ck/pf.log
Use         encoding : UTF-8


Results
=======

Failregex: 71 total
|-  #) [# of hits] regular expression
|   1) [71] ^ (?:rule (?:\\d{1,10}|def) ...
\`-

Ignoreregex: 0 total

Date template hits:
|- [# of hits] date format
|  [93] {^LN-BEG}Year-ExMonth-ExDayTEx24hour:ExMinute:ExSecond\\.MicrosecondsZone offset
\`-

Lines: 95 lines, 0 ignored, 71 matched, 24 missed
[processed in 0.00 sec]
`;

test("fail2ban-regex's summary line", () => {
  assert.deepEqual(parseRegexSummary(REGEX_OUTPUT), { lines: 95, ignored: 0, matched: 71, missed: 24 });
  // a filter it cannot load: no summary, and the ERROR line says why (exit status 0 all the same)
  const broken = "Use   failregex file : /tmp/ck/bad.conf\nWrong config file: File contains no section headers.\nfile: '/tmp/ck/bad.conf', line: 1\n'garbage\\n'\nERROR: failed to load filter /tmp/ck/bad.conf\n";
  assert.equal(parseRegexSummary(broken), null);
  assert.equal(regexError(broken, ''), 'failed to load filter /tmp/ck/bad.conf');
  assert.equal(regexError('', 'Traceback ...\nImportError: no module\n'), 'ImportError: no module');
});

const LINES = [
  '2023-04-30T23:48:13.748353+00:00 rule 7/0(match): block in on vtnet0: 203.0.113.77.40000 > 198.51.100.10.21: Flags [S], seq 1929621329, win 1024, length 0',
  '2023-05-01T01:48:14.000001+02:00 rule 1/0(match) [uid 0]: block in on em0: 192.0.2.10.51234 > 198.51.100.1.22: Flags [S], seq 3281, win 65535, length 0',
  '2023-05-01T01:48:22.000000+02:00 rule 3.scanners/web.def/(unkn 99) block in on em0: 192.0.2.30 > 198.51.100.1: ICMP echo request, id 1, seq 1, length 64',
  '2026-11-25T18:20:01.123456+00:00 nflog 1 "pf-block" in on eth0: 10.77.0.1.55202 > 10.77.0.2.23: Flags [S], seq 1, win 64240, length 0',
  '2023-04-30T23:48:31.748353+00:00 rule 2/0(match): pass out on vtnet0: 198.51.100.10.22 > 203.0.113.77.40000: Flags [S.], seq 1, ack 1, win 1024, length 0',
  '2023-04-30T23:48:31.748353+00:00 rule 2/0(match): block out on vtnet0: 198.51.100.10 > 203.0.113.9: ICMP echo request, id 1, seq 1, length 64',
  '2026-11-25T18:20:02.000000+00:00 nflog 1 "pf-out" out on eth0: 10.77.0.2.23 > 10.77.0.1.55202: Flags [R.], seq 1, ack 2, win 0, length 0',
  '2023-04-30T23:48:12.000000+00:00 pfasciilogd: starting tcpdump -Z nobody -U -w - -i pflog0',
  '2023-04-30T23:48:12.100000+00:00 tcpdump: listening on pflog0, link-type PFLOG (OpenBSD pflog file), snapshot length 262144 bytes',
];

test('log lines: packets, inbound blocks (pf upstream, FreeBSD uid, OpenBSD, NFLOG), events', () => {
  assert.deepEqual(classifyLogLines(LINES), { lines: 9, packets: 7, inbound: 4, json: 0 });
  const json = ['{"time":"2023-04-30T23:48:13.748353+00:00","rule":7,"action":"block","direction":"in"}'];
  assert.deepEqual(classifyLogLines(json), { lines: 1, packets: 0, inbound: 0, json: 1 });
  assert.deepEqual(classifyLogLines([]), { lines: 0, packets: 0, inbound: 0, json: 0 });
});

test('the verdict on a summary: none matched is the problem', () => {
  const counts = classifyLogLines(LINES);
  const where = 'the last 9 lines of pf.log';
  const none = matchVerdict('fail2ban-regex', where, counts, { lines: 9, ignored: 0, matched: 0, missed: 9 }, 'install the filter');
  assert.equal(none.status, 'problem');
  assert.match(none.detail, /none of the 4 inbound block lines in the last 9 lines of pf\.log match the filter/);
  assert.equal(none.fix, 'install the filter');
  const all = matchVerdict('fail2ban-regex', where, counts, { lines: 9, ignored: 0, matched: 4, missed: 5 }, 'x');
  assert.equal(all.status, 'ok');
  assert.equal(all.detail, '4 of 4 inbound block lines in the last 9 lines of pf.log match the filter');
  const some = matchVerdict('fail2ban-regex', where, counts, { lines: 9, ignored: 0, matched: 3, missed: 6 }, 'x');
  assert.equal(some.status, 'ok');
  assert.match(some.detail, /3 of 4 .* \(fail2ban-regex --print-all-missed shows the other 1\)/);
});

test('splitTail: the last n whole lines; a leading fragment is dropped unless at the start', () => {
  assert.deepEqual(splitTail('a\nb\nc\n', 2, true), ['b', 'c']);
  assert.deepEqual(splitTail('a\nb\nc\n', 5, true), ['a', 'b', 'c']);
  assert.deepEqual(splitTail('ment\nb\nc\n', 5, false), ['b', 'c']);
  assert.deepEqual(splitTail('a\nb\nc', 2, true), ['b', 'c'], 'an unterminated last line counts');
  assert.deepEqual(splitTail('', 3, true), []);
});

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfasciilogd-check-filter-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('readLastLines reads the end of a large file in chunks', (t) => {
  const file = path.join(tempDir(t), 'pf.log');
  const lines = Array.from({ length: 20000 }, (_, i) => `2023-04-30T23:48:13.748353+00:00 line ${i} ${'x'.repeat(i % 97)}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  assert.deepEqual(readLastLines(file, 1000), lines.slice(-1000));
  assert.deepEqual(readLastLines(file, 1), lines.slice(-1));
  assert.deepEqual(readLastLines(file, 50000), lines);
  fs.writeFileSync(file, '');
  assert.deepEqual(readLastLines(file, 10), []);
  // bytes outside ASCII come back unchanged
  fs.writeFileSync(file, Buffer.from([0x61, 0xe9, 0x0a]));
  assert.deepEqual(Buffer.from(readLastLines(file, 1)[0]!, 'latin1'), Buffer.from([0x61, 0xe9]));
});

test('the filter: --filter wins, else the first location that exists', () => {
  assert.equal(locateFilter('/x/f.conf', () => false), '/x/f.conf');
  assert.equal(locateFilter(undefined, () => false), undefined);
  assert.equal(locateFilter(undefined, (p) => p === FILTER_LOCATIONS[1]), FILTER_LOCATIONS[1]);
  assert.equal(locateFilter(undefined, () => true), FILTER_LOCATIONS[0]);
  const shipped = shippedFilterPath();
  assert.ok(shipped !== undefined && fs.existsSync(shipped), `the shipped filter is found from the built module: ${shipped}`);
});
