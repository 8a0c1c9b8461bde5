// Scan semantics for fail2ban: at most one line per (source address,
// protocol, destination port) per window, so that fail2ban's maxretry counts
// distinct ports probed rather than packets. A client that pf blocks sends
// many packets to one port (retransmits, ACK/FIN after its state expired); a
// scanner sends one or two to many ports.
//
// Time is the packets' own capture time, so `read` of an old capture gives
// the same lines as the daemon did live. Memory is bounded: at most `max`
// keys, the least recently seen evicted first (a Map keeps insertion order;
// a key seen again is moved to the end). Eviction can only let a repeat
// through early, which errs on the side of logging, never of hiding a probe.

import { ipv4ToString, ipv6ToString } from '../decode/address.js';
import type { Packet } from '../decode/packet.js';

export interface RepeatFilterOptions {
  /** window in seconds; a key's next line is written once this much capture time has passed */
  windowSeconds: number;
  /** keys remembered at most */
  max: number;
}

interface Entry {
  /** capture time (seconds) of the line last written for this key */
  written: number;
  /** packets held back in summary period `period` */
  suppressed: number;
  period: number;
}

/** What was held back since the last summary. */
export interface RepeatSummary {
  suppressed: number;
  /** keys (source, protocol, port) with at least one packet held back */
  keys: number;
  /** the key that was held back most, as "SRC PROTO/PORT", and its count */
  top: { key: string; count: number } | null;
  evicted: number;
  tracked: number;
  max: number;
  windowSeconds: number;
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6' };

/**
 * The key: the source address bytes, the protocol and the destination port
 * (the ICMP type for ICMP), as a short latin1 string. Packets without a
 * network layer get none and are always written.
 */
export function repeatKey(p: Packet): string | null {
  const net = p.net;
  if (net === null) return null;
  const b = net.bytes;
  const o = net.srcOffset;
  let key = net.family === 4
    ? String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!)
    : String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!, b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!,
        b[o + 8]!, b[o + 9]!, b[o + 10]!, b[o + 11]!, b[o + 12]!, b[o + 13]!, b[o + 14]!, b[o + 15]!);
  const t = net.transport;
  // -1: no port (a later fragment, or a protocol without ports)
  const port = t === null ? -1 : t.kind === 'tcp' || t.kind === 'udp' ? t.dport : t.kind === 'other' ? -1 : t.type;
  key += String.fromCharCode(net.proto, port & 0xffff, port < 0 ? 1 : 0);
  return key;
}

/** "1.2.3.4 tcp/22" for the summary line. */
export function describeKey(key: string): string {
  const addrLen = key.length - 3;
  const proto = key.charCodeAt(addrLen);
  const noPort = key.charCodeAt(addrLen + 2) === 1;
  const bytes = Uint8Array.from(key.slice(0, addrLen), (c) => c.charCodeAt(0));
  const addr = addrLen === 4 ? ipv4ToString(bytes, 0) : ipv6ToString(bytes, 0);
  const name = PROTO_NAMES[proto] ?? `proto-${proto}`;
  return noPort ? `${addr} ${name}` : `${addr} ${name}/${key.charCodeAt(addrLen + 1)}`;
}

export class RepeatFilter {
  private readonly entries = new Map<string, Entry>();
  private readonly windowSeconds: number;
  private readonly max: number;
  private suppressed = 0;
  private evicted = 0;
  /** counts of held-back packets are per summary period; an entry's count from an older period is stale */
  private period = 0;
  private suppressedKeys = 0;
  private topKey = '';
  private topCount = 0;

  constructor(o: RepeatFilterOptions) {
    if (!(o.windowSeconds > 0) || !(o.max >= 1)) throw new RangeError('dedupe window and size must be positive');
    this.windowSeconds = o.windowSeconds;
    this.max = o.max;
  }

  /** Whether the packet's line should be written. */
  admit(p: Packet): boolean {
    const key = repeatKey(p);
    if (key === null) return true;
    const now = p.tsSec + p.tsUsec / 1e6;
    const e = this.entries.get(key);
    if (e !== undefined) {
      this.entries.delete(key); // re-inserted below: now the most recently seen
      this.entries.set(key, e);
      // A clock that went back (capture files out of order) starts a new window.
      if (now >= e.written && now - e.written < this.windowSeconds) {
        this.hold(key, e);
        return false;
      }
      e.written = now;
      return true;
    }
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evicted++;
    }
    this.entries.set(key, { written: now, suppressed: 0, period: this.period });
    return true;
  }

  private hold(key: string, e: Entry): void {
    if (e.period !== this.period) {
      e.period = this.period;
      e.suppressed = 0;
    }
    if (e.suppressed++ === 0) this.suppressedKeys++;
    this.suppressed++;
    if (e.suppressed > this.topCount) {
      this.topKey = key;
      this.topCount = e.suppressed;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** What was held back since the last call, or null if nothing was; starts a new period. */
  takeSummary(): RepeatSummary | null {
    if (this.suppressed === 0 && this.evicted === 0) return null;
    const s: RepeatSummary = {
      suppressed: this.suppressed,
      keys: this.suppressedKeys,
      top: this.topCount > 0 ? { key: describeKey(this.topKey), count: this.topCount } : null,
      evicted: this.evicted,
      tracked: this.entries.size,
      max: this.max,
      windowSeconds: this.windowSeconds,
    };
    this.suppressed = 0;
    this.evicted = 0;
    this.suppressedKeys = 0;
    this.topCount = 0;
    this.period++;
    return s;
  }
}

/**
 * The summary as the text of a pfasciilogd event line ("pfasciilogd: " and
 * the stamp are the caller's). It names no pf rule, action or interface, so
 * the fail2ban filter, anchored on the pf header after the stamp, cannot
 * match it whatever address it mentions.
 */
export function summaryText(s: RepeatSummary): string {
  const top = s.top === null ? '' : `; most from ${s.top.key} (${s.top.count})`;
  return `dedupe: ${s.suppressed} repeated packets not logged (${s.keys} source/port pairs${top}); ` +
    `${s.evicted} pairs forgotten early, ${s.tracked} of ${s.max} remembered, window ${s.windowSeconds} s`;
}
