// Builds pcap files byte by byte for tests, benches and the demo capture.
// Everything here is deliberately literal: the point is to produce what pf,
// pflogd and the kernel produce, so the decoder and tcpdump can be compared.

export const LINKTYPE_PFLOG = 117;
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_NFLOG = 239;

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;

export interface PcapOptions {
  linktype?: number;
  snaplen?: number;
  littleEndian?: boolean;
  nanosecond?: boolean;
}

export function pcapFileHeader(opts: PcapOptions = {}): Buffer {
  const le = opts.littleEndian ?? true;
  const b = Buffer.alloc(24);
  const u32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const u16 = (v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  u32(opts.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, 0);
  u16(2, 4);
  u16(4, 6);
  u32(0, 8);
  u32(0, 12);
  u32(opts.snaplen ?? 262144, 16);
  u32(opts.linktype ?? LINKTYPE_PFLOG, 20);
  return b;
}

export interface RecordOptions {
  /** seconds since the epoch */
  sec: number;
  /** micro- or nanoseconds, matching the file's magic */
  frac?: number;
  /** original length on the wire; defaults to data.length */
  origLen?: number;
  littleEndian?: boolean;
}

export function pcapRecord(data: Buffer, opts: RecordOptions): Buffer {
  const le = opts.littleEndian ?? true;
  const b = Buffer.alloc(16);
  const u32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  u32(opts.sec >>> 0, 0);
  u32((opts.frac ?? 0) >>> 0, 4);
  u32(data.length, 8);
  u32(opts.origLen ?? data.length, 12);
  return Buffer.concat([b, data]);
}

/** pf actions as the kernel numbers them (shared by all BSDs up to 8). */
export const PF = { PASS: 0, DROP: 1, SCRUB: 2, NOSCRUB: 3, NAT: 4, RDR: 8, MATCH_FREEBSD: 12 } as const;
export const DIR = { INOUT: 0, IN: 1, OUT: 2 } as const;
export const AF = { INET: 2, INET6_OPENBSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

export interface PflogOptions {
  /** header length byte: 61 (NetBSD/macOS), 69 (FreeBSD), 100 (OpenBSD) */
  length?: number;
  af?: number;
  action?: number;
  reason?: number;
  ifname?: string | Buffer;
  ruleset?: string | Buffer;
  rulenr?: number;
  subrulenr?: number;
  uid?: number;
  pid?: number;
  ruleUid?: number;
  rulePid?: number;
  dir?: number;
  ridentifier?: number;
  /** byte order of the host-order fields (uid, pid); pflog is written in host order */
  littleEndian?: boolean;
}

function fixedString(v: string | Buffer | undefined, size: number): Buffer {
  const out = Buffer.alloc(size);
  if (v !== undefined) (typeof v === 'string' ? Buffer.from(v, 'latin1') : v).copy(out, 0, 0, size);
  return out;
}

/** A pflog header, padded to a multiple of 4 as BPF_WORDALIGN does. */
export function pflogHeader(o: PflogOptions = {}): Buffer {
  const length = o.length ?? 69;
  const b = Buffer.alloc(Math.max(64, (length + 3) & ~3));
  const le = o.littleEndian ?? true;
  b[0] = length;
  b[1] = o.af ?? AF.INET;
  b[2] = o.action ?? PF.DROP;
  b[3] = o.reason ?? 0;
  fixedString(o.ifname ?? 'vtnet0', 16).copy(b, 4);
  fixedString(o.ruleset, 16).copy(b, 20);
  b.writeUInt32BE((o.rulenr ?? 1) >>> 0, 36);
  b.writeUInt32BE((o.subrulenr ?? 0xffffffff) >>> 0, 40);
  const host32 = (v: number, off: number) => (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  host32(o.uid ?? 0xffffffff, 44);
  host32(o.pid ?? 0xffffffff, 48);
  host32(o.ruleUid ?? 0xffffffff, 52);
  host32(o.rulePid ?? 0xffffffff, 56);
  b[60] = o.dir ?? DIR.IN;
  if (length >= 68 && b.length >= 68) b.writeUInt32BE((o.ridentifier ?? 0) >>> 0, 64);
  return b;
}

export function ipv4Bytes(addr: string): Buffer {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 ${addr}`);
  return Buffer.from(parts);
}

export function ipv6Bytes(addr: string): Buffer {
  const out = Buffer.alloc(16);
  let head = addr;
  let tail = '';
  const dbl = addr.indexOf('::');
  if (dbl >= 0) {
    head = addr.slice(0, dbl);
    tail = addr.slice(dbl + 2);
  }
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = ipv4Bytes(g);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (dbl < 0 && h.length !== 8) throw new Error(`bad IPv6 ${addr}`);
  h.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  t.forEach((g, i) => out.writeUInt16BE(g, 16 - (t.length - i) * 2));
  return out;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  payload: Buffer;
  ttl?: number;
  id?: number;
  tos?: number;
  /** DF=0x4000, MF=0x2000, low 13 bits are the offset in 8-byte units */
  flagsFrag?: number;
  options?: Buffer;
  /** override the total-length field (to claim bytes that were not captured) */
  totalLength?: number;
}

export function ipv4(o: Ipv4Options): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const ihl = 20 + ((opts.length + 3) & ~3);
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl >> 2);
  h[1] = o.tos ?? 0;
  h.writeUInt16BE(o.totalLength ?? ihl + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  h.writeUInt16BE(o.flagsFrag ?? 0x4000, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  ipv4Bytes(o.src).copy(h, 12);
  ipv4Bytes(o.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(inetChecksum(h), 10);
  return Buffer.concat([h, o.payload]);
}

export interface Ipv6Options {
  src: string;
  dst: string;
  /** next header of the last extension header (or of the fixed header when there are none) */
  proto: number;
  payload: Buffer;
  hopLimit?: number;
  flowLabel?: number;
  /** extension headers as [type, body] where body excludes next-header and length bytes */
  ext?: Array<{ type: number; body: Buffer }>;
  payloadLength?: number;
}

/** Extension header numbers. */
export const IP6 = { HOPOPTS: 0, ROUTING: 43, FRAGMENT: 44, DSTOPTS: 60, NONE: 59 } as const;

export function ipv6(o: Ipv6Options): Buffer {
  const exts = o.ext ?? [];
  const parts: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i]!;
    const next = i + 1 < exts.length ? exts[i + 1]!.type : o.proto;
    if (e.type === IP6.FRAGMENT) {
      const f = Buffer.alloc(8);
      f[0] = next;
      e.body.copy(f, 2, 0, 6);
      parts.push(f);
    } else {
      const len = (e.body.length + 2 + 7) & ~7;
      const x = Buffer.alloc(len);
      x[0] = next;
      x[1] = len / 8 - 1;
      e.body.copy(x, 2);
      parts.push(x);
    }
  }
  const rest = Buffer.concat([...parts, o.payload]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE((0x60000000 | ((o.flowLabel ?? 0) & 0xfffff)) >>> 0, 0);
  h.writeUInt16BE(o.payloadLength ?? rest.length, 4);
  h[6] = exts.length > 0 ? exts[0]!.type : o.proto;
  h[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src).copy(h, 8);
  ipv6Bytes(o.dst).copy(h, 24);
  return Buffer.concat([h, rest]);
}

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface TcpOptions {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags: number;
  win?: number;
  urp?: number;
  options?: Buffer;
  payload?: Buffer;
}

export function tcp(o: TcpOptions): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const hl = 20 + ((opts.length + 3) & ~3);
  const h = Buffer.alloc(hl);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE((o.seq ?? 1000) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (hl / 4) << 4;
  h[13] = o.flags;
  h.writeUInt16BE(o.win ?? 64240, 14);
  h.writeUInt16BE(o.urp ?? 0, 18);
  opts.copy(h, 20);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

export function udp(sport: number, dport: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** ICMP or ICMPv6: type, code, then the 4-byte rest-of-header and any data. */
export function icmp(type: number, code: number, rest: Buffer = Buffer.alloc(4), data: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h[1] = code;
  const b = Buffer.concat([h, rest, data]);
  b.writeUInt16BE(inetChecksum(b), 2);
  return b;
}

export function echo(id: number, seq: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(seq, 2);
  return b;
}

/** A DNS query whose name is the given labels (used to reproduce printer injection). */
export function dnsQuery(id: number, labels: string[]): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  const name = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0]),
  ]);
  const q = Buffer.from([0, 1, 0, 1]);
  return Buffer.concat([h, name, q]);
}

export function inetChecksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A whole pcap file from link-layer frames, one second apart from `startSec`. */
export function pcapFile(frames: Buffer[], opts: PcapOptions & { startSec?: number } = {}): Buffer {
  const start = opts.startSec ?? 1682898493;
  const parts = [pcapFileHeader(opts)];
  frames.forEach((f, i) => parts.push(pcapRecord(f, { sec: start + i, frac: 748353, littleEndian: opts.littleEndian ?? true })));
  return Buffer.concat(parts);
}

export interface NflogOptions {
  /** 2 (IPv4) or 10 (IPv6) */
  family?: number;
  group?: number;
  prefix?: string;
  indev?: number;
  outdev?: number;
  physindev?: number;
  uid?: number;
  gid?: number;
  /** ethertype for the packet-header TLV */
  hwProtocol?: number;
  mark?: number;
  /** TLV lengths and types in the capturing host's order (the pcap file's) */
  littleEndian?: boolean;
  /** declared payload length, when the snaplen cut the packet */
  payloadLength?: number;
  /** the kernel's time for the packet (TIMESTAMP TLV) */
  timestamp?: { sec: number; usec: number };
}

/** An NFLOG frame (LINKTYPE_NFLOG) around an IP packet, TLVs as the kernel writes them. */
export function nflogFrame(packet: Buffer, o: NflogOptions = {}): Buffer {
  const le = o.littleEndian ?? true;
  const tlv = (type: number, value: Buffer, declaredLength?: number): Buffer => {
    const len = 4 + (declaredLength ?? value.length);
    const h = Buffer.alloc(4);
    if (le) {
      h.writeUInt16LE(len, 0);
      h.writeUInt16LE(type, 2);
    } else {
      h.writeUInt16BE(len, 0);
      h.writeUInt16BE(type, 2);
    }
    const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
    return Buffer.concat([h, value, pad]);
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0, 0);
    return b;
  };
  const hdr = Buffer.alloc(4);
  hdr[0] = o.family ?? 2;
  hdr.writeUInt16BE(o.group ?? 1, 2);
  const pkthdr = Buffer.alloc(4);
  pkthdr.writeUInt16BE(o.hwProtocol ?? ((o.family ?? 2) === 10 ? 0x86dd : 0x0800), 0);
  pkthdr[2] = 1; // NF_INET_LOCAL_IN
  const parts = [hdr, tlv(1, pkthdr)];
  if (o.mark !== undefined) parts.push(tlv(2, u32(o.mark)));
  if (o.indev !== undefined) parts.push(tlv(4, u32(o.indev)));
  if (o.outdev !== undefined) parts.push(tlv(5, u32(o.outdev)));
  if (o.physindev !== undefined) parts.push(tlv(6, u32(o.physindev)));
  if (o.uid !== undefined) parts.push(tlv(11, u32(o.uid)));
  if (o.gid !== undefined) parts.push(tlv(14, u32(o.gid)));
  if (o.prefix !== undefined) parts.push(tlv(10, Buffer.concat([Buffer.from(o.prefix, 'latin1'), Buffer.from([0])])));
  if (o.timestamp !== undefined) {
    const ts = Buffer.alloc(16);
    ts.writeBigUInt64BE(BigInt(o.timestamp.sec), 0);
    ts.writeBigUInt64BE(BigInt(o.timestamp.usec), 8);
    parts.push(tlv(3, ts));
  }
  parts.push(tlv(9, packet, o.payloadLength));
  return Buffer.concat(parts);
}
