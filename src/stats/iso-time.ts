// ISO 8601 times: the stamps at the start of our log lines (read from the
// bytes, no Date per line) and the values of --since/--until.

/** Days from 1970-01-01 to the given proleptic Gregorian date (month 1-12). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Consecutive lines share their date: its day number is kept. */
let cachedDate = -1;
let cachedDays = 0;

function two(b: Uint8Array, i: number): number {
  const h = b[i]! - 48;
  const l = b[i + 1]! - 48;
  return h >= 0 && h <= 9 && l >= 0 && l <= 9 ? h * 10 + l : -1;
}

/**
 * The stamp our log lines start with, YYYY-MM-DDTHH:MM:SS[.fraction] and
 * Z, +HH:MM or -HH:MM, at b[a..e) and followed by a space: sets `out.time`
 * (ms since the epoch, microseconds kept as a fraction) and returns where
 * the text after the space starts, or -1 when there is no such stamp.
 */
export function stampAt(b: Uint8Array, a: number, e: number, out: { time: number }): number {
  if (e - a < 21 || b[a + 4] !== 45 || b[a + 7] !== 45 || b[a + 10] !== 84 || b[a + 13] !== 58 || b[a + 16] !== 58) return -1;
  const y1 = two(b, a);
  const y2 = two(b, a + 2);
  const mo = two(b, a + 5);
  const d = two(b, a + 8);
  const h = two(b, a + 11);
  const mi = two(b, a + 14);
  const s = two(b, a + 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return -1;
  const date = (y1 * 100 + y2) * 10000 + mo * 100 + d;
  if (date !== cachedDate) {
    cachedDays = daysFromCivil(y1 * 100 + y2, mo, d);
    cachedDate = date;
  }
  let i = a + 19;
  let frac = 0;
  if (b[i] === 46) {
    i++;
    let scale = 1000;
    const from = i;
    for (; i < e; i++) {
      const c = b[i]! - 48;
      if (c < 0 || c > 9) break;
      scale /= 10;
      frac += c * scale;
    }
    if (i === from) return -1;
  }
  let offset = 0;
  const z = b[i];
  if (z === 90) i++;
  else if (z === 43 || z === 45) {
    if (e - i < 6 || b[i + 3] !== 58) return -1;
    const oh = two(b, i + 1);
    const om = two(b, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return -1;
    offset = (oh * 60 + om) * 60000 * (z === 45 ? -1 : 1);
    i += 6;
  } else return -1;
  if (i >= e || b[i] !== 32) return -1;
  out.time = cachedDays * 86400000 + ((h * 60 + mi) * 60 + s) * 1000 + frac - offset;
  return i + 1;
}

/** A whole string that is one of our stamps (a JSON line's "time"), in ms, or NaN. */
export function parseStampText(t: string): number {
  const b = Buffer.from(`${t} `, 'latin1');
  const out = { time: Number.NaN };
  return stampAt(b, 0, b.length, out) === b.length ? out.time : Number.NaN;
}

const ARG = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * --since/--until: an ISO 8601 date or date and time, e.g. 2026-11-25,
 * 2026-11-25T10:00, 2026-11-25T10:00:00Z, 2026-11-25T10:00:00.5+01:00.
 * Without a UTC offset the time is local (TZ), as in our log's stamps; a date
 * alone is its midnight. Returns ms since the epoch, or null when `v` is not
 * such a time.
 */
export function parseIsoArg(v: string): number | null {
  const m = ARG.exec(v);
  if (m === null) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  const monthDays = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > monthDays[mo - 1]! || h > 23 || mi > 59 || s > 59) return null;
  const zone = m[8];
  if (zone === undefined) return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  let offset = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return null;
    offset = (oh * 60 + om) * 60000 * (zone[0] === '-' ? -1 : 1);
  }
  return daysFromCivil(y, mo, d) * 86400000 + ((h * 60 + mi) * 60 + s) * 1000 + ms - offset;
}
