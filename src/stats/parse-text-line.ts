// One line of our log to a StatsRecord. The forms read:
//
//   STAMP rule 1/0(match): block in on vtnet0: 121.224.77.46.41854 > 46.38.233.77.6379: Flags [S], ...
//   STAMP rule 5/0(match) [uid 0] [ridentifier 1234]: block in on em0: ...      (FreeBSD)
//   STAMP rule 3.scanners/web.0/0(match): block in on igb0.100: ...             (anchor)
//   STAMP rule 2/(match) block in on em0: 203.0.113.1.40000 > ...: S 1:1(0) ... (OpenBSD)
//   STAMP nflog 1 "pf-block" in on eth0: 10.77.0.1.55202 > 10.77.0.2.23: ...  (Linux)
//   {"time":"...","rule":7,...}                                                (--format json)
//   STAMP HOST filterlog[PID]: 7,,,0,vtnet0,match,block,in,4,...               (--format filterlog;
//                                        pfSense's and OPNsense's own: see parse-filterlog-line.ts)
//   STAMP pfasciilogd: ...  / STAMP tcpdump: ...                               (events: skipped)
//
// IPv4 and IPv6 sources, ports as the last dotted field ("a.b.c.d.port",
// "2001:db8::1.22"), ICMP and ICMPv6 types from tcpdump's names for them.
// Only the start of a line is read, up to the transport's first word: text
// later in a line (a DNS name, an HTTP request) never changes what it counts.
//
// It reads the bytes of the file as they came (latin1, as they were
// written), without making a string of each line: at half a million lines a
// second, strings per line were most of the time. Strings are made only for
// names not seen just before (an interface, a rule) and for IPv6 sources.

import { parseStampText, stampAt } from './iso-time.js';
import { FilterlogLineParser } from './parse-filterlog-line.js';
import { ByteInterner, LineKind, ProtoCode, clearRecord, findByte, nflogAction, parseIpv4, protoCodeOf, protoName, type StatsRecord } from './record.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** What the daemon writes of its own, and what it relays from tcpdump's stderr. */
const EVENT_PREFIXES = ['pfasciilogd:', 'tcpdump:', 'reading from file ', 'listening on '].map(bytes);

const ICMP_NAMES: ReadonlyArray<readonly [Uint8Array, number]> = (
  [
    ['echo request', 8], ['echo reply', 0], ['time exceeded', 11], ['ip reassembly time exceeded', 11], ['redirect', 5],
    ['source quench', 4], ['router advertisement', 9], ['router solicitation', 10], ['parameter problem', 12],
    ['time stamp request', 13], ['time stamp reply', 14], ['information request', 15], ['information reply', 16],
    ['address mask request', 17], ['address mask reply', 18],
  ] as const
).map(([s, n]) => [bytes(s), n] as const);

const ICMP6_NAMES: ReadonlyArray<readonly [Uint8Array, number]> = (
  [
    ['echo request', 128], ['echo reply', 129], ['destination unreachable', 1], ['packet too big', 2], ['time exceeded', 3],
    ['parameter problem', 4], ['multicast listener query', 130], ['multicast listener report v2', 143],
    ['multicast listener report', 131], ['multicast listener done', 132], ['router solicitation', 133],
    ['router advertisement', 134], ['neighbor solicitation', 135], ['neighbor advertisement', 136], ['redirect', 137],
  ] as const
).map(([s, n]) => [bytes(s), n] as const);

const P = {
  rule: bytes('rule '),
  unkn: bytes('unkn'),
  nflog: bytes('nflog '),
  on: bytes(' on '),
  colonSpace: bytes(': '),
  gt: bytes(' > '),
  inOn: bytes(' in on '),
  outOn: bytes(' out on '),
  truncatedIp: bytes('truncated-ip'),
  missing: bytes('missing!'),
  flags: bytes('Flags ['),
  truncTcp: bytes('[|tcp]'),
  tcpSpace: bytes('tcp '),
  win: bytes(' win '),
  icmp6Comma: bytes('ICMP6, '),
  icmpSpace: bytes('ICMP '),
  icmpColon: bytes('icmp: '),
  icmp6Colon: bytes('icmp6: '),
  ipProto: bytes('ip-proto-'),
  truncUdp: bytes('[|udp]'),
  truncIcmp6: bytes('[|icmp6]'),
  truncIcmp: bytes('[|icmp]'),
  truncatedUdp: bytes('truncated-udp'),
  gre: bytes('GRE'),
  esp: bytes('ESP('),
  unreachable: bytes(' unreachable'),
  typeHash: bytes('type-#'),
  unknownIcmp6: bytes('unknown icmp6 type ('),
};

/** b[i..e) starts with `p`. */
function at(b: Uint8Array, i: number, e: number, p: Uint8Array): boolean {
  const n = p.length;
  if (e - i < n) return false;
  for (let k = 0; k < n; k++) if (b[i + k] !== p[k]) return false;
  return true;
}

/** Where `p` first occurs in b[from..e), or -1. */
function find(b: Uint8Array, p: Uint8Array, from: number, e: number): number {
  const c = p[0]!;
  const last = e - p.length;
  for (let i = from; i <= last; i++) if (b[i] === c && at(b, i, e, p)) return i;
  return -1;
}

/** The number at b[i..), or -1. */
function numberAt(b: Uint8Array, i: number, e: number): number {
  let n = -1;
  for (; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) break;
    n = n < 0 ? c : n * 10 + c;
    if (n > 0xffffffff) return -1;
  }
  return n;
}

function icmpType(b: Uint8Array, i: number, e: number): number {
  for (const [name, type] of ICMP_NAMES) if (at(b, i, e, name)) return type;
  if (at(b, i, e, P.typeHash)) return numberAt(b, i + 6, e);
  return find(b, P.unreachable, i, e) >= 0 ? 3 : -1;
}

function icmp6Type(b: Uint8Array, i: number, e: number): number {
  for (const [name, type] of ICMP6_NAMES) if (at(b, i, e, name)) return type;
  if (at(b, i, e, P.unknownIcmp6)) return numberAt(b, i + 20, e);
  return -1;
}

/** OpenBSD's TCP: "S 1:1(0) win 16384", ". ack 1 win 16384", "FP 1:5(4) ack 1 win 512". */
function openbsdTcp(b: Uint8Array, i: number, e: number): boolean {
  const from = i;
  for (; i < e; i++) {
    const c = b[i];
    // S F R P W E U .
    if (c !== 83 && c !== 70 && c !== 82 && c !== 80 && c !== 87 && c !== 69 && c !== 85 && c !== 46) break;
  }
  return i > from && b[i] === 32 && find(b, P.win, i, e) >= 0;
}

// What addressAt found: in a typed array, as module variables holding
// numbers above 2^30 would allocate a heap number for each line.
const found = new Float64Array(3);
const ADDR4 = 0;
const ADDR_END = 1;
const ADDR_PORT = 2;

/**
 * Reads the address (and port) in b[a..z): sets found[ADDR4] (the IPv4
 * number, or -1 for IPv6), found[ADDR_END] (where the address ends) and
 * found[ADDR_PORT] (or -1).
 * False when the token is not an address.
 */
function addressAt(b: Uint8Array, a: number, z: number): boolean {
  found[ADDR4] = -1;
  found[ADDR_PORT] = -1;
  found[ADDR_END] = z;
  let lastColon = -1;
  for (let i = z - 1; i >= a; i--) {
    if (b[i] === 58) {
      lastColon = i;
      break;
    }
  }
  if (lastColon < 0) {
    // IPv4: four numbers, and a fifth for the port
    let n = 0;
    let part = -1;
    let parts = 0;
    for (let i = a; i < z; i++) {
      const c = b[i]!;
      if (c >= 48 && c <= 57) {
        part = part < 0 ? c - 48 : part * 10 + c - 48;
        if (part > 65535) return false;
      } else if (c === 46 && part >= 0 && parts < 4 && part <= 255) {
        if (parts === 3) found[ADDR_END] = i;
        n = n * 256 + part;
        part = -1;
        parts++;
      } else return false;
    }
    if (part < 0) return false;
    if (parts === 3 && part <= 255) {
      found[ADDR4] = n * 256 + part;
      return true;
    }
    if (parts === 4) {
      found[ADDR4] = n;
      found[ADDR_PORT] = part;
      return true;
    }
    return false;
  }
  // IPv6: the dots after the last colon say whether a port follows
  // (2001:db8::1.22, ::ffff:192.0.2.1.22) or not (::ffff:192.0.2.1)
  let dots = 0;
  let lastDot = -1;
  for (let i = lastColon + 1; i < z; i++) {
    const c = b[i]!;
    if (c === 46) {
      dots++;
      lastDot = i;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  if (dots === 1 || dots === 4) {
    const port = numberAt(b, lastDot + 1, z);
    if (port < 0 || port > 65535) return false;
    found[ADDR_END] = lastDot;
    found[ADDR_PORT] = port;
  } else if (dots !== 0 && dots !== 3) return false;
  return found[ADDR_END]! > a;
}

/**
 * The reason after a rule's '/', at b[i..): "0(match)", "unkn(99)", or
 * OpenBSD's "(match)", "(unkn 99)". Returns the index of its ')' or -1.
 */
function reasonEnd(b: Uint8Array, i: number, e: number): number {
  if (at(b, i, e, P.unkn)) i += 4;
  else if (b[i] !== 40) {
    const from = i;
    while (i < e && b[i]! >= 48 && b[i]! <= 57) i++;
    if (i === from) return -1;
  }
  if (b[i] !== 40) return -1;
  for (i++; i < e; i++) {
    const c = b[i]!;
    if (c === 41) return i;
    // names are lower case and '-'; "unkn 99" has a space and digits
    if (!((c >= 97 && c <= 122) || c === 45 || c === 32 || (c >= 48 && c <= 57))) return -1;
  }
  return -1;
}

/** Extension headers as printed: the name, its protocol number, and what ends its text (null: the name alone). */
const EXT: ReadonlyArray<readonly [Uint8Array, number, Uint8Array | null]> = [
  [bytes('HBH'), 0, null],
  [bytes('DSTOPT'), 60, null],
  [bytes('frag ('), 44, bytes(')')],
  [bytes('RT6 ('), 43, bytes(')')],
  [bytes('AH('), 51, bytes('):')],
];

/** Where tcpdump stopped inside them: the protocol it stopped at. */
const STOPS: ReadonlyArray<readonly [Uint8Array, number]> = [
  [bytes('[|hbhopt]'), 0],
  [bytes('[|dstopt]'), 60],
  [bytes('[|frag6]'), 44],
  [bytes('[|rt6]'), 43],
  [bytes('[|ah]'), 51],
];

export class TextLineParser {
  private readonly actions = new ByteInterner();
  private readonly directions = new ByteInterner();
  private readonly rules = new ByteInterner();
  private readonly ifaces = new ByteInterner();
  private readonly protos = new ByteInterner();
  /** NFLOG rule label to its action (see nflogAction) */
  private readonly nflogActions = new Map<string, string>();
  private readonly filterlog = new FilterlogLineParser();

  /** Fills `r` from the line b[a..e) (no newline) and says what the line was. */
  parse(b: Buffer, a: number, e: number, r: StatsRecord): LineKind {
    if (e > a && b[e - 1] === 13) e--;
    if (e === a) return LineKind.BLANK;
    if (b[a] === 123) return this.json(b.toString('latin1', a, e), r);
    const p = stampAt(b, a, e, r);
    // pfSense's and OPNsense's filter.log (BSD and RFC 5424 headers)
    if (p < 0) return this.filterlog.parse(b, a, e, r);
    clearRecord(r);
    let q: number;
    if (at(b, p, e, P.rule)) q = this.pflog(b, p + 5, e, r);
    else if (at(b, p, e, P.nflog)) q = this.nflog(b, p, e, r);
    else {
      for (const ev of EVENT_PREFIXES) if (at(b, p, e, ev)) return LineKind.EVENT;
      return this.filterlog.afterStamp(b, p, e, r); // --format filterlog
    }
    if (q < 0) return LineKind.UNPARSED;
    this.network(b, q, e, r);
    return LineKind.PACKET;
  }

  /** A line given as a string (tests, one-off use). */
  parseString(line: string, r: StatsRecord): LineKind {
    const b = Buffer.from(line, 'latin1');
    return this.parse(b, 0, b.length, r);
  }

  /** "N[.ruleset.M]/reason: action dir on IF: " from q (after "rule "); returns where the packet's text starts. */
  private pflog(b: Buffer, q: number, e: number, r: StatsRecord): number {
    // the rule ends at the '/' before the reason; an anchor's name may hold
    // '/' and parentheses, so the reason is recognised by its form
    let slash = q;
    let close = -1;
    for (;;) {
      slash = findByte(b, 47, slash + 1, e);
      if (slash < 0) return -1;
      close = reasonEnd(b, slash + 1, e);
      if (close >= 0 && (b[close + 1] === 58 || b[close + 1] === 32)) break;
    }
    r.rule = this.rules.cut(b, q, slash);
    let x = close + 1;
    const c = b[x];
    if (c === 58) {
      // "): block"
      if (b[x + 1] !== 32) return -1;
      x += 2;
    } else if (c === 32 && b[x + 1] === 91) {
      // ") [uid 0] [ridentifier 1]: block"
      const colon = find(b, P.colonSpace, x, e);
      if (colon < 0) return -1;
      x = colon + 2;
    } else if (c === 32) x++; // OpenBSD: ") block"
    else return -1;
    const sp = findByte(b, 32, x, e);
    if (sp < 0) return -1;
    r.action = this.actions.cut(b, x, sp);
    const on = find(b, P.on, sp, e);
    if (on < 0) return -1;
    r.direction = this.directions.cut(b, sp + 1, on);
    const ifEnd = find(b, P.colonSpace, on + 4, e);
    if (ifEnd < 0) return -1;
    r.iface = this.ifaces.cut(b, on + 4, ifEnd);
    return ifEnd + 2;
  }

  /** 'nflog N "prefix"[ in on IF][ out on IF]: ' from p; returns where the packet's text starts. */
  private nflog(b: Buffer, p: number, e: number, r: StatsRecord): number {
    if (numberAt(b, p + 6, e) < 0) return -1;
    let i = findByte(b, 34, p + 6, e);
    if (i < 0 || b[i - 1] !== 32) return -1;
    for (i++; i < e; i++) {
      const c = b[i];
      if (c === 92) i++;
      else if (c === 34) break;
    }
    if (i >= e) return -1;
    const labelEnd = i + 1;
    const rule = (r.rule = this.rules.cut(b, p, labelEnd));
    let action = this.nflogActions.get(rule);
    if (action === undefined) {
      action = nflogAction(rule.slice(rule.indexOf('"')));
      if (this.nflogActions.size < 10_000) this.nflogActions.set(rule, action);
    }
    r.action = action;
    const colon = find(b, P.colonSpace, labelEnd, e);
    if (colon < 0) return -1;
    if (at(b, labelEnd, colon, P.inOn)) {
      r.direction = 'in';
      const out = find(b, P.outOn, labelEnd + 7, colon);
      r.iface = this.ifaces.cut(b, labelEnd + 7, out >= 0 ? out : colon);
    } else if (at(b, labelEnd, colon, P.outOn)) {
      r.direction = 'out';
      r.iface = this.ifaces.cut(b, labelEnd + 8, colon);
    }
    return colon + 2;
  }

  /** "SRC[.PORT] > DST[.PORT]: transport..." from q. */
  private network(b: Buffer, q: number, e: number, r: StatsRecord): void {
    if (at(b, q, e, P.truncatedIp)) {
      const bang = find(b, P.missing, q, e);
      if (bang < 0) return this.setProto(r, 'other');
      q = bang + 8;
      if (b[q] === 32) q++;
    }
    const sp = findByte(b, 32, q, e);
    if (sp < 0 || !at(b, sp, e, P.gt) || !addressAt(b, q, sp)) return this.setProto(r, 'other');
    const a4 = found[ADDR4]!;
    if (a4 >= 0) r.src4 = a4;
    else r.src6 = b.toString('latin1', q, found[ADDR_END]);
    const d = sp + 3;
    // the destination ends at ": ", or at a ':' ending the line
    const dsp = findByte(b, 32, d, e);
    let colon: number;
    if (dsp < 0) {
      if (b[e - 1] !== 58) return this.setProto(r, 'other');
      colon = e - 1;
    } else {
      if (b[dsp - 1] !== 58) return this.setProto(r, 'other');
      colon = dsp - 1;
    }
    if (!addressAt(b, d, colon)) return this.setProto(r, 'other');
    let i = colon + 2;
    while (i < e && b[i] === 32) i++;
    const port = found[ADDR_PORT]!;
    if (port >= 0) {
      r.dport = port;
      return this.ported(b, i, e, r);
    }
    this.portless(b, i, e, r);
  }

  /** TCP or UDP, from the text after "DST.PORT: ". */
  private ported(b: Uint8Array, i: number, e: number, r: StatsRecord): void {
    while (i < e && b[i] === 32) i++;
    if (at(b, i, e, P.flags) || at(b, i, e, P.truncTcp) || at(b, i, e, P.tcpSpace) || openbsdTcp(b, i, e)) this.setProto(r, 'tcp');
    else this.setProto(r, 'udp'); // "UDP, length", OpenBSD's "udp 12", tcpdump's application printers (DNS, SIP, ...)
  }

  private portless(b: Buffer, i: number, e: number, r: StatsRecord): void {
    const c = b[i];
    if (c === 73 /* I */) {
      if (at(b, i, e, P.icmp6Comma)) {
        this.setProto(r, 'icmp6');
        r.dport = icmp6Type(b, i + 7, e);
        return;
      }
      if (at(b, i, e, P.icmpSpace)) {
        this.setProto(r, 'icmp');
        r.dport = icmpType(b, i + 5, e);
        return;
      }
    } else if (c === 105 /* i */) {
      if (at(b, i, e, P.icmpColon)) {
        this.setProto(r, 'icmp');
        r.dport = icmpType(b, i + 6, e);
        return;
      }
      if (at(b, i, e, P.icmp6Colon)) {
        this.setProto(r, 'icmp6');
        r.dport = icmp6Type(b, i + 7, e);
        return;
      }
      if (at(b, i, e, P.ipProto)) {
        // a later fragment, or a protocol without a printer
        const n = numberAt(b, i + 9, e);
        return this.setProto(r, n >= 0 && n < 256 ? protoName(n) : 'other');
      }
    } else if (c === 91 /* [ */) {
      if (at(b, i, e, P.truncTcp)) return this.setProto(r, 'tcp');
      if (at(b, i, e, P.truncUdp)) return this.setProto(r, 'udp');
      if (at(b, i, e, P.truncIcmp6)) return this.setProto(r, 'icmp6');
      if (at(b, i, e, P.truncIcmp)) return this.setProto(r, 'icmp');
    } else if (at(b, i, e, P.truncatedUdp)) return this.setProto(r, 'udp');
    else if (at(b, i, e, P.gre)) return this.setProto(r, 'ip-proto-47');
    else if (at(b, i, e, P.esp)) return this.setProto(r, 'ip-proto-50');
    if (!this.extensions(b, i, e, r)) this.setProto(r, 'other');
  }

  /**
   * IPv6 extension headers (and AH) before the transport, as tcpdump prints
   * them: "HBH DSTOPT frag (0|20) RT6 (...) 1 > 22: Flags [S]...",
   * "DSTOPT ICMP6, echo request...", "AH(spi=...): 1 > 22: ...". What
   * follows them decides the protocol; with nothing (a later fragment, a
   * header cut short) it is the last extension header's, as our decoder
   * reports it. False when the text does not start with one.
   */
  private extensions(b: Buffer, i: number, e: number, r: StatsRecord): boolean {
    let last = -1;
    for (;;) {
      while (i < e && b[i] === 32) i++;
      let x = -1;
      for (let k = 0; k < EXT.length; k++) {
        if (at(b, i, e, EXT[k]![0])) {
          x = k;
          break;
        }
      }
      if (x < 0) break;
      const [name, proto, until] = EXT[x]!;
      last = proto;
      i += name.length;
      if (until !== null) {
        const end = find(b, until, i, e);
        if (end < 0) {
          i = e;
          break;
        }
        i = end + until.length;
      }
    }
    for (const [mark, proto] of STOPS) {
      if (at(b, i, e, mark)) {
        last = proto;
        i = e;
      }
    }
    if (last < 0) return false;
    // "SPORT > DPORT: "
    const sport = numberAt(b, i, e);
    if (sport >= 0) {
      let j = i;
      while (j < e && b[j]! >= 48 && b[j]! <= 57) j++;
      if (at(b, j, e, P.gt)) {
        const dport = numberAt(b, j + 3, e);
        let k = j + 3;
        while (k < e && b[k]! >= 48 && b[k]! <= 57) k++;
        if (dport >= 0 && dport <= 65535 && b[k] === 58) {
          r.dport = dport;
          this.ported(b, k + 1, e, r);
          return true;
        }
      }
    }
    if (i < e) {
      // ICMP6, ip-proto-N, a truncation mark: as without extension headers
      this.portless(b, i, e, r);
      if (r.proto !== 'other') return true;
    }
    this.setProto(r, protoName(last));
    return true;
  }

  private setProto(r: StatsRecord, proto: string): void {
    r.proto = proto;
    r.protoCode = protoCodeOf(proto);
    if (r.protoCode === ProtoCode.NONE) r.dport = -1;
  }

  /** A line of `--format json`: the documented fields. */
  private json(line: string, r: StatsRecord): LineKind {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return LineKind.UNPARSED;
    }
    if (typeof o !== 'object' || o === null) return LineKind.UNPARSED;
    const j = o as Record<string, unknown>;
    const time = typeof j['time'] === 'string' ? parseStampText(j['time']) : Number.NaN;
    if (Number.isNaN(time)) return LineKind.UNPARSED;
    clearRecord(r);
    r.time = time;
    const str = (k: string): string | null => (typeof j[k] === 'string' ? (j[k] as string) : null);
    const num = (k: string): number | null => (typeof j[k] === 'number' && Number.isInteger(j[k]) ? (j[k] as number) : null);
    const group = num('group');
    const rule = num('rule');
    if (group !== null) {
      const prefix = (str('prefix') ?? '').replace(/["\\]/g, '\\$&');
      r.rule = this.rules.of(`nflog ${group} "${prefix}"`);
    } else if (rule !== null) {
      const sub = num('subrule');
      r.rule = this.rules.of(sub === null ? `${rule}` : `${rule}.${str('ruleset') ?? ''}.${sub}`);
    }
    const action = str('action');
    if (action !== null) r.action = this.actions.of(action);
    else if (group !== null) r.action = nflogAction(str('prefix') ?? '');
    const dir = str('direction');
    if (dir !== null) r.direction = this.directions.of(dir);
    const iface = str('interface');
    if (iface !== null) r.iface = this.ifaces.of(iface);
    const proto = str('protocol');
    if (proto !== null) {
      r.proto = this.protos.of(proto);
      r.protoCode = protoCodeOf(proto);
    } else r.proto = 'other';
    const src = str('src');
    if (src !== null) {
      const n = parseIpv4(src);
      if (n >= 0) r.src4 = n;
      else r.src6 = src;
    }
    if (r.protoCode === ProtoCode.TCP || r.protoCode === ProtoCode.UDP) r.dport = num('dst_port') ?? -1;
    else if (r.protoCode !== ProtoCode.NONE) r.dport = num('icmp_type') ?? -1;
    return LineKind.PACKET;
  }
}

/** One line parsed on its own (tests, one-off use): the kind, and a copy of the record for a packet. */
export function parseLine(line: string): { kind: LineKind; record: StatsRecord | null } {
  const r = {} as StatsRecord;
  clearRecord(r);
  r.time = 0;
  const kind = new TextLineParser().parseString(line, r);
  return { kind, record: kind === LineKind.PACKET ? { ...r } : null };
}
