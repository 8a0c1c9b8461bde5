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
  /** captured bytes */
  data: Uint8Array;
  /** length on the wire */
  wireLength: number;
  /** byte order of the capturing host, for host-order fields */
  littleEndian: boolean;
}

function byVersion(b: Uint8Array, wire: number): NetResult {
  if (b.length < 1) return { net: null, problem: '[|ip]' };
  return b[0]! >> 4 === 6 ? decodeIpv6(b, wire) : decodeIpv4(b, wire);
}

function byFamily(family: 4 | 6 | 0, b: Uint8Array, wire: number, what: string): NetResult {
  if (family === 4) return decodeIpv4(b, wire);
  if (family === 6) return decodeIpv6(b, wire);
  return { net: null, problem: what };
}

export function decodeFrame(f: Frame): Packet {
  const p: Packet = {
    tsSec: f.tsSec,
    tsUsec: f.tsUsec,
    wireLength: f.wireLength,
    capturedLength: f.data.length,
    pflog: null,
    net: null,
    problem: null,
  };
  let r: NetResult;
  const d = f.data;
  switch (f.linktype) {
    case LINKTYPE_PFLOG: {
      const h = decodePflog(d, f.littleEndian);
      if (!h.ok) {
        p.problem = h.error;
        return p;
      }
      p.pflog = h.header;
      const off = h.header.headerBytes;
      r = byFamily(familyOf(h.header.af), d.subarray(off), f.wireLength - off, `unknown address family ${h.header.af}, length ${f.wireLength - off}`);
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      r = byVersion(d, f.wireLength);
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (d.length < 4) {
        p.problem = '[|null]';
        return p;
      }
      // The family is in host order for DLT_NULL, network order for DLT_LOOP.
      const v = new DataView(d.buffer, d.byteOffset, 4);
      const af = f.linktype === LINKTYPE_LOOP ? v.getUint32(0, false) : v.getUint32(0, f.littleEndian);
      r = byFamily(familyOf(af), d.subarray(4), f.wireLength - 4, `unknown address family ${af}`);
      break;
    }
    case LINKTYPE_ETHERNET: {
      let off = 12;
      let type = d.length >= 14 ? (d[12]! << 8) | d[13]! : -1;
      while ((type === 0x8100 || type === 0x88a8) && d.length >= off + 6) {
        off += 4;
        type = (d[off]! << 8) | d[off + 1]!;
      }
      off += 2;
      if (type === 0x0800) r = decodeIpv4(d.subarray(off), f.wireLength - off);
      else if (type === 0x86dd) r = decodeIpv6(d.subarray(off), f.wireLength - off);
      else r = { net: null, problem: type < 0 ? '[|ether]' : `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${f.wireLength}` };
      break;
    }
    default:
      p.problem = `unsupported link type ${f.linktype}, length ${f.wireLength}`;
      return p;
  }
  p.net = r.net;
  p.problem = r.problem;
  return p;
}
