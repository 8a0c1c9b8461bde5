// Capture bytes in, stamped lines out: the capture-stream decoder, the frame
// decoder and a line format, chained. Pure apart from the warning callback;
// used by `read` and by the daemon's native decoder.

import { CaptureStreamDecoder, type CaptureStats } from '../decode/capture-stream.js';
import { decodeFrame, reusable, type Frame } from '../decode/frame.js';
import type { RepeatFilter } from '../dedupe/repeat-filter.js';
import { AsciiWriter } from './ascii-writer.js';
import { writePacketLine, type OutputFormat } from './line.js';
import type { InterfaceNames } from './nflog-text.js';

export class PacketLines {
  private readonly decoder: CaptureStreamDecoder;
  private readonly out = new AsciiWriter(1 << 16);
  /** each packet is written out before the next is decoded: its objects can be reused */
  private readonly scratch = reusable();

  constructor(
    private readonly format: OutputFormat,
    onWarning: (message: string) => void,
    /** names for NFLOG interface indexes (the daemon's host); none: "ifN" */
    private readonly names?: InterfaceNames,
    /** --dedupe: drops repeats of a (source, protocol, port) within its window */
    private readonly repeats: RepeatFilter | null = null,
  ) {
    this.decoder = new CaptureStreamDecoder((f) => this.frame(f), onWarning);
  }

  private frame(f: Frame): void {
    const p = decodeFrame(f, this.scratch);
    if (this.repeats !== null && !this.repeats.admit(p)) return;
    writePacketLine(this.out, p, this.format, this.names);
  }

  /** Whole lines for every complete record in the chunk, or null. */
  push(chunk: Buffer): Buffer | null {
    this.decoder.push(chunk);
    return this.take();
  }

  end(): Buffer | null {
    this.decoder.end();
    return this.take();
  }

  /** A buffer from push()/end() has been written out and may be reused. */
  recycle(lines: Buffer): void {
    this.out.recycle(lines);
  }

  /** Set when the input is not a capture at all. */
  get fatal(): string | null {
    return this.decoder.fatal;
  }

  get stats(): CaptureStats {
    return this.decoder.stats;
  }

  private take(): Buffer | null {
    return this.out.pos === 0 ? null : this.out.take();
  }
}
