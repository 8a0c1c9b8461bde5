// ISO 8601 local time with microseconds and UTC offset, the reference's stamp:
//   2023-05-01T01:48:13.748353+02:00
// The date part is cached per second: at a million lines a second, building a
// Date for each line would be most of the work.

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad6(n: number): string {
  const s = `${n}`;
  return '000000'.slice(s.length) + s;
}

/** "+HH:MM" / "-HH:MM" for a Date, from the local time zone in force at that instant. */
export function utcOffset(d: Date): string {
  const minutesEast = -d.getTimezoneOffset();
  const sign = minutesEast < 0 ? '-' : '+';
  const abs = Math.abs(minutesEast);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

let cachedSecond = Number.NaN;
let cachedHead = '';
let cachedOffset = '';
let cachedHeadBytes = new Uint8Array(0);
let cachedOffsetBytes = new Uint8Array(0);

/**
 * Formats seconds since the epoch plus microseconds into the local ISO 8601
 * stamp. Pure apart from the local time zone and a one-entry cache.
 */
export function formatStamp(epochSeconds: number, micros: number): string {
  refreshSecond(epochSeconds);
  return cachedHead + pad6(micros) + cachedOffset;
}

function refreshSecond(epochSeconds: number): void {
  if (epochSeconds !== cachedSecond) {
    const d = new Date(epochSeconds * 1000);
    cachedHead =
      `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}` +
      `T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`;
    cachedOffset = utcOffset(d);
    cachedHeadBytes = Buffer.from(cachedHead, 'latin1');
    cachedOffsetBytes = Buffer.from(cachedOffset, 'latin1');
    cachedSecond = epochSeconds;
  }
}

/** Disagreement between the two clocks taken as a step (Date.now() alone truncates to 1 ms). */
const STEP_TOLERANCE_MS = 5;
/** Wall clock minus the monotonic clock, in ms; re-taken when the wall clock is stepped. */
let wallMinusMonoMs = performance.timeOrigin;

/**
 * Wall-clock now in microseconds since the epoch (integer). The monotonic
 * clock gives the microseconds, but it does not follow steps of the wall
 * clock (NTP setting the time after boot, date -s): anchored only once, at
 * start, every later stamp would stay off by the step, and fail2ban would
 * judge the lines too old or in the future. So it is re-anchored whenever it
 * strays from Date.now(), which follows steps (at millisecond resolution).
 */
export function nowMicros(): number {
  const mono = performance.now();
  const wall = Date.now();
  let ms = wallMinusMonoMs + mono;
  if (Math.abs(ms - wall) > STEP_TOLERANCE_MS) {
    wallMinusMonoMs = wall - mono;
    ms = wall;
  }
  return Math.floor(ms * 1000);
}

/** The stamp for the current instant. */
export function stampNow(): string {
  const us = nowMicros();
  return formatStamp(Math.floor(us / 1e6), us % 1e6);
}

/** Writes the stamp for (seconds, microseconds) as bytes: the hot-path twin of formatStamp. */
export function writeStamp(w: { bytes(b: Uint8Array): void; num(n: number): void; byte(c: number): void }, epochSeconds: number, micros: number): void {
  refreshSecond(epochSeconds);
  w.bytes(cachedHeadBytes);
  // six digits, zero-padded
  for (let div = 100000; div > micros && div > 1; div /= 10) w.byte(0x30);
  w.num(micros);
  w.bytes(cachedOffsetBytes);
}
