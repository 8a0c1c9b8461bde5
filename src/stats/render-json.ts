// The Summary for a program: one JSON document with the same figures as the
// text. Times are ISO 8601 in the log's own form (local time, microseconds,
// UTC offset); lists are ordered most first. Field names are documented in
// pfasciilogd(8) and stable.

import { formatStamp } from '../format/timestamp.js';
import type { Summary } from './aggregate.js';

export interface JsonOptions {
  files: readonly string[];
  since: number | null;
  until: number | null;
  top: number;
}

/** ms since the epoch to our stamp. */
export function stamp(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const usec = Math.min(999999, Math.round((ms - sec * 1000) * 1000));
  return formatStamp(sec, usec);
}

function object(items: ReadonlyArray<[string, number]>): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, n] of items) o[k] = n;
  return o;
}

export function summaryJson(s: Summary, o: JsonOptions): object {
  return {
    files: o.files,
    since: o.since === null ? null : stamp(o.since),
    until: o.until === null ? null : stamp(o.until),
    top: o.top,
    lines: s.lines,
    events: s.events,
    unparsed: s.unparsed,
    packets: s.packets,
    outside: s.outside,
    v4_in_v6_not_banned: s.v4InV6NotBanned,
    first: s.first === null ? null : stamp(s.first),
    last: s.last === null ? null : stamp(s.last),
    span_seconds: s.first === null || s.last === null ? null : (s.last - s.first) / 1000,
    actions: object(s.actions),
    directions: object(s.directions),
    protocols: object(s.protocols),
    sources: {
      distinct: s.sources.distinct,
      exact: s.sources.exact,
      max_undercount: s.sources.maxUndercount,
      top: s.sources.top.map((r) => ({ src: r.src, packets: r.packets, ports: r.ports, first: stamp(r.first), last: stamp(r.last) })),
    },
    ports: {
      distinct: s.ports.distinct,
      top: s.ports.top.map((p) => ({ protocol: p.proto, port: p.port, packets: p.packets })),
    },
    rules: { distinct: s.rules.distinct, top: s.rules.top.map(([rule, packets]) => ({ rule, packets })) },
    interfaces: { distinct: s.interfaces.distinct, top: s.interfaces.top.map(([name, packets]) => ({ interface: name, packets })) },
    blocked: {
      total: s.blocked.total,
      bucket_seconds: s.blocked.bucket / 1000,
      buckets: s.blocked.buckets.map((b) => ({ start: stamp(b.start), packets: b.packets })),
    },
  };
}

export function renderJson(s: Summary, o: JsonOptions): string {
  return `${JSON.stringify(summaryJson(s, o), null, 2)}\n`;
}
