// `stats`: its flags, --since/--until times, the terminal width, and what the
// text and JSON renderers make of a summary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/options.js';
import { outputColumns, parseStatsArgs, type StatsOptions } from '../../src/cli/stats-command.js';
import { Aggregator } from '../../src/stats/aggregate.js';
import { parseIsoArg, parseStampText } from '../../src/stats/iso-time.js';
import { ProtoCode, newRecord } from '../../src/stats/record.js';
import { summaryJson } from '../../src/stats/render-json.js';
import { bar, bucketName, duration, renderText } from '../../src/stats/render-text.js';

function opts(argv: string[]): StatsOptions {
  const o = parseStatsArgs(argv);
  assert.notEqual(o, 'help');
  return o as StatsOptions;
}

test('stats flags: defaults, values, files, and standard input', () => {
  assert.deepEqual(opts([]), { files: ['-'], json: false, ascii: false, top: 10, since: null, until: null });
  const o = opts(['--json', '--ascii', '--top', '3', '--since=2026-11-25', '--until', '2026-11-26T00:00:00Z', 'a.log', '-', 'b.gz']);
  assert.deepEqual(o.files, ['a.log', '-', 'b.gz']);
  assert.equal(o.json, true);
  assert.equal(o.ascii, true);
  assert.equal(o.top, 3);
  assert.equal(o.since, new Date(2026, 10, 25).getTime());
  assert.equal(o.until, Date.UTC(2026, 10, 26));
  assert.deepEqual(opts(['--', '--json']).files, ['--json']);
  assert.equal(parseStatsArgs(['-h']), 'help');
  assert.equal(parseStatsArgs(['x', '--help']), 'help');
});

test('stats flags: bad ones are usage errors', () => {
  for (const argv of [
    ['--bogus'],
    ['-x'],
    ['--top'],
    ['--top', '0'],
    ['--top', '-1'],
    ['--top', 'ten'],
    ['--top', '1000001'],
    ['--since', 'yesterday'],
    ['--since', '2026-11-25 10:00'],
    ['--since', '1764064800'],
    ['--until', '2026-02-30'],
    ['--until', '2026-11-25T24:00'],
    ['--since', '2026-11-26', '--until', '2026-11-25'],
    ['--since', '2026-11-25', '--until', '2026-11-25'],
  ]) assert.throws(() => parseStatsArgs(argv), UsageError, argv.join(' '));
  assert.throws(() => parseStatsArgs(['--evil\nline']), (e: unknown) => e instanceof UsageError && !e.message.includes('\n'));
});

test('stats --since/--until: ISO 8601 dates and times, local without an offset', () => {
  assert.equal(parseIsoArg('2026-11-25T10:00:00Z'), Date.UTC(2026, 10, 25, 10));
  assert.equal(parseIsoArg('2026-11-25T10:00:00+01:00'), Date.UTC(2026, 10, 25, 9));
  assert.equal(parseIsoArg('2026-11-25T10:00:00-0130'), Date.UTC(2026, 10, 25, 11, 30));
  assert.equal(parseIsoArg('2026-11-25T10:00:00.250Z'), Date.UTC(2026, 10, 25, 10, 0, 0, 250));
  assert.equal(parseIsoArg('2026-11-25T10:00+02'), Date.UTC(2026, 10, 25, 8));
  assert.equal(parseIsoArg('2026-11-25'), new Date(2026, 10, 25).getTime());
  assert.equal(parseIsoArg('2026-11-25T10:30'), new Date(2026, 10, 25, 10, 30).getTime());
  assert.equal(parseIsoArg('2024-02-29'), new Date(2024, 1, 29).getTime());
  for (const bad of ['2023-02-29', '2026-13-01', '2026-00-10', '26-11-25', '2026-11-25T', '2026-11-25T1:00', 'now', '', '2026-11-25T10:00:00+25:00']) {
    assert.equal(parseIsoArg(bad), null, bad);
  }
  assert.equal(parseStampText('2023-05-01T01:48:13.748353+02:00'), Date.UTC(2023, 3, 30, 23, 48, 13) + 748.353);
  assert.ok(Number.isNaN(parseStampText('2023-05-01 01:48:13')));
});

test('stats: the width is COLUMNS, else the terminal, else 80, within 40..1000', () => {
  assert.equal(outputColumns({ COLUMNS: '120' }, 90), 120);
  assert.equal(outputColumns({}, 90), 90);
  assert.equal(outputColumns({}, undefined), 80);
  assert.equal(outputColumns({ COLUMNS: 'wide' }, undefined), 80);
  assert.equal(outputColumns({ COLUMNS: '10' }, undefined), 40);
  assert.equal(outputColumns({ COLUMNS: '99999' }, undefined), 1000);
});

function summary() {
  const agg = new Aggregator();
  const r = newRecord();
  const start = Date.parse('2026-11-25T00:00:00Z');
  for (let i = 0; i < 600; i++) {
    r.time = start + i * 60_000;
    r.action = i % 10 === 0 ? 'pass' : 'block';
    r.direction = 'in';
    r.proto = 'tcp';
    r.protoCode = ProtoCode.TCP;
    r.src4 = 0xc6336400 + (i % 7);
    r.src6 = '';
    r.dport = i % 3 === 0 ? 22 : 443;
    r.rule = i % 4 === 0 ? '3.scanners/web.0' : '7';
    r.iface = 'vtnet0';
    agg.add(r);
    // a burst in the third hour
    if (i >= 120 && i < 180) for (let k = 0; k < 20; k++) agg.add(r);
  }
  return agg.summary(5);
}

test('stats text: the chart fills the width given and no more; --ascii is ASCII only', () => {
  const s = summary();
  for (const columns of [40, 80, 132]) {
    for (const ascii of [false, true]) {
      const text = renderText(s, { columns, ascii, files: ['pf.log'] });
      const chart = text.slice(text.indexOf('Blocked packets per'));
      const bars = chart.split('\n').slice(1).filter((l) => l !== '');
      assert.ok(bars.length > 1 && bars.length <= 24, `${bars.length} bars`);
      for (const l of bars) assert.ok([...l].length <= columns, `${[...l].length} > ${columns}: ${l}`);
      // the largest bucket's bar reaches the edge
      assert.ok(bars.some((l) => [...l].length === columns), `a full-width bar at ${columns}`);
      if (ascii) assert.match(text, /^[\x20-\x7e\n]*$/);
      else assert.match(chart, /\u2588/);
    }
  }
  const text = renderText(s, { columns: 80, ascii: false, files: ['pf.log'] });
  assert.match(text, /^Packets {6}1,800$/m);
  assert.match(text, /^Actions {6}block 1,620 \(90\.0%\), pass 180 \(10\.0%\)$/m);
  assert.match(text, /^ {2}198\.51\.100\.\d +\d[\d,]* +2 +2026-11-25 /m);
  assert.match(text, /^ {2}tcp\/443 +[\d,]+ +[\d.]+%$/m);
  assert.match(text, /^Blocked packets per 30 minutes \(1,620 in all\)$/m);
});

test('stats text: bars in eighths, at least a sliver for any packet', () => {
  assert.equal(bar(0, 10, 10, false), '');
  assert.equal(bar(10, 10, 10, false), '\u2588'.repeat(10));
  assert.equal(bar(5, 10, 3, false), '\u2588\u258c');
  assert.equal(bar(1, 1000, 10, false), '\u258f');
  assert.equal(bar(1, 1000, 10, true), '#');
  assert.equal(bar(10, 10, 10, true), '#'.repeat(10));
  assert.equal(duration(18_000), '18 s');
  assert.equal(duration(303_000), '5 min 3 s');
  assert.equal(duration(7_500_000), '2 h 5 min');
  assert.equal(duration(3 * 86400_000 + 4 * 3600_000), '3 d 4 h');
  assert.equal(bucketName(1000), 'second');
  assert.equal(bucketName(300_000), '5 minutes');
  assert.equal(bucketName(3600_000), 'hour');
  assert.equal(bucketName(7 * 86400_000), 'week');
  assert.equal(bucketName(14 * 86400_000), '2 weeks');
});

test('stats JSON: the documented shape', () => {
  const s = summary();
  const j = JSON.parse(JSON.stringify(summaryJson(s, { files: ['pf.log'], since: null, until: null, top: 5 }))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j), [
    'files', 'since', 'until', 'top', 'lines', 'events', 'unparsed', 'packets', 'outside', 'v4_in_v6_not_banned', 'first', 'last', 'span_seconds',
    'actions', 'directions', 'protocols', 'sources', 'ports', 'rules', 'interfaces', 'blocked',
  ]);
  assert.equal(j['packets'], 1800);
  assert.equal(j['v4_in_v6_not_banned'], 0);
  assert.deepEqual(j['actions'], { block: 1620, pass: 180 });
  assert.equal(j['span_seconds'], 599 * 60);
  const sources = j['sources'] as { distinct: number; exact: boolean; max_undercount: number; top: Array<Record<string, unknown>> };
  assert.equal(sources.distinct, 7);
  assert.equal(sources.top.length, 5);
  assert.deepEqual(Object.keys(sources.top[0]!), ['src', 'packets', 'ports', 'first', 'last']);
  assert.match(sources.top[0]!['first'] as string, /^2026-11-2[45]T\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$/);
  const ports = j['ports'] as { distinct: number; top: unknown[] };
  assert.deepEqual(ports.top, [{ protocol: 'tcp', port: 443, packets: 1200 }, { protocol: 'tcp', port: 22, packets: 600 }]);
  assert.deepEqual((j['rules'] as { top: unknown[] }).top, [{ rule: '7', packets: 1350 }, { rule: '3.scanners/web.0', packets: 450 }]);
  assert.deepEqual((j['interfaces'] as { top: unknown[] }).top, [{ interface: 'vtnet0', packets: 1800 }]);
  const blocked = j['blocked'] as { total: number; bucket_seconds: number; buckets: Array<{ start: string; packets: number }> };
  assert.equal(blocked.total, 1620);
  assert.equal(blocked.bucket_seconds, 1800);
  assert.equal(blocked.buckets.reduce((n, b) => n + b.packets, 0), 1620);
  assert.equal(blocked.buckets.length, 20);
  // the burst stands out (where its buckets start depends on the local UTC offset)
  assert.ok(Math.max(...blocked.buckets.map((x) => x.packets)) >= 300);
});
