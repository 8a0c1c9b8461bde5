// The pflog header (LINKTYPE_PFLOG, 117) that pf prepends to each logged
// packet. Its length byte says which OS wrote it: 61 (NetBSD, macOS, older
// systems), 69 (FreeBSD, adds ridentifier), 100 (OpenBSD, adds the rewritten
// addresses). The common prefix is the same everywhere; the names of actions
// and reasons beyond the shared ones depend on the OS, as in tcpdump upstream.

import { escapeCString } from '../format/escape.js';

export type PflogFlavor = 'freebsd' | 'openbsd' | 'generic';

export const IFNAMSIZ = 16;
export const RULESET_SIZE = 16;
/** Offsets of the two names in the header. */
export const IFNAME_OFFSET = 4;
export const RULESET_OFFSET = 20;

export class PflogHeader {
  /** the header's bytes; the names are read from here when asked for */
  bytes!: Uint8Array;
  offset!: number;
  /** the length byte as written */
  length!: number;
  flavor!: PflogFlavor;
  af!: number;
  action!: number;
  reason!: number;
  dir!: number;
  rulenr!: number;
  subrulenr!: number;
  /** uid of the socket owner, or null when pf did not know it (UID_MAX) */
  uid!: number | null;
  /** FreeBSD's rule identifier, or null (absent or 0) */
  ridentifier!: number | null;

  /** bytes to skip to the packet: length rounded up to 4 (BPF_WORDALIGN) */
  get headerBytes(): number {
    return (this.length + 3) & ~3;
  }

  /** escaped, printable */
  get ifname(): string {
    return escapeCString(this.bytes, this.offset + IFNAME_OFFSET, IFNAMSIZ);
  }

  /** escaped, printable; '' outside an anchor */
  get ruleset(): string {
    return escapeCString(this.bytes, this.offset + RULESET_OFFSET, RULESET_SIZE);
  }
}

/** tcpdump rejects shorter headers as invalid; so do we. */
export const MIN_PFLOG_HEADER = 45;
const UID_MAX = 0xffffffff;


function flavorOf(length: number): PflogFlavor {
  if (length === 69) return 'freebsd';
  if (length === 100) return 'openbsd';
  return 'generic';
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Decodes the header at b[off..end). `hostLittleEndian` is the byte order of
 * the capturing host (uid is stored in host order), taken from the pcap
 * file's own byte order. A string is what tcpdump says of a bad header.
 */
export function decodePflog(b: Uint8Array, off: number, end: number, hostLittleEndian: boolean, into?: PflogHeader): PflogHeader | string {
  // Fixed (differential test): tcpdump prints " [|pflog]", with the space.
  if (end - off < 1) return ' [|pflog]';
  const length = b[off]!;
  if (length < MIN_PFLOG_HEADER) return '[pflog: invalid header length!]';
  const headerBytes = (length + 3) & ~3;
  if (end - off < headerBytes || end - off < 61) return ' [|pflog]';
  const u = off + 44;
  const uid = hostLittleEndian ? ((b[u]! | (b[u + 1]! << 8) | (b[u + 2]! << 16) | (b[u + 3]! << 24)) >>> 0) : be32(b, u);
  const flavor = flavorOf(length);
  let ridentifier: number | null = null;
  if (flavor === 'freebsd') {
    const r = be32(b, off + 64);
    if (r !== 0) ridentifier = r;
  }
  const h = into ?? new PflogHeader();
  h.bytes = b;
  h.offset = off;
  h.length = length;
  h.flavor = flavor;
  h.af = b[off + 1]!;
  h.action = b[off + 2]!;
  h.reason = b[off + 3]!;
  h.dir = b[off + 60]!;
  h.rulenr = be32(b, off + 36);
  h.subrulenr = be32(b, off + 40);
  h.uid = uid === UID_MAX ? null : uid;
  h.ridentifier = ridentifier;
  return h;
}

const ACTIONS: readonly string[] = ['pass', 'block', 'scrub', '', 'nat', 'nonat', 'binat', 'nobinat', 'rdr', 'nordr', 'synproxy-drop'];
const ACTIONS_FREEBSD: Record<number, string> = { 11: 'defer', 12: 'match' };
const ACTIONS_OPENBSD: Record<number, string> = { 11: 'defer', 12: 'match', 13: 'divert', 14: 'rt', 15: 'afrt' };

const REASONS: readonly string[] = [
  'match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion',
  'ip-option', 'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy',
];
const REASONS_FREEBSD: Record<number, string> = { 15: 'map-failed' };
const REASONS_OPENBSD: Record<number, string> = { 15: 'translate', 16: 'no-route' };

const DIRECTIONS: readonly string[] = ['in/out', 'in', 'out'];

/** "block", "match" (FreeBSD 12), or tcpdump's "unkn(N)". */
export function actionName(h: PflogHeader): string {
  const extra = h.flavor === 'freebsd' ? ACTIONS_FREEBSD : h.flavor === 'openbsd' ? ACTIONS_OPENBSD : undefined;
  const name = ACTIONS[h.action] || extra?.[h.action];
  return name ? name : `unkn(${h.action})`;
}

/** The bare reason name ("match"), or null when unknown. */
export function reasonName(h: PflogHeader): string | null {
  const extra = h.flavor === 'freebsd' ? REASONS_FREEBSD : h.flavor === 'openbsd' ? REASONS_OPENBSD : undefined;
  return REASONS[h.reason] ?? extra?.[h.reason] ?? null;
}

const reasonTexts: Record<PflogFlavor, string[]> = { freebsd: [], openbsd: [], generic: [] };

/** tcpdump's reason text: "0(match)", or "unkn(N)" (built once per value and flavor). */
export function reasonText(h: PflogHeader): string {
  const cache = reasonTexts[h.flavor];
  let text = cache[h.reason];
  if (text === undefined) {
    const name = reasonName(h);
    text = cache[h.reason] = name !== null ? `${h.reason}(${name})` : `unkn(${h.reason})`;
  }
  return text;
}

/** "in", "out", "in/out", OpenBSD's "fwd", or "unkn(N)". */
export function directionName(h: PflogHeader): string {
  if (h.dir === 3 && h.flavor === 'openbsd') return 'fwd';
  return DIRECTIONS[h.dir] ?? `unkn(${h.dir})`;
}

/** Address families pf writes: AF_INET everywhere, AF_INET6 per OS. */
export function familyOf(af: number): 4 | 6 | 0 {
  if (af === 2) return 4;
  if (af === 24 || af === 28 || af === 30) return 6;
  return 0;
}
