// `pfasciilogd read [--format text|json] [-F|--follow] FILE...`: decode
// capture files (pflogd's /var/log/pflog, tcpdump -w output, pcapng) to
// stamped lines on stdout. The stamp is each packet's capture time.

import { once } from 'node:events';
import { readCaptureFile } from '../capture/file-reader.js';
import { escapeText } from '../format/escape.js';
import type { OutputFormat } from '../format/line.js';
import { PacketLines } from '../format/packet-lines.js';
import { EX_DATAERR, EX_NOINPUT, EX_OK, describeErrno } from '../util/sysexits.js';
import { UsageError } from './options.js';

export interface ReadOptions {
  format: OutputFormat;
  follow: boolean;
  files: string[];
}

export const READ_USAGE = `usage: pfasciilogd read [--format text|json] [-F|--follow] file ...

Decode pflog (or any IPv4/IPv6) captures to stamped lines on stdout.
'-' reads standard input. --follow waits for more data like tail -F.
`;

export function parseFormat(v: string): OutputFormat {
  if (v !== 'text' && v !== 'json') throw new UsageError(`--format: expected text or json, not '${escapeText(v)}'`);
  return v;
}

export function parseReadArgs(argv: readonly string[]): ReadOptions | 'help' {
  const o: ReadOptions = { format: 'text', follow: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '-F' || a === '--follow') o.follow = true;
    else if (a === '--format') {
      if (i + 1 >= argv.length) throw new UsageError('--format needs a value');
      o.format = parseFormat(argv[++i]!);
    } else if (a.startsWith('--format=')) o.format = parseFormat(a.slice(9));
    else if (a === '--') {
      o.files.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`read: unknown option ${escapeText(a)}`);
    else o.files.push(a);
  }
  if (o.files.length === 0) throw new UsageError('read: no capture file given');
  return o;
}

function warn(message: string): void {
  process.stderr.write(`pfasciilogd: ${message}\n`);
}

export async function runRead(o: ReadOptions): Promise<number> {
  let status = EX_OK;
  const out = process.stdout;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  for (const file of o.files) {
    let lines: PacketLines | null = null;
    const write = async (buf: Buffer | null) => {
      if (buf === null) return;
      const from = lines;
      if (!out.write(buf, () => from?.recycle(buf))) await once(out, 'drain');
    };
    try {
      await readCaptureFile(file, {
        follow: o.follow,
        signal: stop.signal,
        onFile: () => {
          if (lines !== null) void write(lines.end());
          lines = new PacketLines(o.format, (m) => warn(`${file}: ${m}`));
        },
        onChunk: async (chunk) => {
          const l = lines!;
          if (l.fatal !== null) return;
          await write(l.push(chunk));
          if (l.fatal !== null) {
            warn(`${file}: ${l.fatal}`);
            status = EX_DATAERR;
          }
        },
      });
    } catch (err) {
      warn(`${file}: ${describeErrno(err)}`);
      status = EX_NOINPUT;
      continue;
    }
    const l = lines as PacketLines | null;
    if (l !== null) {
      await write(l.end());
      if (l.fatal !== null && status === EX_OK) {
        warn(`${file}: ${l.fatal}`);
        status = EX_DATAERR;
      }
      const s = l.stats;
      if (s.corrupt > 0) warn(`${file}: ${s.corrupt} corrupt records skipped (${s.skippedBytes} bytes)`);
    }
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return status;
}
