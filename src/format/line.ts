// One output line per packet: the capture-time stamp, then tcpdump-style
// text, a JSON object, or pfSense's filterlog CSV. Shared by `read` and the
// daemon's native decoder.

import type { Packet } from '../decode/packet.js';
import type { AsciiWriter } from './ascii-writer.js';
import { ownFilterlogTag, writeFilterlogLine } from './filterlog.js';
import { packetJson } from './json.js';
import type { InterfaceNames } from './nflog-text.js';
import { writePacketText } from './tcpdump-text.js';
import { formatStamp, writeStamp } from './timestamp.js';

export type OutputFormat = 'text' | 'json' | 'filterlog';

/** Appends the packet's line, newline included, to `w`. */
export function writePacketLine(w: AsciiWriter, p: Packet, format: OutputFormat, names?: InterfaceNames): void {
  if (format === 'json') {
    const json = JSON.stringify(packetJson(p, formatStamp(p.tsSec, p.tsUsec), names));
    w.reserve(json.length + 1);
    w.str(json); // ASCII: the decoder escapes names, JSON.stringify the rest
  } else if (format === 'filterlog') {
    writeFilterlogLine(w, p, ownFilterlogTag(), names);
  } else {
    w.reserve(64);
    writeStamp(w, p.tsSec, p.tsUsec);
    w.byte(0x20);
    writePacketText(w, p, names);
  }
  w.byte(0x0a);
}
