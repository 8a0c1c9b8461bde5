// One capture file (or stdin) to stamped lines: the file reader feeding
// PacketLines, a new decoder per file (a file replaced under --follow is a new
// stream). Shared by `read` (lines to stdout) and the daemon reading -r itself
// (lines to its outputs, one or more formats). The stamp is each packet's
// capture time.

import { readCaptureFile } from '../capture/file-reader.js';
import type { RepeatFilter } from '../dedupe/repeat-filter.js';
import { EX_DATAERR, EX_NOINPUT, EX_OK, describeErrno } from '../util/sysexits.js';
import type { OutputFormat } from './line.js';
import type { InterfaceNames } from './nflog-text.js';
import { PacketLines } from './packet-lines.js';

export interface CaptureFileLinesOptions {
  /** several: each packet is decoded once and written once per format */
  format: OutputFormat | readonly OutputFormat[];
  follow: boolean;
  /** names for NFLOG interface indexes; none: "ifN" */
  names?: InterfaceNames;
  repeats: RepeatFilter | null;
  /** stop at the next chunk, with the lines so far written */
  signal?: AbortSignal;
  /** a problem with the file, one line, prefixed with its name */
  warn(message: string): void;
  /** whole lines of format number `index`; call `recycle` once they are written; resolve when more can be taken */
  write(lines: Buffer, recycle: () => void, index: number): Promise<void>;
}

function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** Decodes `file` and writes its lines: EX_OK, EX_DATAERR (not a capture), or EX_NOINPUT (cannot read it). */
export async function writeCaptureFileLines(file: string, o: CaptureFileLinesOptions): Promise<number> {
  let status = EX_OK;
  let lines: PacketLines | null = null;
  const write = async (bufs: readonly (Buffer | null)[]) => {
    const from = lines;
    for (let i = 0; i < bufs.length; i++) {
      const buf = bufs[i]!;
      if (buf !== null) await o.write(buf, () => from?.recycle(buf, i), i);
    }
  };
  const reportCorrupt = (l: PacketLines) => {
    const s = l.stats;
    if (s.corrupt > 0) o.warn(`${file}: ${s.corrupt} corrupt records skipped (${s.skippedBytes} bytes)`);
  };
  const fatal = (l: PacketLines) => {
    o.warn(`${file}: ${l.fatal}`);
    status = EX_DATAERR;
  };
  try {
    await readCaptureFile(file, {
      follow: o.follow,
      signal: o.signal,
      onFile: async () => {
        // the file was replaced (--follow): the old one's tail and its count first
        const old = lines as PacketLines | null;
        if (old !== null) {
          await write(old.endEach());
          reportCorrupt(old);
        }
        lines = new PacketLines(o.format, (m) => o.warn(`${file}: ${m}`), o.names, o.repeats);
      },
      onChunk: async (chunk) => {
        const l = lines!;
        await write(l.pushEach(chunk));
        if (l.fatal === null) return;
        fatal(l); // not a capture: no use reading on (it may be /dev/zero)
        return 'stop';
      },
    });
  } catch (err) {
    // The file's own failure (open, read, stat: an errno with its system
    // call) is said and ends this file; anything else is a fault of ours in
    // the decoder, the formatter or the caller, and goes on up.
    if (!isSystemError(err)) throw err;
    o.warn(`${file}: ${describeErrno(err)}`);
    return EX_NOINPUT;
  }
  const l = lines as PacketLines | null;
  if (l === null || l.fatal !== null) return status;
  // interrupted: what is held back is the start of a record not yet read, not a damaged end
  if (o.signal?.aborted !== true) {
    await write(l.endEach());
    if (l.fatal !== null) fatal(l); // too short, or empty
  }
  reportCorrupt(l);
  return status;
}
