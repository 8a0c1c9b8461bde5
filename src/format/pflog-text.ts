// The pflog part of a line, as tcpdump prints it:
//   rule 3.scanners/web.0/0(match): block in on vtnet0:
// with the per-rule cache that makes it cheap.

import { IFNAME_OFFSET, IFNAMSIZ, RULESET_OFFSET, RULESET_SIZE, actionName, directionName, reasonText, type PflogHeader } from '../decode/pflog.js';
import type { AsciiWriter } from './ascii-writer.js';

/**
 * The pflog part of the line depends only on the header bytes (not on the
 * pids in it), and a firewall logs through a few rules: the text is kept per
 * rule number with the header it came from, and reused while the bytes match.
 * The entries' buffers are allocated once per rule, never per packet.
 */
interface PrefixEntry {
  header: Uint8Array;
  /** header bytes 0..47 as 12 words, for a quick compare */
  words: Int32Array;
  headerLength: number;
  /** the text, exactly */
  prefix: Uint8Array;
}

const MAX_CACHED_RULES = 256;
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

function matches(e: PrefixEntry, h: PflogHeader): boolean {
  const n = h.headerBytes;
  if (n !== e.headerLength) return false;
  const b = h.bytes;
  const o = h.offset;
  const hb = e.header;
  // what the text depends on: everything up to the uid, the direction, and
  // FreeBSD's rule identifier (not the pids, nor OpenBSD's rewritten addresses)
  const v = viewOf(b);
  const w = e.words;
  for (let i = 0; i < 12; i++) if (v.getInt32(o + 4 * i, true) !== w[i]) return false;
  if (b[o + 60] !== hb[60]) return false;
  if (n >= 68) for (let i = 64; i < 68; i++) if (b[o + i] !== hb[i]) return false;
  return true;
}

export function writePflog(w: AsciiWriter, h: PflogHeader): void {
  let e = prefixCache.get(h.rulenr);
  if (e !== undefined && matches(e, h)) {
    w.buf.set(e.prefix, w.pos); // exactly the text: one memcpy
    w.pos += e.prefix.length;
    return;
  }
  const start = w.pos;
  writePflogUncached(w, h);
  const n = h.headerBytes;
  const len = w.pos - start;
  if (n > 128 || len > 512) return; // odd headers, escaped names: not worth keeping
  if (e === undefined) {
    if (prefixCache.size >= MAX_CACHED_RULES) prefixCache.clear();
    e = { header: new Uint8Array(128), words: new Int32Array(12), headerLength: 0, prefix: new Uint8Array(0) };
    prefixCache.set(h.rulenr, e);
  }
  for (let i = 0; i < n; i++) e.header[i] = h.bytes[h.offset + i]!;
  const v = viewOf(h.bytes);
  for (let i = 0; i < 12; i++) e.words[i] = v.getInt32(h.offset + 4 * i, true);
  e.headerLength = n;
  e.prefix = new Uint8Array(w.buf.subarray(start, start + len)); // a copy of exactly the text (misses only)
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
