// What the decoder produces: plain data, no text. Each layer's module fills
// its part; format/ turns a Packet into a tcpdump-style line or JSON. A layer
// that is truncated or malformed is marked (`truncated`, `bad...`) and the
// layers below it are absent; nothing throws.
//
// Addresses stay as offsets into the captured bytes until someone asks for
// the string (JSON does, the text printer writes the bytes directly), so a
// Packet refers to its frame's buffer: use it before the next frame arrives.

import { ipv4ToString, ipv6ToString } from './address.js';
import type { NflogHeader } from './nflog.js';
import type { PflogHeader } from './pflog.js';

export interface TcpSegment {
  kind: 'tcp';
  sport: number;
  dport: number;
  /** null when only the ports were captured */
  flags: number | null;
  seq: number;
  ack: number;
  win: number;
  urp: number;
  /** header length in bytes from the data-offset field */
  headerLength: number;
  /** where the options start in the frame bytes (-1: none), and the captured end (see walkTcpOptions) */
  optionsOffset: number;
  optionsEnd: number;
  /** payload bytes (transport length minus TCP header) */
  dataLength: number;
  /** header length field says less than 20 bytes */
  badHeaderLength: boolean;
}

export interface UdpDatagram {
  kind: 'udp';
  sport: number;
  dport: number;
  /** payload length from the UDP length field (minus 8), or null if not captured */
  length: number | null;
  /** UDP length field below 8 */
  badLength: number | null;
  /** the IP payload is shorter than a UDP header: tcpdump's "truncated-udp N" */
  shortLength: number | null;
  /** the UDP length claims more than the IP payload (not a fragment): the IP payload length minus 8, for "UDP, bad length N > M" */
  ipLength: number | null;
}

export interface IcmpMessage {
  kind: 'icmp' | 'icmp6';
  type: number;
  code: number;
  /** echo id and sequence */
  id: number | null;
  seq: number | null;
  /** from the packet an IPv4 error quotes: offset of its destination address in the frame bytes */
  innerDstOffset: number;
  innerProto: number;
  innerDport: number | null;
  /** next-hop MTU of "need to frag" */
  mtu: number | null;
  /** ICMP length: the IP payload length */
  length: number;
  /** the bytes the message needs were not all captured */
  truncated: boolean;
}

export interface OtherTransport {
  kind: 'other';
  proto: number;
  length: number;
}

export type Transport = TcpSegment | UdpDatagram | IcmpMessage | OtherTransport;

export class NetworkLayer {
  /** IPv6 extension headers as tcpdump 4.99 prints them: HBH, DSTOPT, frag (off|len), RT6 (...) */
  extensions: string[] | null = null;
  /** a fragment other than the first: no transport header */
  laterFragment = false;
  transport: Transport | null = null;
  /** the transport header was not captured at all */
  transportTruncated = false;
  /**
   * Set when tcpdump stops inside the IPv6 extension headers: the text it
   * prints there (a truncation mark, an "(invalid)" note, or '' for a quiet
   * stop) ends the line after the extension headers.
   */
  stop: string | null = null;

  family!: 4 | 6;
  /** the frame's bytes, and where the addresses are in them */
  bytes!: Uint8Array;
  srcOffset!: number;
  dstOffset!: number;
  /** the transport protocol number (after IPv6 extension headers) */
  proto!: number;
  /** bytes the IP length claims beyond what was on the wire (tcpdump's truncated-ip) */
  missingBytes!: number;
  /** length of the transport payload per the IP header */
  transportLength!: number;

  /** (Re)starts this layer for a new packet: every field is set. */
  init(family: 4 | 6, bytes: Uint8Array, srcOffset: number, dstOffset: number, proto: number, missingBytes: number, transportLength: number): this {
    this.family = family;
    this.bytes = bytes;
    this.srcOffset = srcOffset;
    this.dstOffset = dstOffset;
    this.proto = proto;
    this.missingBytes = missingBytes;
    this.transportLength = transportLength;
    this.extensions = null;
    this.laterFragment = false;
    this.transport = null;
    this.transportTruncated = false;
    this.stop = null;
    return this;
  }

  get src(): string {
    return this.family === 4 ? ipv4ToString(this.bytes, this.srcOffset) : ipv6ToString(this.bytes, this.srcOffset);
  }

  get dst(): string {
    return this.family === 4 ? ipv4ToString(this.bytes, this.dstOffset) : ipv6ToString(this.bytes, this.dstOffset);
  }
}

export interface Packet {
  tsSec: number;
  tsUsec: number;
  /** bytes on the wire and bytes captured, link header included */
  wireLength: number;
  capturedLength: number;
  pflog: PflogHeader | null;
  nflog: NflogHeader | null;
  net: NetworkLayer | null;
  /** why the network layer is missing or incomplete, as tcpdump would say it */
  problem: string | null;
}

/**
 * One object of each kind, refilled for every frame by a caller that is done
 * with a Packet before it decodes the next (the read and daemon pipelines):
 * at a million packets a second, allocating them was a tenth of the time, in
 * the garbage collector.
 */
export interface Reusable {
  packet: Packet;
  pflog: PflogHeader;
  nflog: NflogHeader;
  net: NetworkLayer;
  tcp: TcpSegment;
  udp: UdpDatagram;
  icmp: IcmpMessage;
  other: OtherTransport;
}
