// The pflog part of a line, as tcpdump prints it:
//   rule 3.scanners/web.0/0(match): block in on vtnet0:
// with the per-rule cache that makes it cheap.

import { IFNAME_OFFSET, IFNAMSIZ, RULESET_OFFSET, RULESET_SIZE, actionName, directionName, reasonText, type PflogHeader } from '../decode/pflog.js';
import type { AsciiWriter } from './ascii-writer.js';

/**
 * The pflog part of the line depends only on the header bytes (not on the
 * pids in it), and a firewall mostly logs runs of packets through the same
 * rule: the text is kept per rule number with the header words it came from,
 * and reused while they match. A miss (rule, interface or action changed) must
 * cost little more than no cache at all: it records the words and copies the
 * text into the entry's own buffer, allocated once per rule, never per packet.
 */
interface PrefixEntry {
  /** header bytes 0..47 as 12 words: length, af, action, reason, ifname, ruleset, rule and sub-rule numbers */
  words: Int32Array;
  /** the direction byte (60) */
  dir: number;
  /** FreeBSD's rule identifier (bytes 64..67), 0 for shorter headers */
  rid: number;
  headerLength: number;
  /** the text, exactly, in prefix[0..prefixLength) */
  prefix: Uint8Array;
  /** 0: nothing kept */
  prefixLength: number;
}

const MAX_CACHED_RULES = 256;
/** longer texts (escaped names) are written each time */
const MAX_PREFIX = 256;
const prefixCache = new Map<number, PrefixEntry>();

let viewBytes: Uint8Array | null = null;
let view: DataView | null = null;

/** A DataView on the capture bytes, made once per buffer (the stream reuses one). */
function viewOf(b: Uint8Array): DataView {
  if (b !== viewBytes) {
    viewBytes = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return view!;
}

function matches(e: PrefixEntry, h: PflogHeader, v: DataView): boolean {
  const n = h.headerBytes;
  if (n !== e.headerLength) return false;
  const o = h.offset;
  // what the text depends on: everything up to the uid, the direction, and
  // FreeBSD's rule identifier (not the pids, nor OpenBSD's rewritten addresses)
  const w = e.words;
  for (let i = 0; i < 12; i++) if (v.getInt32(o + 4 * i, true) !== w[i]) return false;
  if (h.bytes[o + 60] !== e.dir) return false;
  return n < 68 || v.getInt32(o + 64, true) === e.rid;
}

export function writePflog(w: AsciiWriter, h: PflogHeader): void {
  const v = viewOf(h.bytes);
  let e = prefixCache.get(h.rulenr);
  if (e !== undefined && e.prefixLength > 0 && matches(e, h, v)) {
    const len = e.prefixLength;
    const src = e.prefix;
    const b = w.buf;
    const p = w.pos;
    for (let i = 0; i < len; i++) b[p + i] = src[i]!;
    w.pos = p + len;
    return;
  }
  const start = w.pos;
  writePflogUncached(w, h);
  const n = h.headerBytes;
  const len = w.pos - start;
  if (e === undefined) {
    if (prefixCache.size >= MAX_CACHED_RULES) prefixCache.clear();
    e = { words: new Int32Array(12), dir: 0, rid: 0, headerLength: 0, prefix: new Uint8Array(MAX_PREFIX), prefixLength: 0 };
    prefixCache.set(h.rulenr, e);
  }
  if (n > 128 || len > MAX_PREFIX) {
    e.prefixLength = 0; // odd headers, escaped names: not worth keeping
    return;
  }
  const o = h.offset;
  for (let i = 0; i < 12; i++) e.words[i] = v.getInt32(o + 4 * i, true);
  e.dir = h.bytes[o + 60]!;
  e.rid = n >= 68 ? v.getInt32(o + 64, true) : 0;
  e.headerLength = n;
  const b = w.buf;
  const dst = e.prefix;
  for (let i = 0; i < len; i++) dst[i] = b[start + i]!;
  e.prefixLength = len;
}

function writePflogUncached(w: AsciiWriter, h: PflogHeader): void {
  w.str('rule ');
  w.num(h.rulenr);
  if (h.subrulenr !== 0xffffffff) {
    w.byte(0x2e);
    w.cstring(h.bytes, h.offset + RULESET_OFFSET, RULESET_SIZE);
    w.byte(0x2e);
    w.num(h.subrulenr);
  }
  w.byte(0x2f);
  w.str(reasonText(h));
  // FreeBSD's tcpdump adds these; so do we for FreeBSD headers.
  if (h.flavor === 'freebsd') {
    if (h.uid !== null) {
      w.str(' [uid ');
      w.num(h.uid);
      w.byte(0x5d);
    }
    if (h.ridentifier !== null) {
      w.str(' [ridentifier ');
      w.num(h.ridentifier);
      w.byte(0x5d);
    }
  }
  w.str(': ');
  w.str(actionName(h));
  w.byte(0x20);
  w.str(directionName(h));
  w.str(' on ');
  w.cstring(h.bytes, h.offset + IFNAME_OFFSET, IFNAMSIZ);
  w.str(': ');
}
