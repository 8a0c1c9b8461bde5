// The Summary for a person at a terminal: totals, the top tables, and the
// blocked packets over time as horizontal bars that fill the terminal's width.
// Everything but the bars is plain ASCII (names from the log are escaped);
// with `ascii` the bars are '#' too.

import { escapeText } from '../format/escape.js';
import { utcOffset } from '../format/timestamp.js';
import type { Summary } from './aggregate.js';

export interface TextOptions {
  /** terminal width: the chart's lines are never longer */
  columns: number;
  /** bars of '#' instead of Unicode blocks */
  ascii: boolean;
  /** the inputs, as given */
  files: readonly string[];
}

/** 1/8 to 8/8 of a cell */
const EIGHTHS = ['', '\u258f', '\u258e', '\u258d', '\u258c', '\u258b', '\u258a', '\u2589', '\u2588'];

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** "2026-11-25 10:00:00" in local time (the offset is given once, in the header). */
export function localTime(ms: number, parts: 'second' | 'minute' | 'day' = 'second'): string {
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  if (parts === 'day') return day;
  const hm = `${day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return parts === 'minute' ? hm : `${hm}:${pad2(d.getSeconds())}`;
}

/** "2026-11-25T10:00:00+01:00": local time with its offset, to the second. */
export function isoSeconds(ms: number): string {
  return `${localTime(ms).replace(' ', 'T')}${utcOffset(new Date(ms))}`;
}

/** "18 s", "5 min 3 s", "2 h 5 min", "3 d 4 h". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86400)} d${s % 86400 >= 3600 ? ` ${Math.floor((s % 86400) / 3600)} h` : ''}`;
}

/** "second", "5 seconds", "minute", "3 hours", "day", "2 weeks". */
export function bucketName(ms: number): string {
  const s = ms / 1000;
  const units: Array<[number, string]> = [[604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [size, unit] of units) {
    if (s % size === 0) {
      const n = s / size;
      return n === 1 ? unit : `${n} ${unit}s`;
    }
  }
  return `${s} seconds`;
}

function percent(n: number, total: number): string {
  return total > 0 ? `${((100 * n) / total).toFixed(1)}%` : '-';
}

/** "block 18 (94.7%), pass 1 (5.3%)", wrapped to `width` after a label column. */
function tally(label: string, items: ReadonlyArray<[string, number]>, total: number, width: number): string[] {
  const parts = items.map(([k, n], i) => `${escapeText(k)} ${int(n)} (${percent(n, total)})${i < items.length - 1 ? ',' : ''}`);
  const indent = ' '.repeat(13);
  const out: string[] = [];
  let line = label.padEnd(13);
  let empty = true;
  for (const p of parts) {
    if (!empty && line.length + 1 + p.length > width) {
      out.push(line);
      line = indent;
      empty = true;
    }
    line += (empty ? '' : ' ') + p;
    empty = false;
  }
  if (parts.length === 0) line += '-';
  out.push(line);
  return out;
}

/** Rows as columns, indented by two, two spaces between; `align` has an 'l' or 'r' per column. */
function table(rows: string[][], align: string): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (align[c] === 'l' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}`.trimEnd());
}

/** "(6 in all)" */
function inAll(n: number): string {
  return `(${int(n)} in all)`;
}

/** The bar for `n` of `max` in `width` cells. */
export function bar(n: number, max: number, width: number, ascii: boolean): string {
  if (n <= 0 || max <= 0) return '';
  if (ascii) return '#'.repeat(Math.max(1, Math.round((n / max) * width)));
  const eighths = Math.max(1, Math.round((n / max) * width * 8));
  return EIGHTHS[8]!.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!;
}

function chart(s: Summary, o: TextOptions): string[] {
  const b = s.blocked;
  if (b.total === 0) return ['No blocked packets.'];
  const unit = bucketName(b.bucket);
  const out = [`Blocked packets per ${unit} ${inAll(b.total)}`];
  const parts = b.bucket % 86400000 === 0 ? 'day' : b.bucket % 60000 === 0 ? 'minute' : 'second';
  const labels = b.buckets.map((x) => localTime(x.start, parts));
  const counts = b.buckets.map((x) => int(x.packets));
  const lw = Math.max(...labels.map((l) => l.length));
  const cw = Math.max(...counts.map((c) => c.length));
  const max = Math.max(...b.buckets.map((x) => x.packets));
  // "  LABEL  COUNT BAR": the bar takes what is left of the line
  const room = Math.max(1, o.columns - (2 + lw + 2 + cw + 1));
  b.buckets.forEach((x, i) => {
    const line = `  ${labels[i]!.padEnd(lw)}  ${counts[i]!.padStart(cw)} ${bar(x.packets, max, room, o.ascii)}`;
    out.push(line.trimEnd());
  });
  return out;
}

export function renderText(s: Summary, o: TextOptions): string {
  const out: string[] = [];
  const w = o.columns;
  const files = o.files.map((f) => (f === '-' ? 'standard input' : escapeText(f)));
  out.push(`pfasciilogd stats: ${files.join(', ')}`);
  if (s.first !== null && s.last !== null) {
    out.push(`${'Time span'.padEnd(13)}${isoSeconds(s.first)} to ${isoSeconds(s.last)} (${duration(s.last - s.first)})`);
  } else out.push(`${'Time span'.padEnd(13)}-`);
  const outside = s.outside > 0 ? ` (and ${int(s.outside)} outside --since/--until)` : '';
  out.push(`${'Packets'.padEnd(13)}${int(s.packets)}${outside}`);
  if (s.lines > 0) out.push(`${'Lines'.padEnd(13)}${int(s.lines)} read: ${int(s.events)} daemon events, ${int(s.unparsed)} not understood`);
  // the filter's deliberate blind spot, in plain sight (see isIpv4MappedOrCompatible)
  out.push(`IPv4-mapped/compatible sources not banned: ${int(s.v4InV6NotBanned)} blocked packets`);
  out.push(...tally('Actions', s.actions, s.packets, w));
  out.push(...tally('Directions', s.directions, s.packets, w));
  out.push(...tally('Protocols', s.protocols, s.packets, w));

  if (s.sources.top.length > 0) {
    const all = `${s.sources.exact ? '' : 'about '}${int(s.sources.distinct)} in all`;
    const note = s.sources.maxUndercount > 0 ? `; counts may be low by up to ${int(s.sources.maxUndercount)}` : '';
    out.push('', `Top sources (${all}${note})`);
    const rows = [['source', 'packets', 'ports', 'first seen', 'last seen']];
    for (const r of s.sources.top) rows.push([escapeText(r.src), int(r.packets), int(r.ports), localTime(r.first), localTime(r.last)]);
    out.push(...table(rows, 'lrrll'));
  }
  if (s.ports.top.length > 0) {
    out.push('', `Top destination ports ${inAll(s.ports.distinct)}`);
    const rows = [['port', 'packets', 'share']];
    for (const p of s.ports.top) rows.push([`${p.proto}/${p.port}`, int(p.packets), percent(p.packets, s.packets)]);
    out.push(...table(rows, 'lrr'));
  }
  if (s.rules.top.length > 0) {
    out.push('', `Rules ${inAll(s.rules.distinct)}`);
    const rows = [['rule', 'packets', 'share']];
    for (const [k, n] of s.rules.top) rows.push([escapeText(k), int(n), percent(n, s.packets)]);
    out.push(...table(rows, 'lrr'));
  }
  if (s.interfaces.top.length > 0) {
    out.push('', `Interfaces ${inAll(s.interfaces.distinct)}`);
    const rows = [['interface', 'packets', 'share']];
    for (const [k, n] of s.interfaces.top) rows.push([escapeText(k), int(n), percent(n, s.packets)]);
    out.push(...table(rows, 'lrr'));
  }
  out.push('', ...chart(s, o));
  return `${out.join('\n')}\n`;
}
