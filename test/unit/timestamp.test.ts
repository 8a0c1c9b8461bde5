import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { formatStamp, nowMicros, stampNow, utcOffset } from '../../src/format/timestamp.js';

const STAMP_RE = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})([+-])(\d\d):(\d\d)$/;
const moduleUrl = new URL('../../src/format/timestamp.js', import.meta.url).href;

/** formatStamp for each [seconds, micros] in a child process running with the given TZ. */
function stampsInZone(tz: string, cases: Array<[number, number]>): string[] {
  const script = `
    import { formatStamp } from ${JSON.stringify(moduleUrl)};
    const cases = JSON.parse(process.env.STAMP_CASES);
    process.stdout.write(JSON.stringify(cases.map(([s, us]) => formatStamp(s, us))));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TZ: tz, STAMP_CASES: JSON.stringify(cases) },
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

// 2023-04-30T23:48:13Z, the reference's example instant.
const T = 1682898493;

test('format and offset in zones east, west, half- and quarter-hour', () => {
  const zones: Array<[string, string]> = [
    ['UTC', '2023-04-30T23:48:13.748353+00:00'],
    ['Europe/Berlin', '2023-05-01T01:48:13.748353+02:00'],
    ['America/Los_Angeles', '2023-04-30T16:48:13.748353-07:00'],
    ['America/St_Johns', '2023-04-30T21:18:13.748353-02:30'],
    ['Asia/Kathmandu', '2023-05-01T05:33:13.748353+05:45'],
    ['Pacific/Chatham', '2023-05-01T12:33:13.748353+12:45'],
    ['America/Noronha', '2023-04-30T21:48:13.748353-02:00'],
  ];
  for (const [tz, want] of zones) assert.deepEqual(stampsInZone(tz, [[T, 748353]]), [want], tz);
});

test('microseconds are zero-padded to six digits', () => {
  const got = stampsInZone('UTC', [
    [T, 0],
    [T, 5],
    [T, 40],
    [T, 999999],
    [T, 100000],
  ]);
  assert.deepEqual(got, [
    '2023-04-30T23:48:13.000000+00:00',
    '2023-04-30T23:48:13.000005+00:00',
    '2023-04-30T23:48:13.000040+00:00',
    '2023-04-30T23:48:13.999999+00:00',
    '2023-04-30T23:48:13.100000+00:00',
  ]);
});

test('the offset follows DST transitions (the per-second cache is per second)', () => {
  // Europe/Berlin springs forward at 2023-03-26T01:00:00Z and falls back at 2023-10-29T01:00:00Z.
  const spring = 1679792400;
  const autumn = 1698541200;
  assert.deepEqual(
    stampsInZone('Europe/Berlin', [
      [spring - 1, 999999],
      [spring, 0],
      [spring - 1, 1],
      [autumn - 1, 0],
      [autumn, 0],
    ]),
    [
      '2023-03-26T01:59:59.999999+01:00',
      '2023-03-26T03:00:00.000000+02:00',
      '2023-03-26T01:59:59.000001+01:00',
      '2023-10-29T02:59:59.000000+02:00',
      '2023-10-29T02:00:00.000000+01:00',
    ],
  );
  // Southern hemisphere, negative offset: Santiago is -03:00 in January, -04:00 in July.
  assert.deepEqual(stampsInZone('America/Santiago', [[1673000000, 0], [1689000000, 0]]), [
    '2023-01-06T07:13:20.000000-03:00',
    '2023-07-10T10:40:00.000000-04:00',
  ]);
});

test('in this process, formatStamp agrees with the Date getters', () => {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  for (const s of [0, 86399, T, T + 1, 1700000000, 2000000000, 4102444800]) {
    const d = new Date(s * 1000);
    const off = -d.getTimezoneOffset();
    const want =
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
      `.123456${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
    assert.equal(formatStamp(s, 123456), want);
    assert.equal(utcOffset(d), want.slice(-6));
  }
});

test('stampNow is now, in the stamp format', () => {
  const before = Date.now();
  const s = stampNow();
  const after = Date.now();
  const m = STAMP_RE.exec(s);
  assert.ok(m, s);
  // Date.parse understands the ISO form to the millisecond
  const ms = Date.parse(s.replace(/(\.\d{3})\d{3}/, '$1'));
  assert.ok(ms >= before - 2 && ms <= after + 2, `${s} is not between ${new Date(before).toISOString()} and ${new Date(after).toISOString()}`);
  const us = nowMicros();
  assert.ok(Number.isInteger(us));
  assert.ok(Math.abs(us / 1000 - Date.now()) < 50);
});

test('stampNow follows a step of the wall clock (NTP sync at boot, date -s)', (t) => {
  const realNow = Date.now;
  t.after(() => {
    Date.now = realNow;
  });
  for (const stepMs of [3_600_000, -86_400_000, 1500]) {
    Date.now = () => realNow() + stepMs;
    const s = stampNow();
    const ms = Date.parse(s.replace(/(\.\d{3})\d{3}/, '$1'));
    assert.ok(Math.abs(ms - (realNow() + stepMs)) < 50, `after a ${stepMs} ms step the stamp says ${s}`);
  }
  Date.now = realNow;
  const ms = Date.parse(stampNow().replace(/(\.\d{3})\d{3}/, '$1'));
  assert.ok(Math.abs(ms - Date.now()) < 50, 'and back');
});

test('stamps keep microsecond resolution', () => {
  // Stamps taken over a few milliseconds differ below the millisecond.
  const seen = new Set<string>();
  const until = Date.now() + 3;
  while (Date.now() < until) seen.add(stampNow().slice(23, 26));
  assert.ok(seen.size > 1, 'the digits below the millisecond never change');
});
