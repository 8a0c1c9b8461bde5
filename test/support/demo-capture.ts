// The capture shipped as demo/pflog.pcap (npm start reads it): a port scan,
// a legitimate client whose stray ACKs pf blocks, IPv6, ICMP, and passes.
// Regenerate with: npm run build && node dist/test/support/demo-capture.js demo/pflog.pcap

import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { AF, DIR, PF, TCP, echo, icmp, ipv4, ipv6, pcapFile, pflogHeader, tcp, udp } from './capture-builder.js';

export function demoFrames(): Buffer[] {
  const frames: Buffer[] = [];
  const scanner = '203.0.113.77';
  const server = '198.51.100.10';
  // A SYN scan of 12 ports: what the [pf] jail is for.
  [21, 22, 23, 25, 80, 110, 143, 443, 445, 3306, 3389, 6379].forEach((port, i) => {
    frames.push(
      Buffer.concat([
        pflogHeader({ rulenr: 7, ifname: 'vtnet0' }),
        ipv4({ src: scanner, dst: server, proto: 6, payload: tcp({ sport: 40000 + i, dport: port, flags: TCP.SYN, seq: 1929621329 + i, win: 1024 }) }),
      ]),
    );
  });
  // A web client whose state expired: pf blocks its ACKs and FIN; syn mode does not ban it.
  for (const flags of [TCP.ACK, TCP.ACK | TCP.PSH, TCP.FIN | TCP.ACK]) {
    frames.push(
      Buffer.concat([
        pflogHeader({ rulenr: 7, ifname: 'vtnet0' }),
        ipv4({ src: '192.0.2.33', dst: server, proto: 6, payload: tcp({ sport: 51515, dport: 443, flags, seq: 77, ack: 1234 }) }),
      ]),
    );
  }
  frames.push(
    Buffer.concat([
      pflogHeader({ rulenr: 3, subrulenr: 0, ruleset: 'scanners/web' }),
      ipv4({ src: '192.0.2.200', dst: server, proto: 17, payload: udp(5353, 161, Buffer.alloc(20)) }),
    ]),
    Buffer.concat([
      pflogHeader({ rulenr: 12 }),
      ipv4({ src: '192.0.2.201', dst: server, proto: 1, payload: icmp(8, 0, echo(7, 1), Buffer.alloc(56)) }),
    ]),
    Buffer.concat([
      pflogHeader({ af: AF.INET6_FREEBSD, rulenr: 12 }),
      ipv6({ src: '2001:db8:bad::1', dst: '2001:db8::10', proto: 6, payload: tcp({ sport: 55000, dport: 22, flags: TCP.SYN }) }),
    ]),
    Buffer.concat([
      pflogHeader({ action: PF.PASS, dir: DIR.OUT, rulenr: 2 }),
      ipv4({ src: server, dst: '192.0.2.1', proto: 17, payload: udp(123, 123, Buffer.alloc(48)) }),
    ]),
  );
  return frames;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ?? 'demo/pflog.pcap';
  writeFileSync(out, pcapFile(demoFrames(), { startSec: 1682898493 }));
}
