// The tcpdump command lines pfasciilogd runs. Always an argv array: the filter
// expression and every path reach tcpdump as separate arguments, never
// through a shell.

export interface CaptureSource {
  tcpdump: string;
  /** '' omits -Z */
  user: string;
  interface: string;
  readFile: string | undefined;
  snaplen: number | undefined;
  expression: readonly string[];
}

function common(src: CaptureSource): string[] {
  const argv: string[] = [];
  if (src.user !== '') argv.push('-Z', src.user);
  return argv;
}

/**
 * The snaplen of a live capture when -s is not given. tcpdump's own default
 * is 262144 on Linux and FreeBSD, but OpenBSD's is 116 (160 for pflog0): with
 * OpenBSD's 100-byte pflog header that leaves too little for an IPv6 header,
 * the packet prints as ` [|ip6]`, and nothing is banned. What a line needs:
 *  - pflog: a header of up to 100 bytes (OpenBSD; FreeBSD's 69 is padded
 *    to 72), then IPv6 (40) with extension headers (hop-by-hop, routing,
 *    destination options: 64 allows for the usual ones) and TCP with a full
 *    option block (60): 264 bytes;
 *  - NFLOG: libpcap counts the whole netlink message, whose TLVs come before
 *    the packet (hardware header, time stamp, interface indexes, uid/gid,
 *    mark, and a prefix of up to 64 bytes): about 200 bytes, then the same
 *    164 bytes of IPv6 and TCP.
 * 512 covers both with room to spare, and a firewall log line never needs
 * the payload: copying less of each packet is cheaper under a flood.
 */
export const DEFAULT_SNAPLEN = 512;

function input(src: CaptureSource): string[] {
  // a capture file was cut when it was written: -s only if asked for
  if (src.readFile !== undefined) return ['-r', src.readFile, ...(src.snaplen !== undefined ? ['-s', String(src.snaplen)] : [])];
  return ['-i', src.interface, '-s', String(src.snaplen ?? DEFAULT_SNAPLEN)];
}

/**
 * The filter expression after "--": GNU getopt permutes, so without it a word
 * such as "-w" anywhere in the expression would be taken for tcpdump's flag.
 */
function filter(src: CaptureSource): string[] {
  return src.expression.length > 0 ? ['--', ...src.expression] : [];
}

/** The reference's text relay: tcpdump prints, we stamp. `-l` line-buffers stdout. */
export function textRelayArgv(src: CaptureSource): string[] {
  return [...common(src), '-t', '-l', '-e', '-n', ...input(src), ...filter(src)];
}

/**
 * The native decoder's capture: tcpdump opens the interface, drops
 * privileges, and copies packets unparsed into a pcap stream on stdout (-w -),
 * flushed per packet (-U). None of its protocol printers run.
 */
export function captureArgv(src: CaptureSource, platform: NodeJS.Platform = process.platform): string[] {
  // OpenBSD's tcpdump has no -U: it always writes -w output unbuffered.
  const flush = platform === 'openbsd' ? [] : ['-U'];
  return [...common(src), ...flush, '-w', '-', ...input(src), ...filter(src)];
}

/** How a command is shown in the log: shell-quoted where needed, for humans only. */
export function displayCommand(command: string, argv: readonly string[]): string {
  return [command, ...argv].map(quoteForDisplay).join(' ');
}

function quoteForDisplay(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
