// The NFLOG link layer (LINKTYPE_NFLOG, 239): what Linux's nftables
// ("log group N") and iptables (-j NFLOG) hand to tcpdump -i nflog:N. A
// 4-byte header (address family, version, group) and then netlink-style
// TLVs, whose length and type are in the capturing host's byte order and
// whose values are in network byte order. The packet itself is the PAYLOAD
// TLV, which the snaplen may cut short.

export const NFULA = {
  PACKET_HDR: 1,
  MARK: 2,
  TIMESTAMP: 3,
  IFINDEX_INDEV: 4,
  IFINDEX_OUTDEV: 5,
  IFINDEX_PHYSINDEV: 6,
  IFINDEX_PHYSOUTDEV: 7,
  HWADDR: 8,
  PAYLOAD: 9,
  PREFIX: 10,
  UID: 11,
  SEQ: 12,
  SEQ_GLOBAL: 13,
  GID: 14,
  HWTYPE: 15,
  HWHEADER: 16,
  HWLEN: 17,
} as const;

export class NflogHeader {
  /** the frame's bytes; the prefix is read from here when asked for */
  bytes!: Uint8Array;
  /** address family: 2 (IPv4), 10 (IPv6), else not an IP packet */
  family!: number;
  version!: number;
  /** the log group (nflog:N) */
  group!: number;
  /** the log prefix: bytes [prefixOffset, prefixOffset+prefixLength), NUL excluded; -1 if none */
  prefixOffset!: number;
  prefixLength!: number;
  /** interface indexes, or null */
  indev!: number | null;
  outdev!: number | null;
  physindev!: number | null;
  physoutdev!: number | null;
  /** ethertype from the packet header TLV, or null */
  hwProtocol!: number | null;
  hook!: number | null;
  mark!: number | null;
  uid!: number | null;
  gid!: number | null;
  /** where the packet is: [payloadOffset, payloadEnd) captured of payloadLength; -1 if absent */
  payloadOffset!: number;
  payloadEnd!: number;
  payloadLength!: number;
  /**
   * When the kernel logged the packet (TIMESTAMP TLV), or -1. Better than the
   * capture record's time: libpcap stamps a batch of NFLOG messages when it
   * receives it, up to a second after the packets were logged.
   */
  tsSec!: number;
  tsUsec!: number;
  /** why the TLVs could not all be read (the header fields above still are) */
  problem!: string | null;
}

function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Decodes the NFLOG header and TLVs at b[off..end). `hostLittleEndian` is
 * the byte order of the TLV lengths and types (the pcap file's). A string:
 * not even the 4-byte header was captured.
 */
export function decodeNflog(b: Uint8Array, off: number, end: number, hostLittleEndian: boolean, into?: NflogHeader): NflogHeader | string {
  if (end - off < 4) return ' [|nflog]';
  const h = into ?? new NflogHeader();
  h.bytes = b;
  h.family = b[off]!;
  h.version = b[off + 1]!;
  h.group = be16(b, off + 2);
  h.prefixOffset = -1;
  h.prefixLength = 0;
  h.indev = h.outdev = h.physindev = h.physoutdev = null;
  h.hwProtocol = h.hook = h.mark = h.uid = h.gid = null;
  h.payloadOffset = h.payloadEnd = h.payloadLength = -1;
  h.tsSec = h.tsUsec = -1;
  h.problem = null;
  if (h.version !== 0) {
    h.problem = `nflog version ${h.version} (unknown)`;
    return h;
  }
  let cp = off + 4;
  while (cp + 4 <= end) {
    const len = hostLittleEndian ? b[cp]! | (b[cp + 1]! << 8) : be16(b, cp);
    const type = (hostLittleEndian ? b[cp + 2]! | (b[cp + 3]! << 8) : be16(b, cp + 2)) & 0x3fff; // without the nested/byte-order flags
    if (len < 4) {
      h.problem = '[nflog: bad TLV length]';
      return h;
    }
    const v = cp + 4;
    const vlen = len - 4;
    if (type === NFULA.PAYLOAD) {
      // the snaplen may have cut the packet: take what was captured
      h.payloadOffset = v;
      h.payloadEnd = Math.min(v + vlen, end);
      h.payloadLength = vlen;
    } else if (cp + len <= end) {
      if (type === NFULA.PREFIX) {
        let n = 0;
        while (n < vlen && b[v + n] !== 0) n++;
        h.prefixOffset = v;
        h.prefixLength = n;
      } else if (vlen >= 4 && type === NFULA.IFINDEX_INDEV) h.indev = be32(b, v);
      else if (vlen >= 4 && type === NFULA.IFINDEX_OUTDEV) h.outdev = be32(b, v);
      else if (vlen >= 4 && type === NFULA.IFINDEX_PHYSINDEV) h.physindev = be32(b, v);
      else if (vlen >= 4 && type === NFULA.IFINDEX_PHYSOUTDEV) h.physoutdev = be32(b, v);
      else if (vlen >= 3 && type === NFULA.PACKET_HDR) {
        h.hwProtocol = be16(b, v);
        h.hook = b[v + 2]!;
      } else if (vlen >= 4 && type === NFULA.MARK) h.mark = be32(b, v);
      else if (vlen >= 4 && type === NFULA.UID) h.uid = be32(b, v);
      else if (vlen >= 4 && type === NFULA.GID) h.gid = be32(b, v);
      else if (vlen >= 16 && type === NFULA.TIMESTAMP) {
        // two 64-bit big-endian numbers: seconds, microseconds
        const sec = be32(b, v) * 4294967296 + be32(b, v + 4);
        const usec = be32(b, v + 12);
        if (be32(b, v + 8) === 0 && usec < 1000000 && sec > 0) {
          h.tsSec = sec;
          h.tsUsec = usec;
        }
      }
    }
    cp += (len + 3) & ~3;
  }
  return h;
}

/** The address family NFLOG records (the protocol family of the hook): 2 IPv4, 10 IPv6. */
export function nflogFamily(h: NflogHeader): 4 | 6 | 0 {
  if (h.family === 2) return 4;
  if (h.family === 10) return 6;
  return 0;
}
