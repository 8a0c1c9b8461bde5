// One output line per packet: the capture-time stamp, then tcpdump-style text
// or a JSON object. Shared by `read` and the daemon's native decoder.

import type { Packet } from '../decode/packet.js';
import { packetJson } from './json.js';
import { packetText } from './tcpdump-text.js';
import { formatStamp } from './timestamp.js';

export type OutputFormat = 'text' | 'json';

export function formatPacketLine(p: Packet, format: OutputFormat): string {
  const stamp = formatStamp(p.tsSec, p.tsUsec);
  return format === 'json' ? JSON.stringify(packetJson(p, stamp)) : `${stamp} ${packetText(p)}`;
}
