// One captured frame to a Packet: the link layer (pflog, raw IP, loopback,
// Ethernet) picks the network decoder. NFLOG joins here in its own module.

import type { Packet } from './packet.js';
import { decodePflog, familyOf } from './pflog.js';
import { decodeIpv4, decodeIpv6, type NetResult } from './ip.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_PFLOG = 117;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;

export interface Frame {
  linktype: number;
  tsSec: number;
  tsUsec: number;
  /** the captured bytes are bytes[start..end) */
  bytes: Uint8Array;
  start: number;
  end: number;
  /** length on the wire */
  wireLength: number;
  /** byte order of the capturing host, for host-order fields */
  littleEndian: boolean;
}

function byVersion(b: Uint8Array, off: number, end: number, wire: number): NetResult {
  if (end - off < 1) return ' [|ip]'; // tcpdump's truncation marks start with a space
  return b[off]! >> 4 === 6 ? decodeIpv6(b, off, end, wire) : decodeIpv4(b, off, end, wire);
}

function byFamily(family: 4 | 6 | 0, b: Uint8Array, off: number, end: number, wire: number, what: string): NetResult {
  if (family === 4) return decodeIpv4(b, off, end, wire);
  if (family === 6) return decodeIpv6(b, off, end, wire);
  return what;
}

export function decodeFrame(f: Frame): Packet {
  const p: Packet = {
    tsSec: f.tsSec,
    tsUsec: f.tsUsec,
    wireLength: f.wireLength,
    capturedLength: f.end - f.start,
    pflog: null,
    net: null,
    problem: null,
  };
  let r: NetResult;
  const d = f.bytes;
  const start = f.start;
  const end = f.end;
  switch (f.linktype) {
    case LINKTYPE_PFLOG: {
      const h = decodePflog(d, start, end, f.littleEndian);
      if (typeof h === 'string') {
        p.problem = h;
        return p;
      }
      p.pflog = h;
      const hb = h.headerBytes;
      r = byFamily(familyOf(h.af), d, start + hb, end, f.wireLength - hb, `unknown address family ${h.af}, length ${f.wireLength - hb}`);
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      r = byVersion(d, start, end, f.wireLength);
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (end - start < 4) {
        p.problem = '[|null]';
        return p;
      }
      // The family is in host order for DLT_NULL, network order for DLT_LOOP.
      const be = ((d[start]! << 24) | (d[start + 1]! << 16) | (d[start + 2]! << 8) | d[start + 3]!) >>> 0;
      const le = ((d[start + 3]! << 24) | (d[start + 2]! << 16) | (d[start + 1]! << 8) | d[start]!) >>> 0;
      const af = f.linktype === LINKTYPE_LOOP || !f.littleEndian ? be : le;
      r = byFamily(familyOf(af), d, start + 4, end, f.wireLength - 4, `unknown address family ${af}`);
      break;
    }
    case LINKTYPE_ETHERNET: {
      let off = start + 12;
      let type = end - start >= 14 ? (d[off]! << 8) | d[off + 1]! : -1;
      while ((type === 0x8100 || type === 0x88a8) && end >= off + 6) {
        off += 4;
        type = (d[off]! << 8) | d[off + 1]!;
      }
      off += 2;
      const wire = f.wireLength - (off - start);
      if (type === 0x0800) r = decodeIpv4(d, off, end, wire);
      else if (type === 0x86dd) r = decodeIpv6(d, off, end, wire);
      else r = type < 0 ? '[|ether]' : `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${f.wireLength}`;
      break;
    }
    default:
      p.problem = `unsupported link type ${f.linktype}, length ${f.wireLength}`;
      return p;
  }
  if (typeof r === 'string') p.problem = r;
  else p.net = r;
  return p;
}
