// The pflog part of a line, as tcpdump prints it:
//   rule 3.scanners/web.0/0(match): block in on vtnet0:

import { IFNAME_OFFSET, IFNAMSIZ, RULESET_OFFSET, RULESET_SIZE, actionName, directionName, reasonText, type PflogHeader } from '../decode/pflog.js';
import type { AsciiWriter } from './ascii-writer.js';

/**
 * Written afresh for every packet, on purpose: a per-rule cache of this text
 * saved nothing measurable on a realistic capture and cost a third more CPU
 * when rule, interface and action vary from packet to packet, where every
 * lookup missed. Per-packet work must not depend on how varied headers are.
 */
export function writePflog(w: AsciiWriter, h: PflogHeader): void {
  w.str('rule ');
  w.num(h.rulenr);
  if (h.subrulenr !== 0xffffffff) {
    w.byte(0x2e);
    w.cstring(h.bytes, h.offset + RULESET_OFFSET, RULESET_SIZE);
    w.byte(0x2e);
    w.num(h.subrulenr);
  }
  w.byte(0x2f);
  w.str(reasonText(h));
  // FreeBSD's tcpdump adds these; so do we for FreeBSD headers.
  if (h.flavor === 'freebsd') {
    if (h.uid !== null) {
      w.str(' [uid ');
      w.num(h.uid);
      w.byte(0x5d);
    }
    if (h.ridentifier !== null) {
      w.str(' [ridentifier ');
      w.num(h.ridentifier);
      w.byte(0x5d);
    }
  }
  w.str(': ');
  w.str(actionName(h));
  w.byte(0x20);
  w.str(directionName(h));
  w.str(' on ');
  w.cstring(h.bytes, h.offset + IFNAME_OFFSET, IFNAMSIZ);
  w.str(': ');
}
