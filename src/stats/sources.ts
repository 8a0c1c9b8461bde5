// Per-source figures (packets, distinct destination ports, first and last
// seen) in memory that does not grow with the log.
//
// Sources are kept exactly up to `maxSources` (default 100,000), with at most
// `maxPortBytes` (default 64 MiB) for their port sets. Past either, the half
// with the fewest packets is forgotten (the oldest first among equals). This
// is a lossy count: a forgotten source that comes back starts again from
// zero, so any count may be low by at most the largest count forgotten,
// which is reported; the number of distinct sources is then an estimate
// (HyperLogLog, 16 KiB, about 1% off).
//
// The layout is for speed at half a million packets a second: entries are
// columns of typed arrays; IPv4 sources (numbers) are found through an
// open-addressing table of entry indexes, IPv6 ones through a Map. A
// source's distinct (protocol, port) keys: the first in a column, more in an
// open-addressing Int32Array set, past 1,024 of them a 32 KiB bitmap over
// every (protocol, port). Nothing is allocated for a packet from a known
// source to a port it has already tried.

import { ipv4Text } from './record.js';

/** (protocol code, port or ICMP type) keys: 4 × 65536 */
export const PORT_KEYS = 4 * 65536;
const SET_MAX = 1024;
const BITMAP_BYTES = PORT_KEYS >>> 3;

/** A source's second and later ports. */
class PortSet {
  keys: Int32Array | null = new Int32Array(16).fill(-1);
  bits: Uint8Array | null = null;
  size = 0;

  /** Adds `key`; returns true if it was new. */
  add(key: number): boolean {
    const bits = this.bits;
    if (bits !== null) {
      const bit = 1 << (key & 7);
      if (bits[key >>> 3]! & bit) return false;
      bits[key >>> 3]! |= bit;
      this.size++;
      return true;
    }
    const keys = this.keys!;
    const mask = keys.length - 1;
    let h = Math.imul(key, 0x9e3779b1) >>> 16;
    for (;;) {
      h &= mask;
      const k = keys[h]!;
      if (k === key) return false;
      if (k === -1) break;
      h++;
    }
    keys[h] = key;
    this.size++;
    if (this.size > SET_MAX) this.toBitmap();
    else if (this.size * 2 > keys.length) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.keys!;
    const keys = (this.keys = new Int32Array(old.length * 2).fill(-1));
    const mask = keys.length - 1;
    for (const key of old) {
      if (key === -1) continue;
      let h = Math.imul(key, 0x9e3779b1) >>> 16;
      while (keys[h & mask] !== -1) h++;
      keys[h & mask] = key;
    }
  }

  private toBitmap(): void {
    const bits = (this.bits = new Uint8Array(BITMAP_BYTES));
    for (const key of this.keys!) if (key !== -1) bits[key >>> 3]! |= 1 << (key & 7);
    this.keys = null;
  }

  get bytes(): number {
    return this.bits !== null ? BITMAP_BYTES : this.keys!.length * 4;
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** HyperLogLog over 2^14 registers. */
class DistinctEstimate {
  private readonly reg = new Uint8Array(1 << 14);

  add(hash: number): void {
    const h = fmix(hash);
    const j = h >>> 18;
    const rank = Math.clz32((h << 14) | 0x2000) + 1;
    if (rank > this.reg[j]!) this.reg[j] = rank;
  }

  estimate(): number {
    const m = this.reg.length;
    let sum = 0;
    let zeros = 0;
    for (let j = 0; j < m; j++) {
      sum += 2 ** -this.reg[j]!;
      if (this.reg[j] === 0) zeros++;
    }
    const e = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
    return Math.round(e <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : e);
  }
}

export interface SourceRow {
  /** the address, as text */
  src: string;
  packets: number;
  /** distinct destination ports (ICMP types) */
  ports: number;
  /** ms since the epoch */
  first: number;
  last: number;
}

export class SourceTable {
  /** entries in use */
  private n = 0;
  private addr4 = new Float64Array(0);
  private name6: Array<string | null> = [];
  private packets = new Float64Array(0);
  private first = new Float64Array(0);
  private last = new Float64Array(0);
  private port0 = new Int32Array(0);
  private sets: Array<PortSet | null> = [];
  /** IPv4 address -> entry index + 1 (0: empty), open addressing */
  private slots = new Int32Array(1 << 12);
  private n4 = 0;
  private readonly map6 = new Map<string, number>();
  private portBytes = 0;
  private forgotten = false;
  private undercount = 0;
  private readonly hll = new DistinctEstimate();
  /** the entry of the last IPv4 source seen (sources come in bursts) */
  private last4 = -1;
  private lastIndex = -1;

  constructor(
    private readonly maxSources = 100_000,
    private readonly maxPortBytes = 64 << 20,
  ) {}

  /** Counts a packet from src4 (IPv4 number, or -1) or src6 at time t to port key `port` (-1: none). */
  add(src4: number, src6: string, t: number, port: number): void {
    let i: number;
    if (src4 >= 0) {
      if (src4 === this.last4) i = this.lastIndex;
      else {
        i = this.find4(src4);
        this.last4 = src4;
        this.lastIndex = i;
      }
    } else {
      const found = this.map6.get(src6);
      if (found === undefined) {
        i = this.newEntry(-1, src6, t);
        this.map6.set(src6, i);
        this.hll.add(stringHash(src6));
      } else i = found;
    }
    this.packets[i]!++;
    if (t < this.first[i]!) this.first[i] = t;
    if (t > this.last[i]!) this.last[i] = t;
    if (port >= 0 && port !== this.port0[i]) {
      if (this.port0[i] === -1) this.port0[i] = port;
      else {
        let set = this.sets[i];
        if (set === null || set === undefined) {
          set = this.sets[i] = new PortSet();
          this.portBytes += set.bytes;
        }
        const before = set.bytes;
        if (set.add(port) && set.bytes !== before) this.portBytes += set.bytes - before;
      }
    }
    if (this.n > this.maxSources || this.portBytes > this.maxPortBytes) this.forget();
  }

  /** The entry for an IPv4 source, made if new. */
  private find4(a: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let h = fmix(a);
    for (;;) {
      h &= mask;
      const s = slots[h]!;
      if (s === 0) break;
      if (this.addr4[s - 1] === a) return s - 1;
      h++;
    }
    const i = this.newEntry(a, null, Number.NaN);
    slots[h] = i + 1;
    this.n4++;
    this.hll.add(a | 0);
    if (this.n4 * 2 > slots.length) this.rehash(slots.length * 2);
    return i;
  }

  private newEntry(a: number, name: string | null, t: number): number {
    if (this.n === this.packets.length) this.growEntries();
    const i = this.n++;
    this.addr4[i] = a;
    this.name6[i] = name;
    this.packets[i] = 0;
    this.first[i] = Number.isNaN(t) ? Infinity : t;
    this.last[i] = -Infinity;
    this.port0[i] = -1;
    this.sets[i] = null;
    return i;
  }

  private growEntries(): void {
    const cap = Math.max(1024, this.packets.length * 2);
    const f64 = (old: Float64Array) => {
      const a = new Float64Array(cap);
      a.set(old);
      return a;
    };
    this.addr4 = f64(this.addr4);
    this.packets = f64(this.packets);
    this.first = f64(this.first);
    this.last = f64(this.last);
    const p0 = new Int32Array(cap);
    p0.set(this.port0);
    this.port0 = p0;
  }

  private rehash(size: number): void {
    const slots = (this.slots = new Int32Array(size));
    const mask = size - 1;
    for (let i = 0; i < this.n; i++) {
      const a = this.addr4[i]!;
      if (a < 0) continue;
      let h = fmix(a);
      while (slots[h & mask] !== 0) h++;
      slots[h & mask] = i + 1;
    }
  }

  /** Forgets the half of the sources with the fewest packets (the oldest first among equals). */
  private forget(): void {
    this.forgotten = true;
    this.last4 = -1;
    const n = this.n;
    const counts = this.packets.slice(0, n).sort();
    const threshold = counts[n >>> 1]!;
    let equal = (n >>> 1) - counts.indexOf(threshold); // how many at the threshold go too
    let j = 0;
    this.portBytes = 0;
    this.map6.clear();
    for (let i = 0; i < n; i++) {
      const p = this.packets[i]!;
      if (p < threshold || (p === threshold && equal-- > 0)) {
        if (p > this.undercount) this.undercount = p;
        continue;
      }
      this.addr4[j] = this.addr4[i]!;
      this.name6[j] = this.name6[i] ?? null;
      this.packets[j] = p;
      this.first[j] = this.first[i]!;
      this.last[j] = this.last[i]!;
      this.port0[j] = this.port0[i]!;
      const set = (this.sets[j] = this.sets[i] ?? null);
      if (set !== null) this.portBytes += set.bytes;
      if (this.name6[j] !== null) this.map6.set(this.name6[j]!, j);
      j++;
    }
    for (let i = j; i < n; i++) {
      this.sets[i] = null;
      this.name6[i] = null;
    }
    this.n = j;
    this.n4 = j - this.map6.size;
    this.rehash(this.slots.length);
  }

  get distinct(): number {
    return this.forgotten ? this.hll.estimate() : this.n;
  }

  /** false once sources were forgotten: `distinct` is then an estimate */
  get exact(): boolean {
    return !this.forgotten;
  }

  /** counts may be low by at most this much (0: they are exact) */
  get maxUndercount(): number {
    return this.undercount;
  }

  /** The `count` sources with the most packets (the first seen first among equals). */
  top(count: number): SourceRow[] {
    const idx = Array.from({ length: this.n }, (_, i) => i);
    idx.sort((a, b) => this.packets[b]! - this.packets[a]! || this.first[a]! - this.first[b]!);
    return idx.slice(0, count).map((i) => ({
      src: this.name6[i] ?? ipv4Text(this.addr4[i]!),
      packets: this.packets[i]!,
      ports: (this.port0[i] === -1 ? 0 : 1) + (this.sets[i]?.size ?? 0),
      first: this.first[i]!,
      last: this.last[i]!,
    }));
  }
}
