// Bytes that real packets blocked by a public-facing pf carry, for the decode
// bench's capture (bench/capture.ts): the SYN options of common stacks and
// scanners, and the UDP probes scanners send to well-known ports (several of
// which tcpdump decodes with an application printer: DNS, NTP, SNMP, SIP).

/** TCP option bytes as a stack writes them; the builder pads to 4 bytes with EOL. */
export const opt = {
  mss: (v: number) => [2, 4, v >> 8, v & 0xff],
  sackOK: () => [4, 2],
  ts: (val: number, ecr: number) => [8, 10, ...be32(val), ...be32(ecr)],
  nop: () => [1],
  wscale: (s: number) => [3, 3, s],
  eol: () => [0],
};

function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export type SynStack = 'masscan' | 'zmap' | 'nmap' | 'mirai' | 'linux' | 'windows' | 'macos' | 'freebsd';

/** The SYN options of a stack, in its order (tsVal: the TS option's value). */
export function synOptions(stack: SynStack, mss: number, tsVal: number): Buffer | undefined {
  switch (stack) {
    case 'masscan':
    case 'zmap':
    case 'mirai':
      return undefined;
    case 'nmap': // nmap -sS: mss only
      return Buffer.from(opt.mss(mss));
    case 'linux':
      return Buffer.from([...opt.mss(mss), ...opt.sackOK(), ...opt.ts(tsVal, 0), ...opt.nop(), ...opt.wscale(7)]);
    case 'windows':
      return Buffer.from([...opt.mss(mss), ...opt.nop(), ...opt.wscale(8), ...opt.nop(), ...opt.nop(), ...opt.sackOK()]);
    case 'macos':
      return Buffer.from([...opt.mss(mss), ...opt.nop(), ...opt.wscale(6), ...opt.nop(), ...opt.nop(), ...opt.ts(tsVal, 0), ...opt.sackOK(), ...opt.eol()]);
    case 'freebsd':
      return Buffer.from([...opt.mss(mss), ...opt.nop(), ...opt.wscale(6), ...opt.sackOK(), ...opt.ts(tsVal, 0)]);
  }
}

/** The nop,nop,TS a Linux client puts on every segment after the SYN. */
export function tsOnly(val: number, ecr: number): Buffer {
  return Buffer.from([...opt.nop(), ...opt.nop(), ...opt.ts(val, ecr)]);
}

export const QTYPE = { A: 1, PTR: 12, TXT: 16, AAAA: 28, ANY: 255 } as const;
export const QCLASS = { IN: 1, CH: 3 } as const;

/** A DNS query for one name (recursion desired unless mDNS). */
export function dnsQuery(id: number, name: string, qtype: number, qclass: number = QCLASS.IN, rd = true): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const b = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(rd ? 0x0100 : 0, 2);
  b.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    b[o++] = l.length;
    o += b.write(l, o, 'latin1');
  }
  b[o++] = 0;
  b.writeUInt16BE(qtype, o);
  b.writeUInt16BE(qclass, o + 2);
  return b;
}

/** An NTP client request (mode 3), 48 bytes, version 3 or 4. */
export function ntpClient(version: 3 | 4, xmitSec: number): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (version << 3) | 3;
  b.writeUInt32BE(xmitSec >>> 0, 40);
  return b;
}

/** The ntpdc monlist probe (mode 7, REQ_MON_GETLIST_1) amplification scanners send. */
export const NTP_MONLIST = Buffer.from([0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0]);

/** SNMPv2c get-request for sysDescr.0 with community "public". */
export function snmpGet(requestId: number): Buffer {
  const varbind = [0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00];
  const pdu = [0x02, 0x04, ...be32(requestId & 0x7fffffff), 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, varbind.length, ...varbind];
  const community = [...Buffer.from('public', 'latin1')];
  const msg = [0x02, 0x01, 0x01, 0x04, community.length, ...community, 0xa0, pdu.length, ...pdu];
  return Buffer.from([0x30, msg.length, ...msg]);
}

export const SSDP_SEARCH = Buffer.from(
  'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n',
  'latin1',
);

/** What sipvicious' svmap sends. */
export function sipOptions(to: string, from: string, sport: number): Buffer {
  return Buffer.from(
    `OPTIONS sip:100@${to} SIP/2.0\r\nVia: SIP/2.0/UDP ${from}:${sport};branch=z9hG4bK-1\r\n` +
      `From: "sipvicious"<sip:100@1.1.1.1>;tag=6134\r\nTo: "sipvicious"<sip:100@1.1.1.1>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
    'latin1',
  );
}

/** memcached's UDP frame header and "stats". */
export const MEMCACHED_STATS = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, ...Buffer.from('stats\r\n', 'latin1')]);

/** A STUN binding request with a random transaction id. */
export function stunBinding(rand: () => number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  for (let i = 8; i < 20; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Ubiquiti discovery. */
export const UBNT_DISCOVERY = Buffer.from([0x01, 0x00, 0x00, 0x00]);

export function httpGet(host: string): Buffer {
  return Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n`, 'latin1');
}
