// IPv4 and IPv6 headers, then the transport. One function per family; the
// transport dispatch is shared. The packet is b[off..end) (the captured
// bytes); `wireLength` is its length on the wire, which may be more.

import { decodeIcmp, decodeIcmp6 } from './icmp.js';
import { NetworkLayer, type Transport } from './packet.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;

/** The network layer, or what tcpdump says of a header it cannot use. */
export type NetResult = NetworkLayer | string;

function decodeTransport(proto: number, b: Uint8Array, off: number, end: number, length: number): Transport | null {
  switch (proto) {
    case PROTO_TCP:
      return decodeTcp(b, off, end, length);
    case PROTO_UDP:
      return decodeUdp(b, off, end, length);
    case PROTO_ICMP:
      return decodeIcmp(b, off, end, length);
    case PROTO_ICMP6:
      return decodeIcmp6(b, off, end, length);
    default:
      return { kind: 'other', proto, length };
  }
}

function attachTransport(net: NetworkLayer, b: Uint8Array, off: number, end: number): NetResult {
  net.transport = decodeTransport(net.proto, b, Math.min(off, end), end, net.transportLength);
  net.transportTruncated = net.transport === null;
  return net;
}

export function decodeIpv4(b: Uint8Array, off: number, end: number, wireLength: number): NetResult {
  if (end - off < 1) return '[|ip]';
  const version = b[off]! >> 4;
  if (version !== 4) return version === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${version} (invalid)`;
  if (end - off < 20) return '[|ip]';
  const hlen = (b[off]! & 0x0f) * 4;
  if (hlen < 20) return `bad-hlen ${hlen}`;
  const len = (b[off + 2]! << 8) | b[off + 3]!;
  if (len < hlen) return `bad-len ${len}`;
  const frag = (b[off + 6]! << 8) | b[off + 7]!;
  const net = new NetworkLayer(4, b, off + 12, off + 16, b[off + 9]!, len > wireLength ? len - wireLength : 0, len - hlen);
  if ((frag & 0x1fff) !== 0) {
    net.laterFragment = true;
    return net;
  }
  return attachTransport(net, b, off + hlen, Math.min(off + len, end));
}

const HOPOPTS = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const DSTOPTS = 60;
/** More extension headers than this is not a packet anyone sends in good faith. */
const MAX_EXTENSIONS = 16;

export function decodeIpv6(b: Uint8Array, off: number, end: number, wireLength: number): NetResult {
  if (end - off < 1) return '[|ip6]';
  const version = b[off]! >> 4;
  if (version !== 6) return `IP6, wrong version ${version} (invalid)`;
  if (end - off < 40) return '[|ip6]';
  const plen = (b[off + 4]! << 8) | b[off + 5]!;
  const len = plen + 40;
  const net = new NetworkLayer(6, b, off + 8, off + 24, b[off + 6]!, len > wireLength ? len - wireLength : 0, plen);
  const stop = Math.min(off + len, end);
  let cp = off + 40;
  for (let hops = 0; hops < MAX_EXTENSIONS; hops++) {
    const nh = net.proto;
    if (nh !== HOPOPTS && nh !== DSTOPTS && nh !== ROUTING && nh !== FRAGMENT) return attachTransport(net, b, cp, stop);
    if (cp + 2 > stop) break;
    const ext = (net.extensions ??= []);
    if (nh === FRAGMENT) {
      if (cp + 8 > stop) break;
      const fragOffset = ((b[cp + 2]! << 8) | b[cp + 3]!) & 0xfff8;
      ext.push(`frag (${fragOffset}|${len - (cp - off) - 8})`);
      net.proto = b[cp]!;
      net.transportLength -= 8;
      cp += 8;
      if (fragOffset !== 0) {
        net.laterFragment = true;
        return net;
      }
      continue;
    }
    const advance = (b[cp + 1]! + 1) * 8;
    if (nh === ROUTING) {
      if (cp + 4 > stop) break;
      ext.push(`srcrt (len=${b[cp + 1]}, type=${b[cp + 2]}, segleft=${b[cp + 3]})`);
    } else ext.push(nh === HOPOPTS ? 'HBH' : 'DSTOPT');
    net.proto = b[cp]!;
    net.transportLength -= advance;
    cp += advance;
  }
  net.transportTruncated = true;
  return net;
}
