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

function input(src: CaptureSource): string[] {
  const argv = src.readFile !== undefined ? ['-r', src.readFile] : ['-i', src.interface];
  if (src.snaplen !== undefined) argv.push('-s', String(src.snaplen));
  return argv;
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
