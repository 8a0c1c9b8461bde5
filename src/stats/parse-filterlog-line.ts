// One filterlog line (pfSense's and OPNsense's CSV, or ours with --format
// filterlog) to a StatsRecord. The headers read:
//
//   2026-12-06T07:34:29.123456+01:00 fw filterlog[123]: CSV        (ours; rsyslog's high-precision form)
//   Dec  5 09:53:08 fw filterlog[123]: CSV                           (BSD syslog, pfSense's filter.log)
//   Dec  5 09:53:08 filterlog: CSV                                   (BSD, no host: as pfSense sends it)
//   <134>1 2024-01-05T10:20:30.123456+01:00 fw filterlog 123 - [meta sequenceId="7"] CSV   (RFC 5424: OPNsense)
//   <134>Dec  5 09:53:08 filterlog: CSV                              (BSD with its priority, from the wire)
//
// A BSD stamp has no year: it is the year that puts the line at most a day
// after now, local time, as syslog readers do. The CSV's fields are read by
// position (see format/filterlog.ts), so counts agree with those of the text
// rendering of the same packets: the rule as "N" or "N.anchor.M", the
// interface and anchor percent-decoded and escaped as the text line shows
// them, the destination port, or the ICMP type from its word.

import { escapeBytes } from '../format/escape.js';
import { stampAt } from './iso-time.js';
import { ByteInterner, Interner, LineKind, ProtoCode, clearRecord, findByte, ipv4At, protoCodeOf, protoName, type StatsRecord } from './record.js';

const FILTERLOG = Buffer.from('filterlog', 'latin1');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ICMP and ICMPv6 types by the words filterlogs print (ours, pfSense's, pf.conf's keywords). */
const ICMP_TYPES = new Map<string, number>([
  ['reply', 0], ['echorep', 0], ['unreach', 3], ['unreachport', 3], ['unreachproto', 3], ['needfrag', 3], ['squench', 4],
  ['redirect', 5], ['redir', 5], ['althost', 6], ['request', 8], ['echoreq', 8], ['routeradv', 9], ['routersol', 10],
  ['timexceed', 11], ['timex', 11], ['paramprob', 12], ['tstamp', 13], ['timereq', 13], ['tstampreply', 14], ['timerep', 14],
  ['inforeq', 15], ['inforep', 16], ['maskreq', 17], ['maskreply', 18], ['maskrep', 18],
]);
const ICMP6_TYPES = new Map<string, number>([
  ['unreach', 1], ['toobig', 2], ['timexceed', 3], ['timex', 3], ['paramprob', 4], ['request', 128], ['echoreq', 128],
  ['reply', 129], ['echorep', 129], ['listqry', 130], ['listenrep', 131], ['listendone', 132], ['routersol', 133],
  ['routeradv', 134], ['neighbrsol', 135], ['neighbradv', 136], ['redir', 137], ['listenrepv2', 143],
]);

/** The value of the hex digit c, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/** A field as the text line shows the same name: %XX decoded, then escaped as tcpdump does. */
export function decodeField(b: Uint8Array, a: number, z: number): string {
  const raw = Buffer.allocUnsafe(z - a);
  let n = 0;
  for (let i = a; i < z; i++) {
    const c = b[i]!;
    if (c === 0x25 && i + 2 < z && hexValue(b[i + 1]!) >= 0 && hexValue(b[i + 2]!) >= 0) {
      raw[n++] = hexValue(b[i + 1]!) * 16 + hexValue(b[i + 2]!);
      i += 2;
    } else raw[n++] = c;
  }
  return escapeBytes(raw, 0, n);
}

function digitsAt(b: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = b[i + k]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** A decimal field's value, or -1 when empty or not a number. */
function numberIn(b: Uint8Array, a: number, z: number): number {
  if (z <= a || z - a > 10) return -1;
  return digitsAt(b, a, z - a);
}

/** Most fields a line has that we read: the rest of the line is left alone. */
const MAX_FIELDS = 24;

export class FilterlogLineParser {
  private readonly actions = new ByteInterner();
  private readonly directions = new ByteInterner();
  private readonly rules = new ByteInterner();
  private readonly ifaces = new ByteInterner();
  private readonly strings = new Interner();
  /** field starts; field k ends at starts[k+1]-1 */
  private readonly starts = new Int32Array(MAX_FIELDS + 1);
  /** BSD stamps: the local time of the hour last seen, and its key */
  private hourKey = -1;
  private hourMs = 0;

  /** Reads a whole line (no stamp of ours recognised at its start); returns UNPARSED if it is not a filterlog line. */
  parse(b: Buffer, a: number, e: number, r: StatsRecord, now = Date.now()): LineKind {
    let p = a;
    if (b[p] === 60 /* < */) {
      const gt = findByte(b, 62, p + 1, Math.min(e, p + 5));
      if (gt < 0 || numberIn(b, p + 1, gt) < 0) return LineKind.UNPARSED;
      p = gt + 1;
      if (b[p] === 49 && b[p + 1] === 32) return this.rfc5424(b, p + 2, e, r);
    }
    let q = stampAt(b, p, e, r);
    if (q < 0) q = this.bsdStamp(b, p, e, r, now);
    if (q < 0) return LineKind.UNPARSED;
    return this.afterStamp(b, q, e, r);
  }

  /** After a stamp and its space: "[HOST ]filterlog[[PID]]: CSV". */
  afterStamp(b: Buffer, q: number, e: number, r: StatsRecord): LineKind {
    let csv = this.tag(b, q, e);
    if (csv < 0) {
      const sp = findByte(b, 32, q, e);
      if (sp < 0) return LineKind.UNPARSED;
      csv = this.tag(b, sp + 1, e);
      if (csv < 0) return LineKind.UNPARSED;
    }
    return this.csv(b, csv, e, r);
  }

  /** "filterlog: " or "filterlog[PID]: " at q: where the CSV starts, or -1. */
  private tag(b: Uint8Array, q: number, e: number): number {
    if (e - q < FILTERLOG.length + 2) return -1;
    for (let i = 0; i < FILTERLOG.length; i++) if (b[q + i] !== FILTERLOG[i]) return -1;
    let i = q + FILTERLOG.length;
    if (b[i] === 91 /* [ */) {
      const close = findByte(b, 93, i + 1, Math.min(e, i + 12));
      if (close < 0) return -1;
      i = close + 1;
    }
    if (b[i] !== 58 || b[i + 1] !== 32) return -1;
    i += 2;
    while (i < e && b[i] === 32) i++;
    return i;
  }

  /** "STAMP HOST APP PROCID MSGID SD MSG" after "<PRI>1 ". */
  private rfc5424(b: Buffer, p: number, e: number, r: StatsRecord): LineKind {
    const q = stampAt(b, p, e, r);
    if (q < 0) return LineKind.UNPARSED;
    const host = findByte(b, 32, q, e);
    if (host < 0) return LineKind.UNPARSED;
    const app = host + 1;
    if (e - app < FILTERLOG.length + 1 || b[app + FILTERLOG.length] !== 32) return LineKind.UNPARSED;
    for (let i = 0; i < FILTERLOG.length; i++) if (b[app + i] !== FILTERLOG[i]) return LineKind.UNPARSED;
    const procEnd = findByte(b, 32, app + FILTERLOG.length + 1, e);
    if (procEnd < 0) return LineKind.UNPARSED;
    const msgidEnd = findByte(b, 32, procEnd + 1, e);
    if (msgidEnd < 0) return LineKind.UNPARSED;
    let i = msgidEnd + 1;
    if (b[i] === 45 /* - */) i++;
    else {
      // one or more [id param="value"...]; a value may hold \" \] \\
      while (b[i] === 91) {
        let quoted = false;
        for (i++; i < e; i++) {
          const c = b[i];
          if (quoted && c === 92) i++;
          else if (c === 34) quoted = !quoted;
          else if (c === 93 && !quoted) break;
        }
        if (i >= e) return LineKind.UNPARSED;
        i++;
      }
    }
    if (b[i] !== 32) return LineKind.UNPARSED;
    i++;
    if (b[i] === 0xef && b[i + 1] === 0xbb && b[i + 2] === 0xbf) i += 3; // RFC 5424's BOM
    return this.csv(b, i, e, r);
  }

  /** "Mmm dd hh:mm:ss " (day space-padded): sets r.time, returns where the text after it starts, or -1. */
  private bsdStamp(b: Uint8Array, p: number, e: number, r: StatsRecord, now: number): number {
    if (e - p < 16 || b[p + 3] !== 32 || b[p + 9] !== 58 || b[p + 12] !== 58 || b[p + 15] !== 32) return -1;
    const mon = MONTHS.indexOf(String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!));
    if (mon < 0) return -1;
    const day = b[p + 4] === 32 ? digitsAt(b, p + 5, 1) : digitsAt(b, p + 4, 2);
    const h = digitsAt(b, p + 7, 2);
    const mi = digitsAt(b, p + 10, 2);
    const s = digitsAt(b, p + 13, 2);
    if (day < 1 || day > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return -1;
    const key = (mon * 32 + day) * 24 + h;
    if (key !== this.hourKey) {
      const year = new Date(now).getFullYear();
      let t = new Date(year, mon, day, h).getTime();
      if (t > now + 86_400_000) t = new Date(year - 1, mon, day, h).getTime();
      this.hourKey = key;
      this.hourMs = t;
    }
    r.time = this.hourMs + mi * 60_000 + s * 1000;
    return p + 16;
  }

  /** The CSV at b[c..e). */
  private csv(b: Buffer, c: number, e: number, r: StatsRecord): LineKind {
    const st = this.starts;
    let n = 1;
    st[0] = c;
    for (let i = c; i < e && n <= MAX_FIELDS; i++) if (b[i] === 44) st[n++] = i + 1;
    const fields = n;
    if (n <= MAX_FIELDS) st[n] = e + 1;
    // rule..dir and the IP version at least, the version 4 or 6 (or empty: a packet we could not decode)
    if (fields < 9) return LineKind.UNPARSED;
    const verA = st[8]!;
    const verZ = this.end(8);
    const ver = verZ - verA === 1 ? b[verA]! - 48 : verZ === verA ? 0 : -1;
    if (ver !== 4 && ver !== 6 && ver !== 0) return LineKind.UNPARSED;
    clearRecord(r);
    const ruleZ = this.end(0);
    if (ruleZ > st[0]!) {
      const subA = st[1]!;
      const subZ = this.end(1);
      if (subZ === subA) r.rule = this.rules.cut(b, st[0]!, ruleZ);
      else r.rule = this.strings.of(`${b.toString('latin1', st[0]!, ruleZ)}.${this.name(b, st[2]!, this.end(2))}.${b.toString('latin1', subA, subZ)}`);
    }
    if (this.end(4) > st[4]!) r.iface = this.nameInterned(b, st[4]!, this.end(4), this.ifaces);
    if (this.end(6) > st[6]!) r.action = this.actions.cut(b, st[6]!, this.end(6));
    if (this.end(7) > st[7]!) r.direction = this.directions.cut(b, st[7]!, this.end(7));
    // the protocol number, the source, and where the transport's fields start
    const protoField = ver === 4 ? 15 : 13;
    const srcField = ver === 4 ? 18 : 15;
    const transport = srcField + 2;
    if (ver === 0 || fields <= srcField) {
      r.proto = 'other';
      return LineKind.PACKET;
    }
    const proto = numberIn(b, st[protoField]!, this.end(protoField));
    if (proto < 0 || proto > 255) {
      r.proto = 'other';
      return LineKind.PACKET;
    }
    r.proto = protoName(proto);
    r.protoCode = protoCodeOf(r.proto);
    const srcA = st[srcField]!;
    const srcZ = this.end(srcField);
    if (ver === 4) r.src4 = ipv4At(b, srcA, srcZ);
    else r.src6 = b.toString('latin1', srcA, srcZ);
    if (r.protoCode === ProtoCode.NONE || fields <= transport) return LineKind.PACKET;
    if (r.protoCode === ProtoCode.TCP || r.protoCode === ProtoCode.UDP) {
      if (fields > transport + 1) r.dport = numberIn(b, st[transport + 1]!, this.end(transport + 1));
    } else {
      const w = b.toString('latin1', st[transport]!, this.end(transport));
      const v4 = r.protoCode === ProtoCode.ICMP;
      const t = w.startsWith('type-') ? numberIn(b, st[transport]! + 5, this.end(transport)) : ((v4 ? ICMP_TYPES : ICMP6_TYPES).get(w) ?? -1);
      // an IPv4 message whose fields were not captured ("request,,") counts as the text line does: no type
      const cut = v4 && (fields <= transport + 1 || this.end(transport + 1) === st[transport + 1]);
      r.dport = cut ? -1 : t;
    }
    return LineKind.PACKET;
  }

  /** Where field k ends (its comma, or the line's end). */
  private end(k: number): number {
    return this.starts[k + 1]! - 1;
  }

  /** An interface or anchor name as the text line shows it. */
  private name(b: Buffer, a: number, z: number): string {
    return findByte(b, 0x25, a, z) < 0 ? b.toString('latin1', a, z) : decodeField(b, a, z);
  }

  private nameInterned(b: Buffer, a: number, z: number, names: ByteInterner): string {
    return findByte(b, 0x25, a, z) < 0 ? names.cut(b, a, z) : names.of(decodeField(b, a, z));
  }
}

