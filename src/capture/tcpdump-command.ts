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
 *  - NFLOG (Linux only): its TLVs come before the packet (hardware header,
 *    time stamp, interface indexes, uid/gid, mark, a prefix of up to 64
 *    bytes: about 200 bytes), then the same 164 bytes of IPv6 and TCP.
 * 512 covers a BPF interface with room to spare, and a firewall log line
 * never needs the payload: copying less of each packet is cheaper under a
 * flood. But libpcap reads NFLOG with a receive buffer of 128 + snaplen
 * bytes (pcap-netfilter-linux.c), and one netlink datagram carries a whole
 * batch of logged packets: with 512, a batch was cut off after its first
 * packets ("[nflog: bad TLV length]", the rest lost; seen in the e2e test
 * with the kernel's default batching). So an NFLOG group gets the largest
 * snaplen, libpcap's own default on Linux; the kernel copies no more than
 * each packet anyway.
 */
export const DEFAULT_SNAPLEN = 512;
export const NFLOG_SNAPLEN = 262144;

function input(src: CaptureSource): string[] {
  // a capture file was cut when it was written: -s only if asked for
  if (src.readFile !== undefined) return ['-r', src.readFile, ...(src.snaplen !== undefined ? ['-s', String(src.snaplen)] : [])];
  const dflt = /^nflog(:|$)/.test(src.interface) ? NFLOG_SNAPLEN : DEFAULT_SNAPLEN;
  return ['-i', src.interface, '-s', String(src.snaplen ?? dflt)];
}

/**
 * The filter expression after "--": GNU getopt permutes, so without it a word
 * such as "-w" anywhere in the expression would be taken for tcpdump's flag.
 */
function filter(src: CaptureSource): string[] {
  return src.expression.length > 0 ? ['--', ...src.expression] : [];
}

/**
 * --immediate-mode (tcpdump 4.6 and later, with a libpcap that has
 * pcap_set_immediate_mode: Debian, FreeBSD's base system): each packet is
 * handed to tcpdump as it arrives. Without it libpcap waits for its buffer
 * to fill or for the 1 s read timeout tcpdump sets (on Linux's TPACKET_V3
 * the kernel's block timeout: an isolated packet on lo took 600 ms here).
 *
 * OpenBSD's tcpdump (usr.sbin/tcpdump, tcpdump.c 1.100, 2025) has no such
 * flag, nor -U or -Z. Its privileged half opens /dev/bpf itself
 * (privsep_pcap.c): a 32 KiB buffer, then BIOCLOCK; the unprivileged half
 * sets a 1000 ms read timeout (BIOCSRTIMEOUT) and never sets BIOCIMMEDIATE
 * or a wait timeout (BIOCSWTIMEOUT), so bpf(4) keeps its default of waiting
 * for the buffer to fill: an isolated packet reaches tcpdump when the read
 * times out, up to a second after pf logged it. Nothing on its command line
 * changes that, so on OpenBSD nothing is passed.
 *
 * Not for -r: a file has no buffer timeout.
 */
function immediate(src: CaptureSource, platform: NodeJS.Platform, immediateMode: boolean): string[] {
  return immediateMode && src.readFile === undefined && platform !== 'openbsd' ? [IMMEDIATE_MODE] : [];
}

export const IMMEDIATE_MODE = '--immediate-mode';

/**
 * The line of tcpdump's stderr in which it refuses --immediate-mode, or null:
 * a tcpdump older than 4.6, or built without immediate mode, exits at once
 * with "unrecognized option '--immediate-mode'" (glibc; the BSDs' getopt_long
 * quotes it `--immediate-mode'), and one whose libpcap cannot set it says
 * "Can't set immediate mode". The usage text of a tcpdump that has the flag
 * lists "[ --immediate-mode ]": that alone is not a refusal.
 */
export function immediateModeRefusal(stderr: string): string | null {
  for (const line of stderr.split('\n')) {
    if (/immediate[- ]mode/i.test(line) && /unrecognized|unknown|illegal|invalid|not supported|unsupported|can'?t|cannot/i.test(line)) return line.trim();
  }
  return null;
}

/**
 * The reference's text relay: tcpdump prints, we stamp. `-l` line-buffers stdout.
 * `immediateMode` false: the tcpdump in use refused the flag.
 */
export function textRelayArgv(src: CaptureSource, platform: NodeJS.Platform = process.platform, immediateMode = true): string[] {
  return [...common(src), ...immediate(src, platform, immediateMode), '-t', '-l', '-e', '-n', ...input(src), ...filter(src)];
}

/**
 * The native decoder's capture: tcpdump opens the interface, drops
 * privileges, and copies packets unparsed into a pcap stream on stdout (-w -),
 * flushed per packet (-U). None of its protocol printers run.
 */
export function captureArgv(src: CaptureSource, platform: NodeJS.Platform = process.platform, immediateMode = true): string[] {
  // OpenBSD's tcpdump has no -U: it always writes -w output unbuffered.
  const flush = platform === 'openbsd' ? [] : ['-U'];
  return [...common(src), ...flush, ...immediate(src, platform, immediateMode), '-w', '-', ...input(src), ...filter(src)];
}

/** How a command is shown in the log: shell-quoted where needed, for humans only. */
export function displayCommand(command: string, argv: readonly string[]): string {
  return [command, ...argv].map(quoteForDisplay).join(' ');
}

function quoteForDisplay(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
