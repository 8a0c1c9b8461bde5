// Capture bytes in, stamped lines out: the capture-stream decoder, the frame
// decoder and one or more line formats, chained. Pure apart from the warning
// callback; used by `read` and by the daemon's native decoder. Each packet is
// decoded once and written once per format (the daemon's outputs that share a
// format share its bytes), into one reusable buffer per format.

import { CaptureStreamDecoder, type CaptureStats } from '../decode/capture-stream.js';
import { decodeFrame, reusable, type Frame } from '../decode/frame.js';
import type { RepeatFilter } from '../dedupe/repeat-filter.js';
import { AsciiWriter } from './ascii-writer.js';
import { writePacketLine, type OutputFormat } from './line.js';
import type { InterfaceNames } from './nflog-text.js';

export class PacketLines {
  private readonly decoder: CaptureStreamDecoder;
  private readonly formats: readonly OutputFormat[];
  private readonly writers: AsciiWriter[];
  /** what pushEach()/endEach() return, one slot per format: reused, not reallocated */
  private readonly taken: (Buffer | null)[];
  /** each packet is written out before the next is decoded: its objects can be reused */
  private readonly scratch = reusable();

  constructor(
    /** one format, or several: then use pushEach()/endEach(), whose slots follow this order */
    format: OutputFormat | readonly OutputFormat[],
    onWarning: (message: string) => void,
    /** names for NFLOG interface indexes (the daemon's host); none: "ifN" */
    private readonly names?: InterfaceNames,
    /** --dedupe: drops repeats of a (source, protocol, port) within its window, for every format */
    private readonly repeats: RepeatFilter | null = null,
  ) {
    this.formats = typeof format === 'string' ? [format] : [...format];
    if (this.formats.length === 0) throw new Error('PacketLines: no format');
    this.writers = this.formats.map(() => new AsciiWriter(1 << 16));
    this.taken = this.formats.map(() => null);
    this.decoder = new CaptureStreamDecoder((f) => this.frame(f), onWarning);
  }

  private frame(f: Frame): void {
    const p = decodeFrame(f, this.scratch);
    if (this.repeats !== null && !this.repeats.admit(p)) return;
    for (let i = 0; i < this.formats.length; i++) writePacketLine(this.writers[i]!, p, this.formats[i]!, this.names);
  }

  /** Whole lines of the first format for every complete record in the chunk, or null. */
  push(chunk: Buffer): Buffer | null {
    return this.pushEach(chunk)[0]!;
  }

  end(): Buffer | null {
    return this.endEach()[0]!;
  }

  /** Whole lines per format (null: none), for every complete record in the chunk. Valid until the next call. */
  pushEach(chunk: Buffer): readonly (Buffer | null)[] {
    this.decoder.push(chunk);
    return this.takeEach();
  }

  endEach(): readonly (Buffer | null)[] {
    this.decoder.end();
    return this.takeEach();
  }

  /** A buffer of format `index` from push()/pushEach()/end() has been written out and may be reused. */
  recycle(lines: Buffer, index = 0): void {
    this.writers[index]!.recycle(lines);
  }

  /** Set when the input is not a capture at all. */
  get fatal(): string | null {
    return this.decoder.fatal;
  }

  get stats(): CaptureStats {
    return this.decoder.stats;
  }

  private takeEach(): readonly (Buffer | null)[] {
    for (let i = 0; i < this.writers.length; i++) {
      const w = this.writers[i]!;
      this.taken[i] = w.pos === 0 ? null : w.take();
    }
    return this.taken;
  }
}
