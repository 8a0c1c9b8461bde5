// ICMP and ICMPv6 messages as tcpdump prints them without -v.

import type { IcmpMessage } from '../decode/packet.js';
import type { AsciiWriter } from './ascii-writer.js';

/** tcpdump's unreachable texts by code; '@' stands for the quoted destination. */
const UNREACH: readonly string[] = [
  'net @ unreachable', 'host @ unreachable', '', '', '', '@ unreachable - source route failed',
  'net @ unreachable - unknown', 'host @ unreachable - unknown', '@ unreachable - source host isolated',
  'net @ unreachable - admin prohibited', 'host @ unreachable - admin prohibited',
  'net @ unreachable - tos prohibited', 'host @ unreachable - tos prohibited',
  'host @ unreachable - admin prohibited filter', 'host @ unreachable - host precedence violation',
  'host @ unreachable - precedence cutoff',
];

const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply', 4: 'source quench', 5: 'redirect', 8: 'echo request', 9: 'router advertisement',
  10: 'router solicitation', 12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply',
  15: 'information request', 16: 'information reply', 17: 'address mask request', 18: 'address mask reply',
};

function writeUnreach(w: AsciiWriter, m: IcmpMessage, b: Uint8Array): void {
  const dst = m.innerDstOffset;
  switch (m.code) {
    case 2:
      w.ipv4(b, dst);
      w.str(' protocol ');
      w.num(m.innerProto);
      w.str(' unreachable');
      return;
    case 3:
      w.ipv4(b, dst);
      if (m.innerProto === 6 || m.innerProto === 17) w.str(m.innerProto === 6 ? ' tcp port ' : ' udp port ');
      else {
        w.str(' protocol ');
        w.num(m.innerProto);
        w.str(' port ');
      }
      w.num(m.innerDport!);
      w.str(' unreachable');
      return;
    case 4:
      w.ipv4(b, dst);
      w.str(' unreachable - need to frag');
      if (m.mtu) {
        w.str(' (mtu ');
        w.num(m.mtu);
        w.byte(0x29);
      }
      return;
    default: {
      const fmt = UNREACH[m.code] || `@ unreachable - #${m.code}`;
      const at = fmt.indexOf('@');
      w.str(fmt.slice(0, at));
      w.ipv4(b, dst);
      w.str(fmt.slice(at + 1));
    }
  }
}

export function writeIcmp(w: AsciiWriter, m: IcmpMessage, b: Uint8Array): void {
  if (m.truncated) {
    w.str(' [|icmp]');
    return;
  }
  w.str('ICMP ');
  if (m.type === 8 || m.type === 0) {
    w.str(ICMP_TYPES[m.type]!);
    w.str(', id ');
    w.num(m.id!);
    w.str(', seq ');
    w.num(m.seq!);
  } else if (m.type === 3) writeUnreach(w, m, b);
  else if (m.type === 11) w.str(m.code === 0 ? 'time exceeded in-transit' : m.code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${m.code}`);
  else w.str(ICMP_TYPES[m.type] ?? `type-#${m.type}`);
  w.str(', length ');
  w.num(m.length);
}

const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report',
  132: 'multicast listener done', 133: 'router solicitation', 134: 'router advertisement',
  135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 143: 'multicast listener report v2',
};

export function writeIcmp6(w: AsciiWriter, m: IcmpMessage): void {
  w.str('ICMP6, ');
  w.str(ICMP6_TYPES[m.type] ?? `unknown icmp6 type (${m.type})`);
  if (m.truncated) {
    w.str(' [|icmp6]');
    return;
  }
  if (m.id !== null) {
    w.str(', id ');
    w.num(m.id);
    w.str(', seq ');
    w.num(m.seq!);
  }
  w.str(', length ');
  w.num(m.length);
}
