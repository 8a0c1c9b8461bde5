// What the decoder produces: plain data, no text. Each layer's module fills
// its part; format/ turns a Packet into a tcpdump-style line or JSON. A layer
// that is truncated or malformed is marked (`truncated`, `bad`) and the
// layers below it are absent; nothing throws.

import type { PflogHeader } from './pflog.js';

export interface TcpOption {
  /** tcpdump's name: eol, nop, mss, wscale, sackOK, sack, TS, or unknown-N */
  name: string;
  /** mss, wscale */
  value?: number;
  /** sack blocks as [start, end] pairs */
  blocks?: Array<[number, number]>;
  /** TS val/ecr */
  tsval?: number;
  tsecr?: number;
  /** raw option data for options printed as hex */
  hex?: string;
  /** the option's length byte when it disagrees with what its kind needs */
  badLength?: number;
}

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
  options: TcpOption[];
  /** options ran past the captured bytes or past the header */
  optionsTruncated: boolean;
  /** payload bytes (IP payload minus TCP header) */
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
}

export interface IcmpMessage {
  kind: 'icmp' | 'icmp6';
  type: number;
  code: number;
  /** echo id and sequence */
  id: number | null;
  seq: number | null;
  /** from the quoted packet of an error message (unreachable, time exceeded) */
  inner: { dst: string; proto: number; dport: number | null } | null;
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

export interface NetworkLayer {
  family: 4 | 6;
  src: string;
  dst: string;
  /** the transport protocol number (after IPv6 extension headers) */
  proto: number;
  /** bytes the IP length claims beyond what was on the wire (tcpdump's truncated-ip) */
  missingBytes: number;
  /** IPv6 extension headers as tcpdump names them: HBH, DSTOPT, frag (off|len), srcrt */
  extensions: string[];
  /** a fragment other than the first: no transport header */
  laterFragment: boolean;
  /** length of the transport payload per the IP header */
  transportLength: number;
  transport: Transport | null;
  /** the transport header was not captured at all */
  transportTruncated: boolean;
}

export interface Packet {
  tsSec: number;
  tsUsec: number;
  /** bytes on the wire and bytes captured, link header included */
  wireLength: number;
  capturedLength: number;
  pflog: PflogHeader | null;
  net: NetworkLayer | null;
  /** why the network layer is missing or incomplete, as tcpdump would say it */
  problem: string | null;
}
