// One captured frame to a Packet: the link layer (pflog, raw IP, loopback,
// Ethernet) picks the network decoder. NFLOG joins here in its own module.

import { NetworkLayer, type IcmpMessage, type Packet, type Reusable, type TcpSegment, type UdpDatagram } from './packet.js';
import { PflogHeader, decodePflog, familyOf } from './pflog.js';
import { NflogHeader, decodeNflog, nflogFamily } from './nflog.js';
import { decodeIpv4, decodeIpv6, type NetResult } from './ip.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_PFLOG = 117;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_NFLOG = 239;

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

function byVersion(b: Uint8Array, off: number, end: number, wire: number, r?: Reusable): NetResult {
  if (end - off < 1) return ' [|ip]'; // tcpdump's truncation marks start with a space
  return b[off]! >> 4 === 6 ? decodeIpv6(b, off, end, wire, r) : decodeIpv4(b, off, end, wire, r);
}

function byFamily(family: 4 | 6 | 0, b: Uint8Array, off: number, end: number, wire: number, what: string, r?: Reusable): NetResult {
  if (family === 4) return decodeIpv4(b, off, end, wire, r);
  if (family === 6) return decodeIpv6(b, off, end, wire, r);
  return what;
}

/** A set of objects for decodeFrame to refill (see Reusable). */
export function reusable(): Reusable {
  return {
    packet: { tsSec: 0, tsUsec: 0, wireLength: 0, capturedLength: 0, pflog: null, nflog: null, net: null, problem: null },
    pflog: new PflogHeader(),
    nflog: new NflogHeader(),
    net: new NetworkLayer(),
    tcp: { kind: 'tcp' } as TcpSegment,
    udp: { kind: 'udp' } as UdpDatagram,
    icmp: { kind: 'icmp' } as IcmpMessage,
    other: { kind: 'other', proto: 0, length: 0 },
  };
}

/**
 * Decodes one frame. With `r`, the Packet and its layers are r's objects,
 * refilled: valid until the next call with the same `r`.
 */
export function decodeFrame(f: Frame, r?: Reusable): Packet {
  const p: Packet = r?.packet ?? ({} as Packet);
  p.tsSec = f.tsSec;
  p.tsUsec = f.tsUsec;
  p.wireLength = f.wireLength;
  p.capturedLength = f.end - f.start;
  p.pflog = null;
  p.nflog = null;
  p.net = null;
  p.problem = null;
  let res: NetResult;
  const d = f.bytes;
  const start = f.start;
  const end = f.end;
  switch (f.linktype) {
    case LINKTYPE_PFLOG: {
      const h = decodePflog(d, start, end, f.littleEndian, r?.pflog);
      if (typeof h === 'string') {
        p.problem = h;
        return p;
      }
      p.pflog = h;
      const hb = h.headerBytes;
      res = byFamily(familyOf(h.af), d, start + hb, end, f.wireLength - hb, `unknown address family ${h.af}, length ${f.wireLength - hb}`, r);
      break;
    }
    case LINKTYPE_NFLOG: {
      const h = decodeNflog(d, start, end, f.littleEndian, r?.nflog);
      if (typeof h === 'string') {
        p.problem = h;
        return p;
      }
      p.nflog = h;
      if (h.tsSec >= 0) {
        p.tsSec = h.tsSec;
        p.tsUsec = h.tsUsec;
      }
      if (h.problem !== null || h.payloadOffset < 0) {
        p.problem = h.problem ?? 'no packet';
        return p;
      }
      const family = nflogFamily(h);
      res = family === 0
        ? byVersion(d, h.payloadOffset, h.payloadEnd, h.payloadLength, r)
        : byFamily(family, d, h.payloadOffset, h.payloadEnd, h.payloadLength, '', r);
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      res = byVersion(d, start, end, f.wireLength, r);
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
      res = byFamily(familyOf(af), d, start + 4, end, f.wireLength - 4, `unknown address family ${af}`, r);
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
      if (type === 0x0800) res = decodeIpv4(d, off, end, wire, r);
      else if (type === 0x86dd) res = decodeIpv6(d, off, end, wire, r);
      else res = type < 0 ? '[|ether]' : `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${f.wireLength}`;
      break;
    }
    default:
      p.problem = `unsupported link type ${f.linktype}, length ${f.wireLength}`;
      return p;
  }
  if (typeof res === 'string') p.problem = res;
  else p.net = res;
  return p;
}
