// IPv4 and IPv6 headers, then the transport. One function per family; the
// transport dispatch is shared. The packet is b[off..end) (the captured
// bytes); `wireLength` is its length on the wire, which may be more.

import { ipv4ToString, ipv6ToString } from './address.js';
import { decodeIcmp, decodeIcmp6 } from './icmp.js';
import { NetworkLayer, type Reusable, type Transport } from './packet.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;

/** The network layer, or what tcpdump says of a header it cannot use. */
export type NetResult = NetworkLayer | string;

// `fragmented`: a first fragment (IPv4 MF, or an IPv6 fragment header), where
// UDP's length may rightly exceed what this packet carries.
function decodeTransport(proto: number, b: Uint8Array, off: number, end: number, length: number, fragmented: boolean, r?: Reusable): Transport | null {
  switch (proto) {
    case PROTO_TCP:
      return decodeTcp(b, off, end, length, r?.tcp);
    case PROTO_UDP:
      return decodeUdp(b, off, end, length, fragmented, r?.udp);
    case PROTO_ICMP:
      return decodeIcmp(b, off, end, length, r?.icmp);
    case PROTO_ICMP6:
      return decodeIcmp6(b, off, end, length, r?.icmp);
    default: {
      const o = r?.other ?? { kind: 'other', proto, length };
      o.proto = proto;
      o.length = length;
      return o;
    }
  }
}

function attachTransport(net: NetworkLayer, b: Uint8Array, off: number, end: number, fragmented: boolean, r?: Reusable): NetResult {
  net.transport = decodeTransport(net.proto, b, Math.min(off, end), end, net.transportLength, fragmented, r);
  net.transportTruncated = net.transport === null;
  return net;
}

// Fixed (differential test): tcpdump's truncation marks start with a space
// (" [|ip]", " [|ip6]"), and IPv6's version check is "version error: N != 6",
// made after the 40-byte header is known to be there.

/** Protocols whose tcpdump printer prints the addresses itself (with ports). */
function printsOwnAddresses(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP || proto === 33 /* DCCP */ || proto === 132 /* SCTP */;
}

export function decodeIpv4(b: Uint8Array, off: number, end: number, wireLength: number, r?: Reusable): NetResult {
  if (end - off < 1) return ' [|ip]';
  const version = b[off]! >> 4;
  if (version !== 4) return version === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${version} (invalid)`;
  if (end - off < 20) return ' [|ip]';
  const hlen = (b[off]! & 0x0f) * 4;
  if (hlen < 20) return `bad-hlen ${hlen}`;
  const len = (b[off + 2]! << 8) | b[off + 3]!;
  if (len < hlen) return `bad-len ${len}`;
  const frag = (b[off + 6]! << 8) | b[off + 7]!;
  const net = (r?.net ?? new NetworkLayer()).init(4, b, off + 12, off + 16, b[off + 9]!, len > wireLength ? len - wireLength : 0, len - hlen);
  if ((frag & 0x1fff) !== 0) {
    net.laterFragment = true;
    return net;
  }
  if (end - off < hlen) {
    // Fixed (differential test): IP options cut by the snaplen. tcpdump
    // prints the addresses (unless the transport printer would), then this.
    const proto = b[off + 9]!;
    let s = net.missingBytes > 0 ? `truncated-ip - ${net.missingBytes} bytes missing! ` : '';
    if (!printsOwnAddresses(proto)) s += `${ipv4ToString(b, off + 12)} > ${ipv4ToString(b, off + 16)}: `;
    return `${s} [remaining caplen(${Math.min(end, off + len) - off}) < header length(${hlen})] [|ip]`;
  }
  const stop = Math.min(off + len, end);
  let cp = off + hlen;
  for (let hops = 0; net.proto === PROTO_AH; hops++) {
    if (hops === MAX_EXTENSIONS) return stopAt(net, ' [|ah]');
    cp = authHeader(net, b, cp, stop);
    if (cp < 0) return net;
  }
  return attachTransport(net, b, cp, stop, (frag & 0x2000) !== 0, r);
}

const PROTO_AH = 51;

/**
 * An IPsec authentication header. tcpdump prints it and looks through it
 * ("AH(spi=0x00001234,seq=0x5,icv=0x...): 1234 > 22: Flags [S]"), and so must
 * we: the segment inside decides whether the filter's syn mode counts the
 * line. Returns the offset after it, or -1 when the line ends here.
 */
function authHeader(net: NetworkLayer, b: Uint8Array, cp: number, stop: number): number {
  const ext = (net.extensions ??= []);
  if (cp + 8 > stop) {
    stopAt(net, ' [|ah]');
    return -1;
  }
  const spi = `AH(spi=0x${be32hex(b, cp + 4).padStart(8, '0')},`;
  if (cp + 12 > stop) {
    stopAt(net, `${spi} [|ah]`);
    return -1;
  }
  const length = (b[cp + 1]! + 2) * 4;
  let text = `${spi}seq=0x${be32hex(b, cp + 8)},icv=0x`;
  const icvEnd = Math.min(cp + length, stop);
  for (let i = cp + 12; i < icvEnd; i++) text += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  if (cp + length > stop) {
    stopAt(net, `${text} [|ah]`);
    return -1;
  }
  ext.push(`${text}):`);
  net.proto = b[cp]!;
  net.transportLength -= length;
  return cp + length;
}

function be32hex(b: Uint8Array, o: number): string {
  return (((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0).toString(16);
}

const HOPOPTS = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const DSTOPTS = 60;
/** More extension headers than this is not a packet anyone sends in good faith. */
const MAX_EXTENSIONS = 16;

function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** tcpdump computes a fragment's length in a size_t: a negative one wraps. */
function unsigned64(v: number): string {
  return v >= 0 ? String(v) : (18446744073709551616n + BigInt(v)).toString();
}

function stopAt(net: NetworkLayer, text: string): NetworkLayer {
  net.stop = text;
  return net;
}

/**
 * tcpdump 4.99's rt6_print for the routing header at b[cp..): its text, and
 * whether decoding goes on after it (false: the text ends the line).
 */
function routingText(b: Uint8Array, cp: number, snapEnd: number): { text: string; more: boolean } {
  const cut = (s: string) => ({ text: `${s} [|rt6]`, more: false });
  let s = 'RT6';
  if (cp + 2 > snapEnd) return cut(s);
  const len = b[cp + 1]!;
  s += ` (len=${len}`;
  if (cp + 3 > snapEnd) return cut(s);
  const type = b[cp + 2]!;
  s += `, type=${type}`;
  if (type === 0) s += ' [Deprecated]';
  if (cp + 4 > snapEnd) return cut(s);
  s += `, segleft=${b[cp + 3]}`;
  if (type === 4) {
    // segment routing header
    if (cp + 5 > snapEnd) return cut(s);
    s += `, last-entry=${b[cp + 4]}`;
    if (cp + 6 > snapEnd) return cut(s);
    if (b[cp + 5] !== 0) s += `, flags=0x${b[cp + 5]!.toString(16)}`;
    if (cp + 8 > snapEnd) return cut(s);
    s += `, tag=${be16(b, cp + 6).toString(16)}`;
  } else if (type === 0 || type === 2) {
    if (cp + 8 > snapEnd) return cut(s);
  } else return { text: `${s} (unknown type) (invalid)`, more: false };
  if (len % 2 === 1) return { text: `${s} (invalid length ${len}) (invalid)`, more: false };
  for (let i = 0; i < len >> 1; i++) {
    const a = cp + 8 + 16 * i;
    if (a + 16 > snapEnd) return cut(s);
    s += `, [${i}]${ipv6ToString(b, a)}`;
  }
  return { text: `${s})`, more: true };
}

export function decodeIpv6(b: Uint8Array, off: number, end: number, wireLength: number, r?: Reusable): NetResult {
  if (end - off < 40) return ' [|ip6]';
  const version = b[off]! >> 4;
  if (version !== 6) return `version error: ${version} != 6`;
  const plen = be16(b, off + 4);
  const len = plen + 40;
  const net = (r?.net ?? new NetworkLayer()).init(6, b, off + 8, off + 24, b[off + 6]!, len > wireLength ? len - wireLength : 0, plen);
  // tcpdump decodes no further than the payload length says, nor past the capture
  const snapEnd = Math.min(off + len, end);
  let cp = off + 40;
  let fragmented = false;
  let sawHbh = false;
  // Fixed (differential test), as tcpdump 4.99.3 does it: an extension
  // header is printed only when it was captured whole (else " [|hbhopt]",
  // " [|dstopt]", " [|frag6]"), so the transport length that follows never
  // goes negative (it did, and printed a non-ASCII byte); hop-by-hop must come
  // first and once; routing headers print as "RT6 (len=.., type=.., segleft=..
  // [, addresses])", not 4.9's "srcrt (...)"; a first fragment whose header
  // ends the capture ends the line quietly.
  for (let hops = 0; hops < MAX_EXTENSIONS; hops++) {
    const nh = net.proto;
    if (nh === PROTO_AH) {
      cp = authHeader(net, b, cp, snapEnd);
      if (cp < 0) return net;
      continue;
    }
    if (nh !== HOPOPTS && nh !== DSTOPTS && nh !== ROUTING && nh !== FRAGMENT) return attachTransport(net, b, cp, snapEnd, fragmented, r);
    const ext = (net.extensions ??= []);
    let advance: number;
    if (nh === HOPOPTS || nh === DSTOPTS) {
      if (nh === HOPOPTS && sawHbh) return stopAt(net, '[The Hop-by-Hop Options header was already found] (invalid)');
      if (nh === HOPOPTS && hops > 0) return stopAt(net, "[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)");
      if (cp + 2 > snapEnd || cp + (b[cp + 1]! + 1) * 8 > snapEnd) return stopAt(net, nh === HOPOPTS ? ' [|hbhopt]' : ' [|dstopt]');
      advance = (b[cp + 1]! + 1) * 8;
      ext.push(nh === HOPOPTS ? 'HBH' : 'DSTOPT');
      if (nh === HOPOPTS) sawHbh = true;
    } else if (nh === FRAGMENT) {
      if (cp + 4 > snapEnd) return stopAt(net, ' [|frag6]');
      const fragOffset = be16(b, cp + 2) & 0xfff8;
      ext.push(`frag (${fragOffset}|${unsigned64(len - (cp - off) - 8)})`);
      if (fragOffset !== 0) {
        net.laterFragment = true;
        return net;
      }
      if (snapEnd <= cp + 8) return stopAt(net, '');
      fragmented = true;
      advance = 8;
    } else {
      // tcpdump checks the routing header's first byte before rt6_print
      if (cp + 1 > snapEnd) return stopAt(net, ' [|ip6]');
      const r = routingText(b, cp, snapEnd);
      if (!r.more) return stopAt(net, r.text);
      ext.push(r.text);
      advance = (b[cp + 1]! + 1) * 8;
    }
    // a header claiming more than the payload length has left
    if (advance > off + len - cp) return stopAt(net, ' [|ip6]');
    net.proto = b[cp]!;
    net.transportLength -= advance;
    cp += advance;
  }
  return stopAt(net, ' [|ip6]');
}
