// Random pflog captures for the differential test (our lines against the real
// tcpdump's) and for the decoder fuzz (unit test and `npm run fuzz`). Every
// random choice comes from one seeded PRNG, so a failure reproduces from the
// seed the tests print (FUZZ_SEED=<seed>).
//
// Two kinds of output:
//  - randomPacket(): a well-formed-ish pflog frame covering every header
//    variant the contract names (pflog lengths 61/69/100, address families,
//    actions/reasons/directions, anchors, odd interface bytes; IPv4 options,
//    fragments, truncation; IPv6 extension headers; TCP options, UDP, ICMP,
//    ICMPv6, other protocols), with a category and how much of tcpdump's line
//    the differential test may compare;
//  - mutate()/fuzzFrame(): the same frames damaged (header mutations, random
//    bytes, truncations), for the fuzz only.
// Plus writers for pcap (both byte orders, micro and nano magic) and pcapng
// (SHB, IDB with if_tsresol, EPB, SPB), and the fuzz harness itself.

import v8 from 'node:v8';
import vm from 'node:vm';
import { PacketLines } from '../../src/format/packet-lines.js';
import { pcapFileHeader } from './capture-builder.js';

// ---------------------------------------------------------------------------
// PRNG: sfc32 seeded through splitmix32. Fast, 32-bit, reproducible.

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** [0, 1) */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** [0, n) */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = this.float() * total;
    for (const [w, v] of choices) {
      r -= w;
      if (r < 0) return v;
    }
    return choices[choices.length - 1]![1];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** A new generator derived from this one (for independent streams). */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/** The seed: FUZZ_SEED when set (decimal or 0x-hex), else a fresh random one. */
export function seedFromEnv(env: string | undefined = process.env.FUZZ_SEED): number {
  if (env !== undefined && env.trim() !== '') {
    const v = Number(env.trim());
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`FUZZ_SEED must be an integer 0..4294967295, got ${env}`);
    return v;
  }
  return (Math.random() * 4294967296) >>> 0;
}

// ---------------------------------------------------------------------------
// Capture files.

export interface CaptureRecord {
  /** captured bytes */
  data: Buffer;
  /** length on the wire (>= data.length) */
  origLen: number;
  sec: number;
  /** microseconds */
  usec: number;
}

export const LINKTYPE_PFLOG = 117;

export interface PcapWriteOptions {
  littleEndian: boolean;
  nanosecond: boolean;
  linktype?: number;
  snaplen?: number;
}

export function pcapHeader(o: PcapWriteOptions): Buffer {
  return pcapFileHeader({ littleEndian: o.littleEndian, nanosecond: o.nanosecond, linktype: o.linktype ?? LINKTYPE_PFLOG, snaplen: o.snaplen ?? 262144 });
}

export function pcapRecordHeader(r: CaptureRecord, o: PcapWriteOptions): Buffer {
  const b = Buffer.alloc(16);
  const le = o.littleEndian;
  const u32 = (v: number, off: number) => (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  u32(r.sec, 0);
  u32(o.nanosecond ? r.usec * 1000 + (r.sec % 7) * 100 : r.usec, 4); // ns: sub-microsecond digits are dropped
  u32(r.data.length, 8);
  u32(r.origLen, 12);
  return b;
}

/** Each record as its own buffer (header + data), for splicing corrupt bytes in between. */
export function pcapRecords(records: readonly CaptureRecord[], o: PcapWriteOptions): Buffer[] {
  return records.map((r) => Buffer.concat([pcapRecordHeader(r, o), r.data]));
}

export function writePcap(records: readonly CaptureRecord[], o: PcapWriteOptions): Buffer {
  return Buffer.concat([pcapHeader(o), ...pcapRecords(records, o)]);
}

export interface PcapngWriteOptions {
  littleEndian: boolean;
  /**
   * if_tsresol byte: 6 (microseconds, also the default when absent), 9
   * (nanoseconds), 0x80|20 (2^-20 s), or null to leave the option out.
   */
  tsresol: number | null;
  linktype?: number;
  snaplen?: number;
  /** write Simple Packet Blocks (no timestamp) instead of Enhanced ones */
  simple?: boolean;
  /** put a second, unused interface first (EPBs then name interface 1) */
  extraInterface?: boolean;
}

function ngBlock(type: number, body: Buffer, le: boolean): Buffer {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const b = Buffer.alloc(total);
  const u32 = (v: number, off: number) => (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  u32(type, 0);
  u32(total, 4);
  body.copy(b, 8);
  u32(total, total - 4);
  return b;
}

function ngOption(code: number, value: Buffer, le: boolean): Buffer {
  const b = Buffer.alloc(4 + ((value.length + 3) & ~3));
  if (le) {
    b.writeUInt16LE(code, 0);
    b.writeUInt16LE(value.length, 2);
  } else {
    b.writeUInt16BE(code, 0);
    b.writeUInt16BE(value.length, 2);
  }
  value.copy(b, 4);
  return b;
}

function ngSectionHeader(le: boolean): Buffer {
  const body = Buffer.alloc(16);
  if (le) {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
    body.writeUInt16LE(0, 6);
  } else {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
    body.writeUInt16BE(0, 6);
  }
  body.fill(0xff, 8, 16); // section length: unknown
  // The block type 0x0a0d0d0a is a palindrome: same bytes in either order.
  return ngBlock(0x0a0d0d0a, body, le);
}

function ngInterface(linktype: number, snaplen: number, tsresol: number | null, le: boolean): Buffer {
  const head = Buffer.alloc(8);
  if (le) {
    head.writeUInt16LE(linktype, 0);
    head.writeUInt32LE(snaplen, 4);
  } else {
    head.writeUInt16BE(linktype, 0);
    head.writeUInt32BE(snaplen, 4);
  }
  const opts: Buffer[] = [];
  if (tsresol !== null) opts.push(ngOption(9, Buffer.from([tsresol]), le), ngOption(0, Buffer.alloc(0), le));
  return ngBlock(1, Buffer.concat([head, ...opts]), le);
}

/** Timestamp ticks for (sec, usec) at a resolution, chosen so the decoder gets usec back exactly. */
function ngTicks(sec: number, usec: number, tsresol: number | null): bigint {
  const v = tsresol ?? 6;
  if (v & 0x80) {
    const per = 2n ** BigInt(v & 0x7f);
    // ceil(usec * 2^k / 1e6): floor(ticks * 1e6 / 2^k) is then usec again
    return BigInt(sec) * per + (BigInt(usec) * per + 999999n) / 1000000n;
  }
  const per = 10n ** BigInt(v);
  if (v >= 6) return BigInt(sec) * per + BigInt(usec) * (per / 1000000n);
  return BigInt(sec) * per + (BigInt(usec) * per) / 1000000n;
}

export function pcapngBlocks(records: readonly CaptureRecord[], o: PcapngWriteOptions): Buffer[] {
  const le = o.littleEndian;
  const linktype = o.linktype ?? LINKTYPE_PFLOG;
  const out: Buffer[] = [ngSectionHeader(le)];
  if (o.extraInterface && !o.simple) out.push(ngInterface(1, 65535, null, le));
  out.push(ngInterface(linktype, o.snaplen ?? 0, o.tsresol, le));
  const ifid = o.extraInterface && !o.simple ? 1 : 0;
  for (const r of records) {
    if (o.simple) {
      const body = Buffer.alloc(4 + r.data.length);
      if (le) body.writeUInt32LE(r.origLen, 0);
      else body.writeUInt32BE(r.origLen, 0);
      r.data.copy(body, 4);
      out.push(ngBlock(3, body, le));
      continue;
    }
    const ticks = ngTicks(r.sec, r.usec, o.tsresol);
    const body = Buffer.alloc(20 + r.data.length);
    const u32 = (v: number, off: number) => (le ? body.writeUInt32LE(v >>> 0, off) : body.writeUInt32BE(v >>> 0, off));
    u32(ifid, 0);
    u32(Number(ticks >> 32n), 4);
    u32(Number(ticks & 0xffffffffn), 8);
    u32(r.data.length, 12);
    u32(r.origLen, 16);
    r.data.copy(body, 20);
    out.push(ngBlock(6, body, le));
  }
  return out;
}

export function writePcapng(records: readonly CaptureRecord[], o: PcapngWriteOptions): Buffer {
  return Buffer.concat(pcapngBlocks(records, o));
}

// ---------------------------------------------------------------------------
// Packets.

/**
 * How much of tcpdump's line the differential test compares for a packet
 * (test/integration/decoder-differential.test.ts documents why for each):
 *  - full: the whole line;
 *  - through-length: TCP whose length is not 0, up to and including
 *    ", length N" (tcpdump goes on to decode the application data);
 *  - udp: the whole line when tcpdump's UDP printer ended it itself
 *    ("UDP, length N" and the like), else up to "SRC.PORT > DST.PORT:";
 *  - addresses: up to and including "SRC[.PORT] > DST[.PORT]:" (what the
 *    contract gives a one-line summary only).
 */
export type CompareScope = 'full' | 'through-length' | 'udp' | 'addresses';

export interface GenPacket {
  /** captured link-layer bytes: pflog header, then the IP packet */
  data: Buffer;
  /** length on the wire */
  origLen: number;
  /** for the test's summary, e.g. "ip4/tcp", "ip6/ext/icmp6-echo" */
  category: string;
  scope: CompareScope;
}

export interface GenOptions {
  /** byte order of the capturing host (pflog's uid/pid are in host order) */
  hostLittleEndian: boolean;
  /** force a pflog header length */
  pflogLength?: number;
  /**
   * Only packets tcpdump prints on one line: no unknown address families
   * (tcpdump hex-dumps those). Off for the fuzz.
   */
  oneLine?: boolean;
}

const IFNAMES = ['pflog0', 'vtnet0', 'em0', 'igb1', 'lo0', 'bridge0', 'wg0', 'tun0', 'ix0.100', 'epair0b', 'ovpns1', 'x'];
const ANCHORS = ['anchor', 'scanners/web', 'a/b/c', 'sshguard', 'f2b', 'relayd/rdr', 'miniupnpd', 'x'];

function cString(rng: Rng, size: number, names: readonly string[]): Buffer {
  const out = Buffer.alloc(size);
  const kind = rng.weighted([[8, 'name'], [1, 'odd'], [1, 'full']] as const);
  if (kind === 'name') Buffer.from(rng.pick(names), 'latin1').copy(out);
  else if (kind === 'odd') {
    // control characters, DEL, high-bit bytes; NUL-terminated inside the field
    const n = rng.range(1, size - 1);
    for (let i = 0; i < n; i++) out[i] = rng.weighted([[3, rng.range(0x20, 0x7e)], [2, rng.range(1, 0x1f)], [1, 0x7f], [3, rng.range(0x80, 0xff)]] as const);
  } else {
    // all bytes used, no NUL at all
    for (let i = 0; i < size; i++) out[i] = rng.weighted([[4, rng.range(0x21, 0x7e)], [1, rng.range(1, 0xff)]] as const);
  }
  return out;
}

function pflogHeaderBytes(rng: Rng, length: number, af: number, le: boolean): Buffer {
  // built at full size, then cut to the length byte (rounded up to 4) so the
  // fuzz can use any length byte
  const b = Buffer.alloc(Math.max(100, (length + 3) & ~3));
  b[0] = length;
  b[1] = af;
  b[2] = rng.weighted([[6, rng.range(0, 2)], [4, rng.range(0, 15)], [1, rng.range(16, 255)]] as const);
  b[3] = rng.weighted([[6, rng.range(0, 4)], [4, rng.range(0, 17)], [1, rng.range(18, 255)]] as const);
  cString(rng, 16, IFNAMES).copy(b, 4);
  const anchored = rng.chance(0.3);
  if (anchored) cString(rng, 16, ANCHORS).copy(b, 20);
  b.writeUInt32BE(rng.weighted([[6, rng.range(0, 200)], [2, rng.u32()], [1, 0xffffffff]] as const), 36);
  b.writeUInt32BE(anchored ? rng.weighted([[3, rng.range(0, 50)], [1, rng.u32()]] as const) : rng.chance(0.9) ? 0xffffffff : rng.u32(), 40);
  const host32 = (v: number, off: number) => (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  host32(rng.chance(0.6) ? 0xffffffff : rng.weighted([[3, rng.range(0, 2000)], [1, rng.u32()]] as const), 44); // uid
  host32(rng.chance(0.6) ? 0xffffffff : rng.range(0, 99999), 48); // pid
  host32(rng.chance(0.8) ? 0xffffffff : rng.range(0, 2000), 52); // rule uid
  host32(rng.chance(0.8) ? 0xffffffff : rng.range(0, 99999), 56); // rule pid
  b[60] = rng.weighted([[8, rng.range(0, 2)], [1, 3], [1, rng.range(4, 255)]] as const);
  if (length >= 68) b.writeUInt32BE(rng.chance(0.5) ? 0 : rng.weighted([[2, rng.range(1, 1000)], [1, rng.u32()]] as const), 64);
  if (length >= 100) rng.bytes(100 - 68).copy(b, 68); // OpenBSD: rewritten addresses and ports
  return b.subarray(0, (length + 3) & ~3);
}

function randomIpv4(rng: Rng): Buffer {
  const b = rng.bytes(4);
  if (rng.chance(0.3)) b[0] = rng.pick([10, 192, 172, 203, 198, 0, 127, 224, 255]);
  return b;
}

function randomIpv6(rng: Rng): Buffer {
  const b = Buffer.alloc(16);
  switch (rng.int(7)) {
    case 0: // 2001:db8::x, a long zero run
      b.writeUInt32BE(0x20010db8, 0);
      b.writeUInt16BE(rng.u32() & 0xffff, 14);
      break;
    case 1: // ::a.b.c.d
      rng.bytes(4).copy(b, 12);
      break;
    case 2: // ::ffff:a.b.c.d
      b.writeUInt16BE(0xffff, 10);
      rng.bytes(4).copy(b, 12);
      break;
    case 3: // words that are each zero with probability 1/2 (runs of every length)
      for (let i = 0; i < 8; i++) if (rng.chance(0.5)) b.writeUInt16BE(rng.u32() & 0xffff || 1, 2 * i);
      break;
    case 4: // :: or ::1 or fe80::/64 link-local
      if (rng.chance(0.5)) b[15] = rng.int(2);
      else {
        b.writeUInt16BE(0xfe80, 0);
        rng.bytes(8).copy(b, 8);
      }
      break;
    default:
      rng.bytes(16).copy(b);
  }
  return b;
}

const COMMON_FLAGS = [0x02, 0x12, 0x10, 0x18, 0x11, 0x19, 0x04, 0x14, 0x01, 0x00, 0xc2, 0x29, 0x3f, 0x20, 0x30];

/** TCP options the contract lists, plus kinds tcpdump prints generically (unknown-N 0x..). */
function tcpOptionBytes(rng: Rng, allowExotic: boolean): Buffer {
  const parts: Buffer[] = [];
  const n = rng.range(1, 6);
  for (let i = 0; i < n; i++) {
    const k = rng.weighted([
      [4, 'mss'], [5, 'nop'], [1, 'eol'], [3, 'wscale'], [3, 'sackOK'], [2, 'sack'], [4, 'TS'],
      [1, 'unknown'], [1, 'badlen'], [allowExotic ? 1 : 0, 'exotic'],
    ] as const);
    switch (k) {
      case 'mss':
        parts.push(Buffer.from([2, 4, rng.u32() & 0xff, rng.u32() & 0xff]));
        break;
      case 'nop':
        parts.push(Buffer.from([1]));
        break;
      case 'eol':
        parts.push(Buffer.from([0]));
        break;
      case 'wscale':
        parts.push(Buffer.from([3, 3, rng.int(16)]));
        break;
      case 'sackOK':
        parts.push(Buffer.from([4, 2]));
        break;
      case 'sack': {
        const blocks = rng.range(1, 4);
        const odd = rng.chance(0.15) ? rng.range(1, 7) : 0; // "invalid sack"
        const o = Buffer.concat([Buffer.from([5, 2 + blocks * 8 + odd]), rng.bytes(blocks * 8 + odd)]);
        parts.push(o);
        break;
      }
      case 'TS':
        parts.push(Buffer.concat([Buffer.from([8, 10]), rng.bytes(8)]));
        break;
      case 'unknown': {
        // kinds tcpdump has no name for (and echo/echoreply/cc/ccnew, which it prints like ours)
        const kind = rng.pick([6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 18, 21, 22, 23, 24, 25, 26, 27, 31, 32, 33, 35, 69, 76, 200, 253]);
        const len = rng.pick([2, 3, 4, 6, 10]);
        parts.push(Buffer.concat([Buffer.from([kind, len]), rng.bytes(len - 2)]));
        break;
      }
      case 'badlen': {
        // a length byte that disagrees with the kind: [len N], [bad opt]
        const kind = rng.pick([2, 3, 4, 8, 6, 5]);
        const len = rng.pick([0, 1, 2, 3, 5, 6, 12, 40]);
        parts.push(Buffer.concat([Buffer.from([kind, len]), rng.bytes(rng.range(0, 10))]));
        break;
      }
      case 'exotic': {
        // options tcpdump decodes in its own way (md5, scps, uto, tcp-ao, mptcp, tfo, exp, ccecho)
        const kind = rng.pick([...EXOTIC_TCP_OPTIONS]);
        const len = rng.pick([2, 4, 6, 10, 12, 18, 20]);
        parts.push(Buffer.concat([Buffer.from([kind, len]), rng.bytes(len - 2)]));
        break;
      }
    }
  }
  let bytes = Buffer.concat(parts);
  if (bytes.length > 40) bytes = bytes.subarray(0, 40);
  // pad to 4 with EOL or NOP
  const pad = (4 - (bytes.length % 4)) % 4;
  bytes = Buffer.concat([bytes, Buffer.alloc(pad, rng.chance(0.5) ? 0 : 1)]);
  return bytes;
}

/** Option kinds tcpdump decodes in its own way (md5, scps, uto, tcp-ao, mptcp, tfo, exp, kind 13). */
const EXOTIC_TCP_OPTIONS = new Set([13, 19, 20, 28, 29, 30, 34, 254]);

/**
 * Walks TCP option bytes as tcpdump does and says whether it meets a kind it
 * decodes in its own way (random bytes after a bad length byte can be read as
 * options too).
 */
function walkFindsExotic(b: Buffer, optionLength: number): boolean {
  let left = optionLength;
  let cp = 0;
  while (left > 0 && cp < b.length) {
    const kind = b[cp++]!;
    let len = 1;
    if (kind > 1) {
      if (cp >= b.length) return false;
      len = b[cp++]!;
      if (len < 2 || len > left) return false;
      left--;
    }
    left--;
    if (EXOTIC_TCP_OPTIONS.has(kind)) return true;
    const datalen = kind <= 1 || kind === 4 ? 0 : kind === 2 ? 2 : kind === 3 ? 1 : kind === 8 ? 8 : [6, 7, 11, 12].includes(kind) ? 4 : len - 2;
    if (datalen > left) return false;
    cp += datalen;
    left -= datalen;
    if (kind === 0) return false;
  }
  return false;
}

interface TransportBuild {
  bytes: Buffer;
  category: string;
  scope: CompareScope;
}

function tcpSegment(rng: Rng, allowExotic: boolean): TransportBuild {
  let opts: Buffer = Buffer.alloc(0);
  if (rng.chance(0.6)) opts = tcpOptionBytes(rng, allowExotic);
  const payload = rng.chance(0.3) ? rng.bytes(rng.weighted([[5, rng.range(1, 40)], [1, rng.range(41, 600)]] as const)) : Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(rng.weighted([[3, rng.range(1024, 65535)], [1, rng.u32() & 0xffff]] as const), 0);
  // Ports whose application printers tcpdump runs only matter with a payload;
  // through-length comparison stops before them.
  h.writeUInt16BE(rng.weighted([[3, rng.pick([22, 25, 80, 443, 3389, 8080, 5900, 445, 23])], [2, rng.u32() & 0xffff]] as const), 2);
  h.writeUInt32BE(rng.u32(), 4);
  h.writeUInt32BE(rng.chance(0.3) ? 0 : rng.u32(), 8);
  let off = h.length / 4;
  let category = 'tcp';
  const oddOffset = rng.chance(0.06);
  if (oddOffset) {
    // data offset too small (< 5) or larger than the segment
    off = rng.chance(0.5) ? rng.range(0, 4) : rng.range(off + 1, 15);
    category = 'tcp-bad-offset';
  }
  h[12] = (off << 4) | (rng.chance(0.05) ? rng.int(16) : 0);
  h[13] = rng.chance(0.7) ? rng.pick(COMMON_FLAGS) : rng.u32() & 0xff;
  h.writeUInt16BE(rng.u32() & 0xffff, 14);
  h.writeUInt16BE(h[13]! & 0x20 || rng.chance(0.1) ? rng.u32() & 0xffff : 0, 18);
  opts.copy(h, 20);
  if (opts.length > 0 && !oddOffset) category = 'tcp-options';
  const segment = Buffer.concat([h, payload]);
  // (a data offset past the segment still counts: a damaged IP length can make tcpdump read there)
  const exotic = off * 4 > 20 && walkFindsExotic(segment.subarray(20, off * 4), off * 4 - 20);
  let scope: CompareScope = 'full';
  if (exotic) {
    category = 'tcp-exotic-option';
    scope = 'addresses';
  } else if (payload.length > 0) {
    category += '+payload';
    scope = 'through-length';
  }
  return { bytes: segment, category, scope };
}

function udpDatagram(rng: Rng): TransportBuild {
  const payload = rng.bytes(rng.weighted([[3, rng.range(0, 64)], [1, rng.range(65, 400)]] as const));
  const h = Buffer.alloc(8);
  h.writeUInt16BE(rng.u32() & 0xffff, 0);
  h.writeUInt16BE(rng.weighted([[4, rng.range(1024, 65535)], [1, rng.pick([53, 123, 161, 500, 514, 1900, 5353, 4500])], [1, rng.u32() & 0xffff]] as const), 2);
  let ulen = 8 + payload.length;
  let category = 'udp';
  if (rng.chance(0.08)) {
    // a UDP length that disagrees with the IP length
    ulen = rng.pick([0, 1, 7, ulen - 1, ulen + 1, ulen + 100, 65535]) & 0xffff;
    category = 'udp-odd-length';
  }
  h.writeUInt16BE(ulen, 4);
  return { bytes: Buffer.concat([h, payload]), category, scope: 'udp' };
}

/** An IPv4 header + 8 bytes, as quoted by ICMP errors. */
function quotedIpv4(rng: Rng): Buffer {
  const ihl = rng.chance(0.9) ? 5 : rng.range(6, 8);
  const h = Buffer.alloc(ihl * 4 + 8);
  h[0] = 0x40 | ihl;
  h.writeUInt16BE(rng.range(28, 1500), 2);
  h[8] = rng.range(1, 64);
  h[9] = rng.weighted([[3, 6], [3, 17], [1, 1], [1, rng.int(256)]] as const);
  randomIpv4(rng).copy(h, 12);
  randomIpv4(rng).copy(h, 16);
  rng.bytes(8).copy(h, ihl * 4);
  return h;
}

function icmpMessage(rng: Rng): TransportBuild {
  const kind = rng.weighted([[4, 'echo'], [4, 'unreach'], [2, 'timxceed'], [1, 'other']] as const);
  const h = Buffer.alloc(8);
  let body: Buffer = Buffer.alloc(0);
  let category = `icmp-${kind}`;
  let scope: CompareScope = 'full';
  switch (kind) {
    case 'echo':
      h[0] = rng.pick([0, 8]);
      h[1] = rng.chance(0.9) ? 0 : rng.int(256);
      h.writeUInt16BE(rng.u32() & 0xffff, 4);
      h.writeUInt16BE(rng.u32() & 0xffff, 6);
      body = rng.bytes(rng.pick([0, 8, 56, 100]));
      break;
    case 'unreach':
      h[0] = 3;
      h[1] = rng.weighted([[4, 3], [2, 4], [4, rng.range(0, 15)], [1, rng.range(16, 255)]] as const);
      if (h[1] === 4 && rng.chance(0.7)) h.writeUInt16BE(rng.pick([1280, 1400, 1500, 576, rng.u32() & 0xffff]), 6);
      body = quotedIpv4(rng);
      break;
    case 'timxceed':
      h[0] = 11;
      h[1] = rng.weighted([[3, 0], [2, 1], [1, rng.range(2, 255)]] as const);
      body = quotedIpv4(rng);
      break;
    case 'other':
      // redirect, source quench, timestamps, router ads...: tcpdump decodes
      // each in its own way; the contract gives them a summary only.
      h[0] = rng.pick([4, 5, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 30, 40, 200]);
      h[1] = rng.int(4);
      body = rng.bytes(rng.pick([0, 4, 8, 20, 28, 36]));
      scope = 'addresses';
      category = 'icmp-other';
      break;
  }
  return { bytes: Buffer.concat([h, body]), category, scope };
}

function icmp6Message(rng: Rng): TransportBuild {
  const h = Buffer.alloc(8);
  if (rng.chance(0.7)) {
    h[0] = rng.pick([128, 129]);
    h[1] = rng.chance(0.9) ? 0 : rng.int(256);
    h.writeUInt16BE(rng.u32() & 0xffff, 4);
    h.writeUInt16BE(rng.u32() & 0xffff, 6);
    return { bytes: Buffer.concat([h, rng.bytes(rng.pick([0, 8, 56]))]), category: 'icmp6-echo', scope: 'full' };
  }
  // Neighbour discovery, MLD, errors...: tcpdump decodes them in detail.
  h[0] = rng.pick([1, 2, 3, 4, 130, 131, 132, 133, 134, 135, 136, 137, 143, 200]);
  h[1] = rng.int(8);
  return { bytes: Buffer.concat([h, rng.bytes(rng.pick([0, 8, 16, 24, 40, 48]))]), category: 'icmp6-other', scope: 'addresses' };
}

/**
 * Protocols outside TCP/UDP/ICMP: a one-line summary, compared up to
 * "SRC > DST:". SCTP (132) and DCCP (33) are left out: tcpdump prints ports
 * for those in the address part, and nothing (only [|sctp]) when they are
 * short, which the contract's summary does not cover.
 */
function otherTransport(rng: Rng, family: 4 | 6): { proto: number; t: TransportBuild } {
  const v4 = [2, 4, 41, 47, 50, 51, 89, 103, 112, 115, 137, 253, 254, 0, 3, 8, 9, 20, 94, 108];
  const v6 = [4, 41, 47, 50, 51, 59, 89, 103, 112, 115, 137, 253, 254, 3, 8, 20];
  const proto = rng.pick(family === 4 ? v4 : v6);
  return { proto, t: { bytes: rng.bytes(rng.pick([0, 4, 8, 16, 24, 40, 64])), category: 'other-proto', scope: 'addresses' } };
}

function transportFor(rng: Rng, family: 4 | 6, allowExotic: boolean): { proto: number; t: TransportBuild } {
  const k = rng.weighted([[10, 'tcp'], [4, 'udp'], [4, 'icmp'], [2, 'other']] as const);
  if (k === 'tcp') return { proto: 6, t: tcpSegment(rng, allowExotic) };
  if (k === 'udp') return { proto: 17, t: udpDatagram(rng) };
  if (k === 'icmp') return family === 4 ? { proto: 1, t: icmpMessage(rng) } : { proto: 58, t: icmp6Message(rng) };
  return otherTransport(rng, family);
}

function ipv4Options(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    switch (rng.int(5)) {
      case 0:
        parts.push(Buffer.from([1]));
        break;
      case 1: // record route
        parts.push(Buffer.concat([Buffer.from([7, 11, 4]), rng.bytes(8)]));
        break;
      case 2: // router alert
        parts.push(Buffer.from([0x94, 4, 0, 0]));
        break;
      case 3: // timestamp
        parts.push(Buffer.concat([Buffer.from([0x44, 12, 5, 0]), rng.bytes(8)]));
        break;
      default: // random bytes
        parts.push(rng.bytes(rng.range(1, 8)));
    }
  }
  let o = Buffer.concat(parts);
  if (o.length > 40) o = o.subarray(0, 40);
  return Buffer.concat([o, Buffer.alloc((4 - (o.length % 4)) % 4)]);
}

function ipv4Packet(rng: Rng, allowExotic: boolean): { ip: Buffer; category: string; scope: CompareScope } {
  let { proto, t } = transportFor(rng, 4, allowExotic);
  const opts = rng.chance(0.1) ? ipv4Options(rng) : Buffer.alloc(0);
  const hl = 20 + opts.length;
  const h = Buffer.alloc(hl);
  h[0] = 0x40 | (hl / 4);
  h[1] = rng.chance(0.8) ? 0 : rng.int(256);
  h.writeUInt16BE(rng.u32() & 0xffff, 4);
  let category = `ip4/${t.category}`;
  let scope = t.scope;
  const frag = rng.weighted([[20, 'df'], [3, 'none'], [2, 'first'], [2, 'later']] as const);
  let flagsFrag = frag === 'df' ? 0x4000 : frag === 'first' ? 0x2000 : frag === 'later' ? (rng.chance(0.5) ? 0x2000 : 0) | rng.range(1, 0x1fff) : 0;
  if (rng.chance(0.02)) flagsFrag |= 0x8000; // the reserved ("evil") bit
  h.writeUInt16BE(flagsFrag, 6);
  if (frag === 'later') {
    // no transport header in a later fragment: tcpdump prints "ip-proto-N"
    t = { bytes: rng.bytes(rng.pick([0, 8, 24, 100])), category: 'later-fragment', scope: 'full' };
    category = `ip4/later-fragment/${proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'other'}`;
    scope = 'full';
  } else if (frag === 'first') category = `ip4/first-fragment/${t.category}`;
  if (opts.length > 0) category = category.replace('ip4/', 'ip4/options/');
  h[8] = rng.range(1, 255);
  h[9] = proto;
  randomIpv4(rng).copy(h, 12);
  randomIpv4(rng).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(hl + t.bytes.length, 2);
  return { ip: Buffer.concat([h, t.bytes]), category, scope };
}

function ipv6Packet(rng: Rng, allowExotic: boolean): { ip: Buffer; category: string; scope: CompareScope } {
  let { proto, t } = transportFor(rng, 6, allowExotic);
  const exts: Buffer[] = [];
  const names: string[] = [];
  let laterFragment = false;
  if (rng.chance(0.25)) {
    const chain: number[] = [];
    if (rng.chance(0.5)) chain.push(0);
    if (rng.chance(0.4)) chain.push(60);
    if (rng.chance(0.4)) chain.push(43);
    if (rng.chance(0.5)) chain.push(44);
    if (rng.chance(0.2)) chain.push(60);
    if (chain.length === 0) chain.push(rng.pick([0, 43, 44, 60]));
    for (const type of chain) {
      if (type === 44) {
        const f = Buffer.alloc(8);
        const offset = rng.chance(0.6) ? 0 : rng.range(1, 0x1fff);
        f.writeUInt16BE((offset << 3) | (rng.chance(0.7) ? 1 : 0), 2);
        f.writeUInt32BE(rng.u32(), 4);
        exts.push(f);
        names.push('frag');
        if (offset !== 0) {
          laterFragment = true;
          break;
        }
      } else if (type === 43) {
        // Types 0 and 2 list addresses, 4 is segment routing (tcpdump prints
        // their fields); others, and an odd length, tcpdump calls invalid.
        const rtype = rng.weighted([[3, 0], [2, 2], [1, 3], [2, 4], [1, rng.range(5, 255)]] as const);
        const naddr = rtype === 2 ? 1 : rng.range(0, 3);
        const x = Buffer.alloc(8 + naddr * 16);
        x[1] = naddr * 2;
        if (rng.chance(0.05)) x[1] = naddr * 2 + 1; // odd: "(invalid length N)"
        if (rtype === 4) {
          x[4] = rng.chance(0.8) ? Math.max(0, naddr - 1) : rng.int(256); // last entry
          x[5] = rng.chance(0.7) ? 0 : rng.int(256); // flags
          x.writeUInt16BE(rng.chance(0.5) ? 0 : rng.u32() & 0xffff, 6); // tag
        }
        x[2] = rtype;
        x[3] = rng.range(0, naddr);
        for (let i = 0; i < naddr; i++) randomIpv6(rng).copy(x, 8 + 16 * i);
        exts.push(x);
        names.push(`rt${rtype}`);
      } else {
        // hop-by-hop / destination options: PadN, or Pad1s, or a random option
        const len8 = rng.chance(0.8) ? 0 : rng.range(1, 2);
        const x = Buffer.alloc(8 + len8 * 8);
        x[1] = len8;
        if (rng.chance(0.5)) {
          x[2] = 1;
          x[3] = x.length - 4;
        }
        exts.push(x);
        names.push(type === 0 ? 'hbh' : 'dstopt');
      }
    }
    const chainTypes = names.map((n) => (n === 'frag' ? 44 : n === 'hbh' ? 0 : n === 'dstopt' ? 60 : 43));
    for (let i = 0; i < exts.length; i++) exts[i]![0] = i + 1 < exts.length ? chainTypes[i + 1]! : proto;
    if (laterFragment) t = { bytes: rng.bytes(rng.pick([0, 8, 24])), category: 'later-fragment', scope: 'full' };
  }
  const rest = Buffer.concat([...exts, t.bytes]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE((0x60000000 | (rng.chance(0.5) ? 0 : rng.u32() & 0x0fffffff)) >>> 0, 0);
  h.writeUInt16BE(rest.length, 4);
  h[6] = exts.length > 0 ? (names[0] === 'frag' ? 44 : names[0] === 'hbh' ? 0 : names[0] === 'dstopt' ? 60 : 43) : proto;
  h[7] = rng.range(1, 255);
  randomIpv6(rng).copy(h, 8);
  randomIpv6(rng).copy(h, 24);
  const category = exts.length > 0 ? `ip6/ext/${t.category}` : `ip6/${t.category}`;
  return { ip: Buffer.concat([h, rest]), category, scope: t.scope };
}

/**
 * One random pflog frame. The IP packet is well-formed apart from the
 * variants it is meant to cover (truncated total length, snaplen cut, bad
 * lengths); the category says which.
 */
export function randomPacket(rng: Rng, o: GenOptions): GenPacket {
  const length = o.pflogLength ?? rng.pick([61, 69, 100]);
  const v6 = rng.chance(0.35);
  let af = v6 ? rng.pick([24, 28, 30]) : 2;
  const afVariant = rng.weighted([[97, 'right'], [2, 'mismatch'], [o.oneLine ? 0 : 1, 'unknown']] as const);
  // the other family's number: "IP6, wrong link-layer encapsulation", "version error: 4 != 6"
  if (afVariant === 'mismatch') af = v6 ? 2 : rng.pick([24, 28, 30]);
  // a family pf does not log: tcpdump hex-dumps the packet over several lines
  else if (afVariant === 'unknown') af = rng.pick([0, 1, 10, 17, 23, 255]);
  const hdr = pflogHeaderBytes(rng, length, af, o.hostLittleEndian);
  const built = v6 ? ipv6Packet(rng, true) : ipv4Packet(rng, true);
  let ip = built.ip;
  let category = built.category;
  let scope = built.scope;
  if (afVariant !== 'right') {
    category = `af-${afVariant}`;
    scope = 'full';
  }
  let origLen = hdr.length + ip.length;
  const damage = rng.weighted([[30, 'none'], [1, 'ip-len-long'], [1, 'ip-len-short'], [1, 'snaplen'], [1, 'bad-len']] as const);
  if (damage === 'ip-len-long') {
    // total length says more than was on the wire ("truncated-ip")
    ip = Buffer.from(ip);
    const extra = rng.range(1, 200);
    if (v6) ip.writeUInt16BE(Math.min(0xffff, ip.readUInt16BE(4) + extra), 4);
    else ip.writeUInt16BE(Math.min(0xffff, ip.readUInt16BE(2) + extra), 2);
    category = `${category.split('/')[0]}/truncated-ip`;
    // TCP's length now counts bytes that are not there, and tcpdump decodes
    // the application over them: compare TCP through ", length N".
    if (scope === 'full' && /tcp/.test(built.category) && !/later-fragment/.test(built.category)) scope = 'through-length';
  } else if (damage === 'ip-len-short' && !v6) {
    // total length shorter than the packet: trailing bytes are not IP's
    ip = Buffer.from(ip);
    const cut = rng.range(1, Math.max(1, ip.length - 20));
    ip.writeUInt16BE(ip.length - cut, 2);
    category = 'ip4/trailing-bytes';
  } else if (damage === 'bad-len' && !v6) {
    ip = Buffer.from(ip);
    ip.writeUInt16BE(rng.range(0, (ip[0]! & 0x0f) * 4 - 1), 2);
    category = 'ip4/bad-len';
    scope = 'full';
  } else if (damage === 'snaplen') {
    // the capture stopped short of the packet (pflogd's snaplen)
    const keep = rng.range(v6 ? 40 : 20, Math.max(v6 ? 40 : 20, ip.length - 1));
    ip = ip.subarray(0, keep);
    category = `${category.split('/')[0]}/snaplen-cut`;
  }
  return { data: Buffer.concat([hdr, ip]), origLen: origLen, category, scope };
}

// ---------------------------------------------------------------------------
// Fuzz inputs: random frames, then damage.

/** A frame for the fuzz: a random packet, possibly mutated, or random bytes. */
export function fuzzFrame(rng: Rng, hostLittleEndian: boolean): { data: Buffer; origLen: number } {
  const mode = rng.weighted([[3, 'clean'], [8, 'mutated'], [2, 'random'], [2, 'truncated'], [1, 'pflog-random']] as const);
  if (mode === 'random') {
    const data = rng.bytes(rng.weighted([[4, rng.range(0, 128)], [1, rng.range(129, 1600)]] as const));
    if (data.length > 0 && rng.chance(0.5)) data[0] = rng.pick([61, 69, 100, 45, 44, 255]);
    return { data, origLen: data.length + (rng.chance(0.2) ? rng.range(0, 100000) : 0) };
  }
  const p = randomPacket(rng, { hostLittleEndian, ...(rng.chance(0.1) ? { pflogLength: rng.int(256) } : {}) });
  let data = p.data;
  if (mode === 'pflog-random') {
    // a valid pflog header in front of random bytes, any address family
    data = Buffer.concat([data.subarray(0, (data[0]! + 3) & ~3), rng.bytes(rng.range(0, 200))]);
    if (data.length > 1) data[1] = rng.pick([0, 1, 2, 24, 28, 30, 10, 255]);
  } else if (mode === 'mutated') data = mutate(rng, data);
  else if (mode === 'truncated') data = data.subarray(0, rng.int(data.length + 1));
  return { data, origLen: Math.max(data.length, p.origLen + (rng.chance(0.1) ? rng.range(-50, 50) : 0)) };
}

/** Where the layers of a pflog frame start, to aim mutations at headers. */
function layerOffsets(b: Buffer): number[] {
  const out = [0];
  if (b.length < 1) return out;
  const ip = (b[0]! + 3) & ~3;
  if (ip >= b.length) return out;
  out.push(ip);
  const v = b[ip]! >> 4;
  if (v === 4) out.push(ip + (b[ip]! & 0x0f) * 4);
  else if (v === 6) out.push(ip + 40);
  return out;
}

/** Damages a copy of `src`: bit flips, byte sets, interesting values, inserts, deletes, truncation. */
export function mutate(rng: Rng, src: Buffer): Buffer {
  let b = Buffer.from(src);
  const layers = layerOffsets(b);
  const n = rng.weighted([[6, 1], [3, 2], [2, rng.range(3, 8)]] as const);
  for (let i = 0; i < n; i++) {
    if (b.length === 0) break;
    // aim at a header: pflog, IP, or transport, first 64 bytes of it
    const base = rng.chance(0.8) ? rng.pick(layers) : 0;
    const span = rng.chance(0.8) ? Math.min(64, Math.max(1, b.length - base)) : b.length;
    const at = Math.min(b.length - 1, base + rng.int(span));
    switch (rng.int(8)) {
      case 0:
        b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        b[at] = rng.int(256);
        break;
      case 2:
        b[at] = rng.pick([0, 1, 2, 4, 5, 6, 0x0f, 0x10, 0x40, 0x45, 0x46, 0x4f, 0x60, 0x7f, 0x80, 0xff, 17, 44, 58, 60, 43]);
        break;
      case 3:
        if (at + 1 < b.length) b.writeUInt16BE(rng.pick([0, 1, 7, 8, 19, 20, 39, 40, 0x7fff, 0x8000, 0xffff]), at);
        break;
      case 4:
        if (at + 3 < b.length) b.writeUInt32BE(rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, rng.u32()]), at);
        break;
      case 5:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at)]);
        break;
      case 6:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 8)))]);
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

// ---------------------------------------------------------------------------
// The fuzz harness, shared by test/unit/decoder-fuzz.test.ts (CI) and
// test/fuzz/run.ts (npm run fuzz).

export interface FuzzReport {
  seed: number;
  records: number;
  lines: number;
  corruptInjected: number;
  corruptReported: number;
  splitChecks: number;
  pcapngChecks: number;
  millis: number;
  /** time spent decoding each round's capture once, whole (the decoder's own speed) */
  decodeMillis: number;
  /** the slowest single push of one capture, in ms */
  slowestPushMs: number;
  /** heap in use after a full collection once `heapAfterRecords` records were done, and at the end (bytes; 0: not measured) */
  heapWarm: number;
  heapEnd: number;
}

/** A full garbage collection: global.gc under --expose-gc, else V8's gc exposed now. */
export function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose_gc');
  return vm.runInNewContext('gc') as () => void;
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export class FuzzFailure extends Error {
  constructor(
    message: string,
    readonly seed: number,
    readonly round: number,
  ) {
    super(`${message} (FUZZ_SEED=${seed}, round ${round})`);
  }
}

/** Bytes of a text chunk that are not printable ASCII or the newline. */
function checkPrintable(out: Buffer, fail: (m: string) => never): void {
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (c === 0x0a) continue;
    if (c < 0x20 || c > 0x7e) {
      const start = out.lastIndexOf(0x0a, i) + 1;
      fail(`non-printable byte 0x${c.toString(16)} in line: ${JSON.stringify(out.subarray(start, Math.min(out.length, i + 40)).toString('latin1'))}`);
    }
  }
}

interface DecodeResult {
  out: Buffer;
  corrupt: number;
  warnings: string[];
  frames: number;
  fatal: string | null;
  ms: number;
}

function decodeAll(chunks: readonly Buffer[], format: 'text' | 'json'): DecodeResult {
  const warnings: string[] = [];
  const pl = new PacketLines(format, (m) => warnings.push(m));
  const parts: Buffer[] = [];
  const t0 = performance.now();
  for (const c of chunks) {
    const o = pl.push(c);
    if (o) parts.push(o);
  }
  const e = pl.end();
  if (e) parts.push(e);
  return { out: Buffer.concat(parts), corrupt: pl.stats.corrupt, warnings, frames: pl.stats.frames, fatal: pl.fatal, ms: performance.now() - t0 };
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) n++;
  return n;
}

/** Splits `b` at random points into 1..8 chunks (some of a single byte). */
export function randomChunks(rng: Rng, b: Buffer): Buffer[] {
  const cuts = new Set<number>();
  const n = rng.range(1, 8);
  for (let i = 0; i < n; i++) cuts.add(rng.chance(0.2) ? rng.int(40) : rng.int(b.length + 1));
  const sorted = [...cuts].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(b.subarray(prev, c));
    prev = c;
  }
  out.push(b.subarray(prev));
  return out;
}

/** Lines without their "<stamp> " prefix. */
function unstamped(b: Buffer): string[] {
  const lines = b.toString('latin1').split('\n');
  lines.pop();
  return lines.map((l) => l.slice(l.indexOf(' ') + 1));
}

/**
 * Runs at least `minRecords` fuzz records in rounds of ~200-record captures.
 * Each round checks: nothing throws, one printable line per record; the same
 * bytes split into random chunks give the same output; one round in four
 * also injects corrupt record headers (the decoder must count them and decode
 * every later good record) and re-encodes the frames as pcapng (same lines).
 */
export function runFuzz(seed: number, minRecords: number, progress?: (r: FuzzReport) => void, heap?: { gc: () => void; afterRecords: number }): FuzzReport {
  const rng = new Rng(seed);
  const report: FuzzReport = {
    seed,
    records: 0,
    lines: 0,
    corruptInjected: 0,
    corruptReported: 0,
    splitChecks: 0,
    pcapngChecks: 0,
    millis: 0,
    decodeMillis: 0,
    slowestPushMs: 0,
    heapWarm: 0,
    heapEnd: 0,
  };
  const t0 = performance.now();
  let round = 0;
  let lastProgress = t0;
  while (report.records < minRecords) {
    round++;
    const fail = (m: string): never => {
      throw new FuzzFailure(m, seed, round);
    };
    const le = rng.chance(0.5);
    const nano = rng.chance(0.3);
    const n = rng.range(50, 350);
    // Rounds that inject corrupt record headers use present-day stamps: the
    // resynchroniser trusts a candidate header within a day of the last good
    // stamp, and near the epoch a run of zero bytes is exactly that.
    const corruptRound = round % 4 === 0;
    const sec0 = corruptRound
      ? rng.range(1500000000, 1900000000)
      : rng.weighted([[6, rng.range(1500000000, 1900000000)], [1, rng.range(0, 100000)], [1, rng.range(4000000000, 4294000000)]] as const);
    const records: CaptureRecord[] = [];
    for (let i = 0; i < n; i++) {
      const f = fuzzFrame(rng, le);
      records.push({ data: f.data, origLen: f.origLen, sec: sec0 + Math.floor(i / 10), usec: rng.int(1000000) });
    }
    const opts: PcapWriteOptions = { littleEndian: le, nanosecond: nano, snaplen: rng.pick([262144, 65535, 96, 0]) };
    const format = rng.chance(0.1) ? 'json' : 'text';
    const file = writePcap(records, opts);

    let whole: DecodeResult;
    try {
      whole = decodeAll([file], format);
    } catch (e) {
      return fail(`decoder threw: ${(e as Error).stack}`);
    }
    report.slowestPushMs = Math.max(report.slowestPushMs, whole.ms);
    report.decodeMillis += whole.ms;
    if (whole.fatal !== null) fail(`fatal: ${whole.fatal}`);
    if (whole.corrupt !== 0) fail(`${whole.corrupt} corrupt records reported in a clean capture: ${whole.warnings.join('; ')}`);
    const nl = countLines(whole.out);
    if (nl !== n || whole.frames !== n) fail(`${n} records gave ${nl} lines and ${whole.frames} frames`);
    checkPrintable(whole.out, fail);
    report.records += n;
    report.lines += nl;

    // The same bytes in random chunks: the same output.
    if (rng.chance(0.5)) {
      const split = decodeAll(randomChunks(rng, file), format);
      if (!split.out.equals(whole.out)) fail('output differs when the capture arrives in chunks');
      report.splitChecks++;
    }

    if (corruptRound) {
      // pcapng of the same frames: the same lines (stamps included for EPB).
      const simple = rng.chance(0.25);
      // A Simple Packet Block cannot say a packet was cut (its captured
      // length is min(original length, block room)): SPB gets frames whose
      // original length is their captured length, compared with a pcap of
      // the same.
      const ngRecords = simple ? records.map((x) => ({ ...x, origLen: x.data.length })) : records;
      const reference = simple ? decodeAll([writePcap(ngRecords, opts)], format) : whole;
      // (the same byte order: pflog's uid is in the capturing host's order, taken from the file's)
      const ng = writePcapng(ngRecords, { littleEndian: le, tsresol: rng.pick([null, 6, 9, 0x80 | 20, 0x80 | 30]), simple, extraInterface: rng.chance(0.3) });
      const r = decodeAll(rng.chance(0.5) ? [ng] : randomChunks(rng, ng), format);
      if (r.corrupt !== 0 || r.fatal !== null) fail(`pcapng: ${r.corrupt} corrupt, fatal ${r.fatal}: ${r.warnings.join('; ')}`);
      checkPrintable(r.out, fail);
      if (format === 'text') {
        // SPB has no timestamp: compare without stamps there.
        const same = simple ? unstamped(r.out).join('\n') === unstamped(reference.out).join('\n') : r.out.equals(reference.out);
        if (!same) fail(`pcapng (${simple ? 'SPB' : 'EPB'}) output differs from pcap output`);
      } else if (countLines(r.out) !== n) fail('pcapng json line count differs');
      report.pcapngChecks++;

      // Corrupt record headers mid-stream: counted, and every later good record decodes.
      const parts = pcapRecords(records, opts);
      const good = whole.out.toString('latin1').split('\n');
      good.pop();
      const corruptAt = new Set<number>();
      for (let i = 2 + rng.int(5); i < n - 3; i += 4 + rng.int(40)) corruptAt.add(i);
      const damaged: Buffer[] = [pcapHeader(opts)];
      const expected: string[] = [];
      for (let i = 0; i < n; i++) {
        if (corruptAt.has(i)) {
          const h = Buffer.from(parts[i]!);
          const u32 = (v: number, off: number) => (le ? h.writeUInt32LE(v >>> 0, off) : h.writeUInt32BE(v >>> 0, off));
          switch (rng.int(4)) {
            case 0: // caplen beyond any snaplen
              u32(rng.range(0x01000000, 0xffffffff), 8);
              break;
            case 1: // caplen > len
              u32(records[i]!.data.length + rng.range(1, 1000), 8);
              u32(records[i]!.data.length, 12);
              break;
            case 2: // fraction out of range
              u32(nano ? rng.range(1e9, 0xffffffff) : rng.range(1e6, 0xffffffff), 4);
              break;
            default: // garbage bytes in front of the header
              damaged.push(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), rng.bytes(rng.range(0, 40))]));
              damaged.push(h);
              expected.push(good[i]!);
              continue;
          }
          damaged.push(h);
          continue;
        }
        damaged.push(parts[i]!);
        expected.push(good[i]!);
      }
      const c = decodeAll(randomChunks(rng, Buffer.concat(damaged)), format);
      const got = c.out.toString('latin1').split('\n');
      got.pop();
      checkPrintable(c.out, fail);
      if (c.corrupt !== corruptAt.size) {
        const lost = expected.filter((l) => !got.includes(l)).length;
        const extra = got.filter((l) => !expected.includes(l));
        fail(
          `injected ${corruptAt.size} corrupt headers (records ${[...corruptAt].join(',')} of ${n}), decoder reported ${c.corrupt}; ` +
            `${lost} good records lost, ${extra.length} spurious lines${extra.length ? `, e.g. ${JSON.stringify(extra[0])}` : ''}; warnings: ${c.warnings.join(' | ')}`,
        );
      }
      if (c.warnings.length < corruptAt.size) fail('corrupt headers not reported as warnings');
      if (got.join('\n') !== expected.join('\n')) {
        const at = got.findIndex((l, i) => l !== expected[i]);
        fail(`after corrupt headers the good records do not decode the same (${got.length} lines, expected ${expected.length}; first difference at ${at}: ${JSON.stringify(got[at])} vs ${JSON.stringify(expected[at])})`);
      }
      report.corruptInjected += corruptAt.size;
      report.corruptReported += c.corrupt;
    }

    // the heap once warm (caches filled, code optimised), to compare with the end
    if (heap && report.heapWarm === 0 && report.records >= heap.afterRecords) report.heapWarm = heapAfterGc(heap.gc);
    const now = performance.now();
    if (progress && now - lastProgress > 5000) {
      lastProgress = now;
      progress({ ...report, millis: now - t0 });
    }
  }
  report.millis = performance.now() - t0;
  if (heap && report.heapWarm > 0) report.heapEnd = heapAfterGc(heap.gc);
  return report;
}
