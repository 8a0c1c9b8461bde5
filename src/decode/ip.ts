// IPv4 and IPv6 headers, then the transport. One function per family; the
// transport dispatch is shared. `wireLength` is the IP packet's length on the
// wire (what the capture says), `b` the bytes actually captured.

import { ipv4ToString, ipv6ToString } from './address.js';
import { decodeIcmp, decodeIcmp6 } from './icmp.js';
import type { NetworkLayer, Transport } from './packet.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;

export type NetResult = { net: NetworkLayer; problem: null } | { net: NetworkLayer | null; problem: string };

function decodeTransport(proto: number, b: Uint8Array, length: number): Transport | null {
  switch (proto) {
    case PROTO_TCP:
      return decodeTcp(b, length);
    case PROTO_UDP:
      return decodeUdp(b, length);
    case PROTO_ICMP:
      return decodeIcmp(b, length);
    case PROTO_ICMP6:
      return decodeIcmp6(b, length);
    default:
      return { kind: 'other', proto, length };
  }
}

function attachTransport(net: NetworkLayer, b: Uint8Array): void {
  net.transport = decodeTransport(net.proto, b, net.transportLength);
  net.transportTruncated = net.transport === null;
}

export function decodeIpv4(b: Uint8Array, wireLength: number): NetResult {
  if (b.length < 1) return { net: null, problem: '[|ip]' };
  const version = b[0]! >> 4;
  if (version !== 4) return { net: null, problem: version === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${version} (invalid)` };
  if (b.length < 20) return { net: null, problem: '[|ip]' };
  const hlen = (b[0]! & 0x0f) * 4;
  if (hlen < 20) return { net: null, problem: `bad-hlen ${hlen}` };
  const len = (b[2]! << 8) | b[3]!;
  if (len < hlen) return { net: null, problem: `bad-len ${len}` };
  const off = (b[6]! << 8) | b[7]!;
  const net: NetworkLayer = {
    family: 4,
    src: ipv4ToString(b, 12),
    dst: ipv4ToString(b, 16),
    proto: b[9]!,
    missingBytes: len > wireLength ? len - wireLength : 0,
    extensions: [],
    laterFragment: (off & 0x1fff) !== 0,
    transportLength: len - hlen,
    transport: null,
    transportTruncated: false,
  };
  if (!net.laterFragment) attachTransport(net, b.subarray(Math.min(hlen, b.length), Math.min(len, b.length)));
  return { net, problem: null };
}

const HOPOPTS = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const DSTOPTS = 60;

export function decodeIpv6(b: Uint8Array, wireLength: number): NetResult {
  if (b.length < 1) return { net: null, problem: '[|ip6]' };
  const version = b[0]! >> 4;
  if (version !== 6) return { net: null, problem: `IP6, wrong version ${version} (invalid)` };
  if (b.length < 40) return { net: null, problem: '[|ip6]' };
  const plen = (b[4]! << 8) | b[5]!;
  const len = plen + 40;
  const net: NetworkLayer = {
    family: 6,
    src: ipv6ToString(b, 8),
    dst: ipv6ToString(b, 24),
    proto: b[6]!,
    missingBytes: len > wireLength ? len - wireLength : 0,
    extensions: [],
    laterFragment: false,
    transportLength: plen,
    transport: null,
    transportTruncated: false,
  };
  const end = Math.min(len, b.length);
  let cp = 40;
  for (let hops = 0; hops < 16; hops++) {
    const nh = net.proto;
    if (nh !== HOPOPTS && nh !== DSTOPTS && nh !== ROUTING && nh !== FRAGMENT) {
      attachTransport(net, b.subarray(Math.min(cp, end), end));
      return { net, problem: null };
    }
    if (cp + 2 > end) break;
    if (nh === FRAGMENT) {
      if (cp + 8 > end) break;
      const offset = ((b[cp + 2]! << 8) | b[cp + 3]!) & 0xfff8;
      const fragLen = len - (cp + 8);
      net.extensions.push(`frag (${offset}|${fragLen})`);
      net.proto = b[cp]!;
      net.transportLength -= 8;
      cp += 8;
      if (offset !== 0) {
        net.laterFragment = true;
        return { net, problem: null };
      }
      continue;
    }
    const advance = (b[cp + 1]! + 1) * 8;
    if (nh === ROUTING) {
      if (cp + 4 > end) break;
      net.extensions.push(`srcrt (len=${b[cp + 1]}, type=${b[cp + 2]}, segleft=${b[cp + 3]})`);
    } else net.extensions.push(nh === HOPOPTS ? 'HBH' : 'DSTOPT');
    net.proto = b[cp]!;
    net.transportLength -= advance;
    cp += advance;
  }
  net.transportTruncated = true;
  return { net, problem: null };
}
