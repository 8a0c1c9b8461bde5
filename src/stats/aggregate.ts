// The figures `stats` prints, accumulated one record at a time in memory that
// does not grow with the log:
//  - per-name counters (action, direction, protocol, rule, interface) hold at
//    most 10,000 names each, the rest counted under "(others)";
//  - destination ports are a fixed array over (protocol, port);
//  - the blocked-packets timeline keeps at most 8,192 buckets, and widens its
//    buckets (1 s, 5 s, 10 s, 30 s, 1 min, ... 1 day, 1 week, ...) as needed;
//  - sources: see sources.ts (exact up to 100,000 of them, then a lossy count).

import { PROTO_CODE_NAMES, isIpv4MappedOrCompatible, type StatsRecord } from './record.js';
import { PORT_KEYS, SourceTable, type SourceRow } from './sources.js';

export type { SourceRow };

export interface AggregateOptions {
  /** ms since the epoch: records before are not counted */
  since?: number | null;
  /** ms since the epoch: records at or after are not counted */
  until?: number | null;
  maxSources?: number;
  /** memory for the sources' port sets, bytes */
  maxPortBytes?: number;
}

const MAX_NAMES = 10_000;
export const OTHERS = '(others)';

/** Counts per name, with the last name's box at hand (logs repeat themselves). */
class Counter {
  readonly boxes = new Map<string, { n: number }>();
  private lastKey = '';
  private lastBox = { n: 0 };

  add(key: string): void {
    if (key === this.lastKey) {
      this.lastBox.n++;
      return;
    }
    let box = this.boxes.get(key);
    if (box === undefined) {
      if (this.boxes.size >= MAX_NAMES) return this.add(OTHERS);
      box = { n: 0 };
      this.boxes.set(key, box);
    }
    box.n++;
    this.lastKey = key;
    this.lastBox = box;
  }

  /** [name, count], most first (ties by name). */
  sorted(): Array<[string, number]> {
    return [...this.boxes].map(([k, b]): [string, number] => [k, b.n]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** Bucket widths in seconds, each a multiple of the one before, so buckets merge exactly. */
const WIDTHS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 86400, 604800];

/** The width of bucket level `i`, in ms. */
export function bucketWidth(i: number): number {
  return i < WIDTHS.length ? WIDTHS[i]! * 1000 : WIDTHS[WIDTHS.length - 1]! * 1000 * 2 ** (i - WIDTHS.length + 1);
}

const MAX_BUCKETS = 8192;

/** 1970-01-05, a Monday: weeks start on Mondays; every shorter width divides 4 days. */
const MONDAY = 4 * 86400000;

/** Blocked packets over time, in buckets aligned to local time (the UTC offset of the first packet). */
class Timeline {
  level = 0;
  /** what to add to a time to get its bucket's key: local time minus UTC, less MONDAY; fixed at the first packet */
  shift = Number.NaN;
  readonly buckets = new Map<number, number>();
  private key = Number.NaN;
  private count = 0;

  add(t: number): void {
    if (Number.isNaN(this.shift)) this.shift = -new Date(t).getTimezoneOffset() * 60000 - MONDAY;
    const k = Math.floor((t + this.shift) / bucketWidth(this.level));
    if (k === this.key) {
      this.count++;
      return;
    }
    this.flush(); // may widen the buckets: the key is then taken again
    this.key = Math.floor((t + this.shift) / bucketWidth(this.level));
    this.count = 1;
  }

  flush(): void {
    if (this.count === 0) return;
    this.buckets.set(this.key, (this.buckets.get(this.key) ?? 0) + this.count);
    this.count = 0;
    this.key = Number.NaN;
    while (this.buckets.size > MAX_BUCKETS) this.widen();
  }

  private widen(): void {
    const factor = bucketWidth(this.level + 1) / bucketWidth(this.level);
    this.level++;
    const old = [...this.buckets];
    this.buckets.clear();
    for (const [k, n] of old) {
      const nk = Math.floor(k / factor);
      this.buckets.set(nk, (this.buckets.get(nk) ?? 0) + n);
    }
  }
}

export interface PortRow {
  proto: string;
  port: number;
  packets: number;
}

export interface Bucket {
  /** start, ms since the epoch */
  start: number;
  packets: number;
}

/** Everything the renderers print, as plain data. */
export interface Summary {
  /** text lines read, and what they were */
  lines: number;
  events: number;
  unparsed: number;
  /** packets counted (in range), from text lines, JSON lines and captures */
  packets: number;
  /** packets outside --since/--until */
  outside: number;
  /** packets blocked inbound from IPv4-mapped/compatible IPv6 sources, which the fail2ban filter never bans */
  v4InV6NotBanned: number;
  /** ms since the epoch of the first and last packet counted, or null */
  first: number | null;
  last: number | null;
  actions: Array<[string, number]>;
  directions: Array<[string, number]>;
  protocols: Array<[string, number]>;
  sources: {
    distinct: number;
    /** false once sources were forgotten (see above): distinct is then an estimate */
    exact: boolean;
    /** counts may be low by at most this much (0: exact) */
    maxUndercount: number;
    top: SourceRow[];
  };
  ports: { distinct: number; top: PortRow[] };
  rules: { distinct: number; top: Array<[string, number]> };
  interfaces: { distinct: number; top: Array<[string, number]> };
  blocked: {
    total: number;
    /** bucket width, ms */
    bucket: number;
    buckets: Bucket[];
  };
}

export class Aggregator {
  lines = 0;
  events = 0;
  unparsed = 0;
  packets = 0;
  outside = 0;
  blocked = 0;
  v4InV6NotBanned = 0;
  private first = Infinity;
  private last = -Infinity;
  private readonly since: number;
  private readonly until: number;
  private readonly actions = new Counter();
  private readonly directions = new Counter();
  private readonly protocols = new Counter();
  private readonly rules = new Counter();
  private readonly interfaces = new Counter();
  private readonly portCounts = new Float64Array(PORT_KEYS);
  private readonly sources: SourceTable;
  private readonly timeline = new Timeline();

  constructor(o: AggregateOptions = {}) {
    this.since = o.since ?? -Infinity;
    this.until = o.until ?? Infinity;
    this.sources = new SourceTable(o.maxSources, o.maxPortBytes);
  }

  add(r: StatsRecord): void {
    const t = r.time;
    if (!(t >= this.since && t < this.until)) {
      this.outside++;
      return;
    }
    this.packets++;
    if (t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    this.actions.add(r.action);
    this.directions.add(r.direction);
    this.protocols.add(r.proto);
    this.rules.add(r.rule);
    this.interfaces.add(r.iface);
    let key = -1;
    if (r.protoCode >= 0 && r.dport >= 0) {
      key = r.protoCode * 65536 + r.dport;
      this.portCounts[key]!++;
    }
    if (r.src4 >= 0 || r.src6 !== '') this.sources.add(r.src4, r.src6, t, key);
    if (r.action === 'block') {
      this.blocked++;
      this.timeline.add(t);
      if (r.src6 !== '' && r.direction === 'in' && isIpv4MappedOrCompatible(r.src6)) this.v4InV6NotBanned++;
    }
  }

  /** The figures, with the `top` largest of each list. */
  summary(top: number, maxRows = 24): Summary {
    this.timeline.flush();
    const first = this.packets > 0 ? this.first : null;
    const last = this.packets > 0 ? this.last : null;
    const ports: PortRow[] = [];
    let distinctPorts = 0;
    const pc = this.portCounts;
    for (let k = 0; k < pc.length; k++) {
      if (pc[k] === 0) continue;
      distinctPorts++;
      ports.push({ proto: PROTO_CODE_NAMES[k >>> 16]!, port: k & 0xffff, packets: pc[k]! });
    }
    ports.sort((a, b) => b.packets - a.packets || a.port - b.port);
    const rules = this.rules.sorted();
    const interfaces = this.interfaces.sorted();
    return {
      lines: this.lines,
      events: this.events,
      unparsed: this.unparsed,
      packets: this.packets,
      outside: this.outside,
      v4InV6NotBanned: this.v4InV6NotBanned,
      first,
      last,
      actions: this.actions.sorted(),
      directions: this.directions.sorted(),
      protocols: this.protocols.sorted(),
      sources: {
        distinct: this.sources.distinct,
        exact: this.sources.exact,
        maxUndercount: this.sources.maxUndercount,
        top: this.sources.top(top),
      },
      ports: { distinct: distinctPorts, top: ports.slice(0, top) },
      rules: { distinct: rules.length, top: rules.slice(0, top) },
      interfaces: { distinct: interfaces.length, top: interfaces.slice(0, top) },
      blocked: this.chart(first, last, maxRows),
    };
  }

  /** Blocked packets in at most `maxRows` buckets of a width from WIDTHS over [first, last]. */
  private chart(first: number | null, last: number | null, maxRows: number): Summary['blocked'] {
    const tl = this.timeline;
    if (first === null || last === null || this.blocked === 0) return { total: this.blocked, bucket: bucketWidth(tl.level), buckets: [] };
    const shift = tl.shift;
    let level = tl.level;
    const keyOf = (t: number, l: number) => Math.floor((t + shift) / bucketWidth(l));
    while (keyOf(last, level) - keyOf(first, level) + 1 > maxRows) level++;
    const width = bucketWidth(level);
    const factor = width / bucketWidth(tl.level);
    const k0 = keyOf(first, level);
    const counts = new Array<number>(keyOf(last, level) - k0 + 1).fill(0);
    for (const [k, n] of tl.buckets) {
      const i = Math.floor(k / factor) - k0;
      if (i >= 0 && i < counts.length) counts[i]! += n;
    }
    return { total: this.blocked, bucket: width, buckets: counts.map((packets, i) => ({ start: (k0 + i) * width - shift, packets })) };
  }
}

