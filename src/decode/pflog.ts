// The pflog header (LINKTYPE_PFLOG, 117) that pf prepends to each logged
// packet. Its length byte says which OS wrote it: 61 (NetBSD, macOS, older
// systems), 69 (FreeBSD, adds ridentifier), 100 (OpenBSD, adds the rewritten
// addresses). The common prefix is the same everywhere; the names of actions
// and reasons beyond the shared ones depend on the OS, as in tcpdump upstream.

import { escapeCString } from '../format/escape.js';

export type PflogFlavor = 'freebsd' | 'openbsd' | 'generic';

export interface PflogHeader {
  /** the length byte as written */
  length: number;
  /** bytes to skip to the packet: length rounded up to 4 (BPF_WORDALIGN) */
  headerBytes: number;
  flavor: PflogFlavor;
  af: number;
  action: number;
  reason: number;
  dir: number;
  /** escaped, printable */
  ifname: string;
  /** escaped, printable; '' outside an anchor */
  ruleset: string;
  rulenr: number;
  subrulenr: number;
  /** uid of the socket owner, or null when pf did not know it (UID_MAX) */
  uid: number | null;
  /** FreeBSD's rule identifier, or null (absent or 0) */
  ridentifier: number | null;
}

/** tcpdump rejects shorter headers as invalid; so do we. */
export const MIN_PFLOG_HEADER = 45;
const IFNAMSIZ = 16;
const RULESET_SIZE = 16;
const UID_MAX = 0xffffffff;

export type PflogResult = { ok: true; header: PflogHeader } | { ok: false; error: string };

function flavorOf(length: number): PflogFlavor {
  if (length === 69) return 'freebsd';
  if (length === 100) return 'openbsd';
  return 'generic';
}

/**
 * Decodes the header at the start of `frame`. `hostLittleEndian` is the byte
 * order of the capturing host (uid is stored in host order), taken from the
 * pcap file's own byte order.
 */
export function decodePflog(frame: Uint8Array, hostLittleEndian: boolean): PflogResult {
  if (frame.length < 1) return { ok: false, error: '[|pflog]' };
  const length = frame[0]!;
  if (length < MIN_PFLOG_HEADER) return { ok: false, error: '[pflog: invalid header length!]' };
  const headerBytes = (length + 3) & ~3;
  if (frame.length < headerBytes || frame.length < 61) return { ok: false, error: '[|pflog]' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const uid = view.getUint32(44, hostLittleEndian);
  const flavor = flavorOf(length);
  let ridentifier: number | null = null;
  if (flavor === 'freebsd' && frame.length >= 68) {
    const r = view.getUint32(64, false);
    if (r !== 0) ridentifier = r;
  }
  return {
    ok: true,
    header: {
      length,
      headerBytes,
      flavor,
      af: frame[1]!,
      action: frame[2]!,
      reason: frame[3]!,
      dir: frame[60]!,
      ifname: escapeCString(frame, 4, IFNAMSIZ),
      ruleset: escapeCString(frame, 20, RULESET_SIZE),
      rulenr: view.getUint32(36, false),
      subrulenr: view.getUint32(40, false),
      uid: uid === UID_MAX ? null : uid,
      ridentifier,
    },
  };
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
