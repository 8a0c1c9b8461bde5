// One logged packet as `stats` counts it, whichever input it came from: a
// text line of our log, a JSON line (--format json), or a packet decoded from
// a capture file. The parsers fill one object per input and the aggregator
// reads it before the next packet: nothing here is allocated per packet.

/** What a line turned out to be. */
export const LineKind = {
  /** a packet: the record was filled */
  PACKET: 0,
  /** one of the daemon's own lines (pfasciilogd: ..., tcpdump's stderr) */
  EVENT: 1,
  /** not a line we know */
  UNPARSED: 2,
  /** empty */
  BLANK: 3,
} as const;
export type LineKind = (typeof LineKind)[keyof typeof LineKind];

/** Transport protocols that have ports (or ICMP types) worth counting, as small numbers. */
export const ProtoCode = { TCP: 0, UDP: 1, ICMP: 2, ICMP6: 3, NONE: -1 } as const;
export const PROTO_CODE_NAMES = ['tcp', 'udp', 'icmp', 'icmp6'] as const;

/** Shown for a field the line does not give (no pflog header, no address...). */
export const UNKNOWN = '-';

export interface StatsRecord {
  /** capture time, milliseconds since the epoch (fractional: microseconds kept) */
  time: number;
  /** pf's action (block, pass, ...); for NFLOG, read from the log prefix (see nflogAction) */
  action: string;
  /** in, out, in/out, fwd */
  direction: string;
  /** tcp, udp, icmp, icmp6, ip-proto-N, or other */
  proto: string;
  /** ProtoCode of `proto`, NONE when the packet has no port or type to count */
  protoCode: number;
  /**
   * The source address. IPv4, by far the most common, is kept as a 32-bit
   * number (no string per packet, compact map keys); IPv6 as its text.
   * src4 is -1 when the source is not IPv4, src6 '' when it is not IPv6.
   */
  src4: number;
  src6: string;
  /** destination port, the ICMP/ICMPv6 type for ICMP, or -1 */
  dport: number;
  /** the pf rule ("7", "3.scanners/web.0") or the NFLOG group and prefix ('nflog 1 "pf-block"') */
  rule: string;
  /** the interface the packet was logged on (for NFLOG: the input one, else the output one) */
  iface: string;
}

export function newRecord(): StatsRecord {
  return { time: 0, action: UNKNOWN, direction: UNKNOWN, proto: UNKNOWN, protoCode: ProtoCode.NONE, src4: -1, src6: '', dport: -1, rule: UNKNOWN, iface: UNKNOWN };
}

/** Resets the fields a parser may leave unset. */
export function clearRecord(r: StatsRecord): void {
  r.action = UNKNOWN;
  r.direction = UNKNOWN;
  r.proto = UNKNOWN;
  r.protoCode = ProtoCode.NONE;
  r.src4 = -1;
  r.src6 = '';
  r.dport = -1;
  r.rule = UNKNOWN;
  r.iface = UNKNOWN;
}

/** The protocol name for an IP protocol number, as our JSON names it. */
export function protoName(n: number): string {
  switch (n) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmp6';
    default:
      return IP_PROTO_NAMES[n] ?? (IP_PROTO_NAMES[n] = `ip-proto-${n}`);
  }
}
const IP_PROTO_NAMES: string[] = [];

export function protoCodeOf(proto: string): number {
  switch (proto) {
    case 'tcp':
      return ProtoCode.TCP;
    case 'udp':
      return ProtoCode.UDP;
    case 'icmp':
      return ProtoCode.ICMP;
    case 'icmp6':
      return ProtoCode.ICMP6;
    default:
      return ProtoCode.NONE;
  }
}

/**
 * NFLOG lines carry no action: the firewall rule that logged the packet
 * decides its fate, and names it only in the log prefix the admin chose.
 * A prefix that says block, drop, reject or deny counts as block (the
 * shipped rulesets log with "pf-block"), one that says pass, accept or allow
 * as pass; any other prefix as "log".
 */
export function nflogAction(prefix: string): string {
  const p = prefix.toLowerCase();
  if (/block|drop|reject|deny/.test(p)) return 'block';
  if (/pass|accept|allow/.test(p)) return 'pass';
  return 'log';
}

export function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Whether an IPv6 source, as tcpdump and our decoder print it (compressed,
 * lower case, the last 32 bits dotted), is IPv4-mapped (::ffff:0:0/96) or
 * IPv4-compatible (::/96, which holds :: and ::1 too). The shipped fail2ban
 * filter never bans these: fail2ban would turn ::ffff:a.b.c.d into the IPv4
 * address a.b.c.d, which the sender did not use.
 */
export function isIpv4MappedOrCompatible(src6: string): boolean {
  if (!src6.startsWith('::')) return false;
  const rest = /^::ffff:/i.test(src6) ? src6.slice(7) : src6.slice(2);
  return /^(?:\d{1,3}(?:\.\d{1,3}){3}|(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})?)?)$/i.test(rest);
}

/** A dotted quad to its number, or -1 (the JSON reader's source field: a string). */
export function parseIpv4(s: string): number {
  // only ASCII reaches the byte reader: latin1 would turn U+0132 into "2"
  if (s.length > 15 || !/^[\d.]*$/.test(s)) return -1;
  return ipv4At(Buffer.from(s, 'latin1'), 0, s.length);
}

/**
 * A copy of `s` that shares no memory with the string it was cut from. A
 * substring of a 1 MB chunk of the log may keep the whole chunk alive; what
 * is kept for long (map keys, names) is copied once, when first kept.
 */
export function detached(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** Strings seen over and over (actions, rules, interfaces): one copy of each, found without cutting a new one in the common case. */
export class Interner {
  private last = UNKNOWN;
  private readonly seen = new Map<string, string>();

  constructor(private readonly max = 10_000) {}

  /** The canonical copy of line[a..b). */
  cut(line: string, a: number, b: number): string {
    const last = this.last;
    if (last.length === b - a && line.startsWith(last, a)) return last;
    return (this.last = this.of(line.slice(a, b)));
  }

  /** The canonical copy of `s`. */
  of(s: string): string {
    let v = this.seen.get(s);
    if (v === undefined) {
      v = detached(s);
      // past the limit (a log of garbage), values are still right, just not shared
      if (this.seen.size < this.max) this.seen.set(v, v);
    }
    return v;
  }
}

/** A dotted quad in b[a..z) as a number, or -1 (no string made). */
export function ipv4At(b: Uint8Array, a: number, z: number): number {
  let n = 0;
  let part = -1;
  let dots = 0;
  for (let i = a; i < z; i++) {
    const c = b[i]!;
    if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + c - 48;
      if (part > 255) return -1;
    } else if (c === 46 && part >= 0 && dots < 3) {
      n = n * 256 + part;
      part = -1;
      dots++;
    } else return -1;
  }
  return dots === 3 && part >= 0 ? n * 256 + part : -1;
}

/** Where byte `c` first occurs in b[from..e), or -1. */
export function findByte(b: Uint8Array, c: number, from: number, e: number): number {
  for (let i = from; i < e; i++) if (b[i] === c) return i;
  return -1;
}

/**
 * Names seen over and over (actions, rules, interfaces) as one string each,
 * recognised by their bytes among the last few seen, so that the common line
 * costs no string at all.
 */
export class ByteInterner {
  private readonly recent: Array<{ bytes: Uint8Array; value: string }> = [];
  private next = 0;
  private readonly strings = new Interner();

  cut(b: Buffer, a: number, z: number): string {
    const n = z - a;
    const recent = this.recent;
    for (let k = 0; k < recent.length; k++) {
      const e = recent[k]!;
      const eb = e.bytes;
      if (eb.length !== n) continue;
      let same = true;
      for (let i = 0; i < n; i++) {
        if (eb[i] !== b[a + i]) {
          same = false;
          break;
        }
      }
      if (same) return e.value;
    }
    const value = this.strings.of(b.toString('latin1', a, z));
    if (n <= 256) {
      const entry = { bytes: Uint8Array.prototype.slice.call(b, a, z), value };
      if (recent.length < 8) recent.push(entry);
      else recent[(this.next = (this.next + 1) & 7)] = entry;
    }
    return value;
  }

  of(s: string): string {
    return this.strings.of(s);
  }
}
