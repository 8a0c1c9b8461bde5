// Address text exactly as tcpdump -n prints it: dotted quad, and IPv6 in the
// BIND inet_ntop6 form tcpdump uses (longest zero run of two or more words
// compressed, embedded IPv4 for ::a.b.c.d and ::ffff:a.b.c.d).

export function ipv4ToString(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * The run of zero words that "::" replaces in an IPv6 address at b[off..):
 * the longest run of two or more (the first of equal ones), as
 * { base, length }, or null. Shared by the string and byte printers.
 */
export function ipv6ZeroRun(b: Uint8Array, off: number): { base: number; length: number } | null {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (b[off + 2 * i] === 0 && b[off + 2 * i + 1] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  return bestBase !== -1 && bestLen >= 2 ? { base: bestBase, length: bestLen } : null;
}

/** Whether the address ends in an IPv4 address tcpdump prints dotted (::a.b.c.d, ::ffff:a.b.c.d). */
export function ipv6EmbedsIpv4(b: Uint8Array, off: number, run: { base: number; length: number } | null): boolean {
  return run !== null && run.base === 0 && (run.length === 6 || (run.length === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff));
}

export function ipv6ToString(b: Uint8Array, off: number): string {
  const run = ipv6ZeroRun(b, off);
  const embeds = ipv6EmbedsIpv4(b, off, run);
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (run !== null && i >= run.base && i < run.base + run.length) {
      if (i === run.base) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && embeds) return s + ipv4ToString(b, off + 12);
    s += ((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!).toString(16);
  }
  if (run !== null && run.base + run.length === 8) s += ':';
  return s;
}
