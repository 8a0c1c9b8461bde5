// Compares `pfasciilogd read` output with `tcpdump -n -e -t -r` output for the
// same capture, streaming both: line counts, and how many lines are byte for
// byte the same once our stamp is stripped. Differences are expected (tcpdump
// runs application printers on UDP/TCP payloads, we summarise), so they are
// only counted, by the kind of packet, with one example each.

import * as fs from 'node:fs';
import { LineReader, STAMP, STAMP_LEN } from './verify.js';

export interface Difference {
  /** e.g. "udp/53", "tcp/443", "icmp" */
  kind: string;
  count: number;
  /** the first such line of each side, cut around where they differ */
  ours: string;
  tcpdump: string;
}

export interface Comparison {
  tcpdumpLines: number;
  ourLines: number;
  identical: number;
  /** our lines without a valid stamp */
  unstamped: number;
  /** differing lines by kind, most frequent first */
  differences: Difference[];
}

const SHOW = 120;

/** "tcp/80", "udp/53", "icmp", "icmp6", ... from the text after "on IFACE: ". */
export function kindOf(line: string): string {
  const body = line.slice(line.indexOf(': ', line.indexOf(' on ') + 1) + 2);
  const port = /^\S+\.\d+ > \S+\.(\d+): /.exec(body);
  const rest = body.slice(body.indexOf(': ') + 2);
  if (rest.startsWith('ICMP6')) return 'icmp6';
  if (rest.startsWith('ICMP')) return 'icmp';
  if (port === null) return 'other';
  if (rest.startsWith('Flags [')) return `tcp/${port[1]}`;
  return `udp/${port[1]}`;
}

/** Both lines cut to SHOW characters around where they first differ. */
function excerpts(a: string, b: string): [string, string] {
  let at = 0;
  while (at < a.length && at < b.length && a.charCodeAt(at) === b.charCodeAt(at)) at++;
  const from = at < SHOW - 40 ? 0 : at - 60;
  const cut = (s: string) => `${from > 0 ? '...' : ''}${s.slice(from, from + SHOW)}${s.length > from + SHOW ? '...' : ''}`;
  return [cut(a), cut(b)];
}

export function compareOutputs(tcpdumpPath: string, ourPath: string): Comparison {
  const tFd = fs.openSync(tcpdumpPath, 'r');
  const oFd = fs.openSync(ourPath, 'r');
  try {
    const theirs = new LineReader(tFd);
    const ours = new LineReader(oFd);
    const c: Comparison = { tcpdumpLines: 0, ourLines: 0, identical: 0, unstamped: 0, differences: [] };
    const kinds = new Map<string, Difference>();
    for (;;) {
      const o = ours.next();
      if (o !== null) c.ourLines++;
      const stamped = o !== null && o.length > STAMP_LEN && STAMP.test(o.subarray(0, STAMP_LEN).toString('latin1'));
      if (o !== null && !stamped) c.unstamped++;
      const ourText = o === null ? null : stamped ? o.subarray(STAMP_LEN) : o;
      const t = theirs.next();
      if (t !== null) c.tcpdumpLines++;
      if (o === null && t === null) break;
      if (ourText !== null && t !== null && ourText.equals(t)) {
        c.identical++;
        continue;
      }
      if (ourText === null || t === null) continue; // one side ended: counted above
      const oursStr = ourText.toString('latin1');
      const kind = kindOf(oursStr);
      const k = kinds.get(kind);
      if (k !== undefined) k.count++;
      else {
        const [ours, tcpdump] = excerpts(oursStr, t.toString('latin1'));
        kinds.set(kind, { kind, count: 1, ours, tcpdump });
      }
    }
    c.differences = [...kinds.values()].sort((a, b) => b.count - a.count);
    return c;
  } finally {
    fs.closeSync(tFd);
    fs.closeSync(oFd);
  }
}

/** The number of newline-terminated lines in a file (plus one for an unterminated last line). */
export function countLines(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const r = new LineReader(fd);
    let n = 0;
    while (r.next() !== null) n++;
    return n;
  } finally {
    fs.closeSync(fd);
  }
}
