// A Packet as the one line `tcpdump -n -e -t -S` prints for it, one printer
// per layer as in tcpdump, writing bytes into an AsciiWriter (see there for
// why). Differences by design: UDP is always "UDP, length N" (no application
// printers, ever), other protocols get tcpdump's "ip-proto-N LEN" summary,
// pflog names upstream knows are used where a Linux build of tcpdump prints
// unkn(N), and nothing here can print a newline: every byte from the wire
// goes through AsciiWriter.cstring or is a number. The layers' printers
// live beside this file: pflog-text, tcp-text, icmp-text.

import type { NetworkLayer, Packet, Transport, UdpDatagram } from '../decode/packet.js';
import { AsciiWriter } from './ascii-writer.js';
import { writeIcmp, writeIcmp6 } from './icmp-text.js';
import { writePflog } from './pflog-text.js';
import { writeNflog, type InterfaceNames } from './nflog-text.js';
import { writeTcp } from './tcp-text.js';

function writeUdp(w: AsciiWriter, u: UdpDatagram): void {
  // Fixed (differential test): tcpdump 4.99.3's "truncated-udp N" and
  // "UDP, bad length N > M" (see decodeUdp).
  if (u.shortLength !== null) {
    w.str('truncated-udp ');
    w.num(u.shortLength);
  } else if (u.badLength !== null) {
    w.str('truncated-udplength ');
    w.num(u.badLength);
  } else if (u.length === null) w.str(' [|udp]');
  else if (u.ipLength !== null) {
    w.str('UDP, bad length ');
    w.num(u.length);
    w.str(' > ');
    w.num(u.ipLength);
  } else {
    w.str('UDP, length ');
    w.num(u.length);
  }
}

function writeTransport(w: AsciiWriter, t: Transport, n: NetworkLayer): void {
  switch (t.kind) {
    case 'tcp':
      return writeTcp(w, t, n.transportLength, n.bytes);
    case 'udp':
      return writeUdp(w, t);
    case 'icmp':
      return writeIcmp(w, t, n.bytes);
    case 'icmp6':
      return writeIcmp6(w, t);
    case 'other':
      w.str(' ip-proto-');
      w.num(t.proto);
      w.byte(0x20);
      w.num(t.length);
  }
}

const TRUNC: Record<number, string> = { 6: ' [|tcp]', 17: ' [|udp]', 1: ' [|icmp]', 58: ' [|icmp6]' };

function writeAddress(w: AsciiWriter, n: NetworkLayer, off: number): void {
  if (n.family === 4) w.ipv4(n.bytes, off);
  else w.ipv6(n.bytes, off);
}

/** "SRC > DST: " or, with ports, "SRC.SPORT > DST.DPORT: ". */
function writeAddresses(w: AsciiWriter, n: NetworkLayer, sport: number, dport: number): void {
  writeAddress(w, n, n.srcOffset);
  if (sport >= 0) {
    w.byte(0x2e);
    w.num(sport);
  }
  w.str(' > ');
  writeAddress(w, n, n.dstOffset);
  if (dport >= 0) {
    w.byte(0x2e);
    w.num(dport);
  }
  w.byte(0x3a);
}

function writeNetwork(w: AsciiWriter, n: NetworkLayer): void {
  if (n.missingBytes > 0) {
    w.str(n.family === 4 ? 'truncated-ip - ' : 'truncated-ip6 - ');
    w.num(n.missingBytes);
    w.str(n.family === 4 ? ' bytes missing! ' : ' bytes missing!');
  }
  const t = n.transport;
  const ported = t !== null && (t.kind === 'tcp' || t.kind === 'udp');
  const ext = n.extensions;
  if (n.family === 4 && n.laterFragment) {
    writeAddresses(w, n, -1, -1);
    w.str(' ip-proto-');
    w.num(n.proto);
    return;
  }
  if (ext === null && ported) {
    writeAddresses(w, n, t.sport, t.dport);
    w.byte(0x20);
    return writeTransport(w, t, n);
  }
  writeAddresses(w, n, -1, -1);
  if (ext === null && t === null && (n.proto === 6 || n.proto === 17)) {
    // Fixed (differential test): tcpdump's UDP printer writes "SRC > DST: "
    // before its " [|udp]"; TCP's writes "SRC > DST:".
    if (n.proto === 17) w.byte(0x20);
    w.str(TRUNC[n.proto]!);
    return;
  }
  w.byte(0x20);
  if (ext !== null) {
    for (let i = 0; i < ext.length; i++) {
      w.reserve(ext[i]!.length + 1); // a routing header may list 127 addresses
      w.str(ext[i]!);
      if (!(n.laterFragment && i === ext.length - 1)) w.byte(0x20);
    }
  }
  if (n.laterFragment) return;
  if (n.stop !== null) {
    // tcpdump stopped inside the extension headers (see decodeIpv6)
    w.reserve(n.stop.length);
    w.str(n.stop);
    return;
  }
  if (t === null) {
    // Fixed (differential test): after extension headers, tcpdump's TCP
    // printer repeats "SRC > DST:" before " [|tcp]"; UDP's prints no addresses.
    if (n.proto === 6) writeAddresses(w, n, -1, -1);
    w.str(TRUNC[n.proto] ?? ' [|ip6]');
  } else if (ported) {
    w.num(t.sport);
    w.str(' > ');
    w.num(t.dport);
    w.str(': ');
    writeTransport(w, t, n);
  } else writeTransport(w, t, n);
}

/** Writes the line for a packet, without the stamp and without a newline. */
export function writePacketText(w: AsciiWriter, p: Packet, names?: InterfaceNames): void {
  // The longest line: two escaped names (4 bytes per input byte), a full TCP
  // option list, IPv6 extension headers; 4 KiB is ample.
  w.reserve(4096);
  if (p.pflog !== null) writePflog(w, p.pflog);
  else if (p.nflog !== null) writeNflog(w, p.nflog, names);
  if (p.net !== null) writeNetwork(w, p.net);
  if (p.problem !== null) {
    if (p.net !== null) w.byte(0x20);
    w.str(p.problem);
  }
}

const scratch = new AsciiWriter(4096);

/** The line for a packet as a string (tests, one-off use). */
export function packetText(p: Packet): string {
  scratch.pos = 0;
  writePacketText(scratch, p);
  return scratch.text();
}
