// A decoded Packet (from a capture file) to a StatsRecord, directly: the
// same fields the text line would give, without printing and re-reading it.

import type { Packet } from '../decode/packet.js';
import { actionName, directionName } from '../decode/pflog.js';
import { nflogPrefix } from '../format/nflog-text.js';
import { Interner, ProtoCode, clearRecord, nflogAction, protoCodeOf, protoName, type StatsRecord } from './record.js';

export class PacketRecords {
  private readonly strings = new Interner();
  /** pflog rule labels by rule number (outside anchors) */
  private readonly ruleNumbers = new Map<number, string>();
  private readonly nflogActions = new Map<string, string>();

  fill(p: Packet, r: StatsRecord): void {
    clearRecord(r);
    r.time = p.tsSec * 1000 + p.tsUsec / 1000;
    const h = p.pflog;
    const nf = p.nflog;
    if (h !== null) {
      r.action = this.strings.of(actionName(h));
      r.direction = this.strings.of(directionName(h));
      r.iface = this.strings.of(h.ifname);
      if (h.subrulenr === 0xffffffff) {
        let label = this.ruleNumbers.get(h.rulenr);
        if (label === undefined) {
          label = `${h.rulenr}`;
          if (this.ruleNumbers.size < 10_000) this.ruleNumbers.set(h.rulenr, label);
        }
        r.rule = label;
      } else r.rule = this.strings.of(`${h.rulenr}.${h.ruleset}.${h.subrulenr}`);
    } else if (nf !== null) {
      // as the text line shows it: quotes and backslashes in the prefix escaped
      const rule = (r.rule = this.strings.of(`nflog ${nf.group} "${nflogPrefix(nf).replace(/["\\]/g, '\\$&')}"`));
      let action = this.nflogActions.get(rule);
      if (action === undefined) {
        action = nflogAction(nflogPrefix(nf));
        if (this.nflogActions.size < 10_000) this.nflogActions.set(rule, action);
      }
      r.action = action;
      const dev = nf.indev ?? nf.outdev;
      if (dev !== null) {
        r.direction = nf.indev !== null ? 'in' : 'out';
        r.iface = this.strings.of(`if${dev}`); // `read` names them so too: the capture may come from another host
      }
    }
    const n = p.net;
    if (n === null) {
      r.proto = 'other';
      return;
    }
    if (n.family === 4) {
      const b = n.bytes;
      const o = n.srcOffset;
      r.src4 = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    } else r.src6 = n.src;
    r.proto = protoName(n.proto);
    r.protoCode = protoCodeOf(r.proto);
    const t = n.transport;
    if (t === null || r.protoCode === ProtoCode.NONE) return;
    if (t.kind === 'tcp' || t.kind === 'udp') r.dport = t.dport;
    // as the text line says it: an ICMPv6 type is named even when the rest
    // was cut, an ICMP one is not (" [|icmp]")
    else if (t.kind === 'icmp6') r.dport = t.type;
    else if (t.kind === 'icmp') r.dport = t.truncated ? -1 : t.type;
  }
}
