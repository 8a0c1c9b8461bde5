// Capture bytes in, stamped lines out: the capture-stream decoder, the frame
// decoder and a line format, chained. Pure apart from the warning callback;
// used by `read` and by the daemon's native decoder.

import { CaptureStreamDecoder, type CaptureStats } from '../decode/capture-stream.js';
import { decodeFrame, type Frame } from '../decode/frame.js';
import { formatPacketLine, type OutputFormat } from './line.js';

export class PacketLines {
  private readonly decoder: CaptureStreamDecoder;
  private lines: string[] = [];

  constructor(
    private readonly format: OutputFormat,
    onWarning: (message: string) => void,
  ) {
    this.decoder = new CaptureStreamDecoder((f) => this.frame(f), onWarning);
  }

  private frame(f: Frame): void {
    this.lines.push(formatPacketLine(decodeFrame(f), this.format));
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

  /** Set when the input is not a capture at all. */
  get fatal(): string | null {
    return this.decoder.fatal;
  }

  get stats(): CaptureStats {
    return this.decoder.stats;
  }

  private take(): Buffer | null {
    if (this.lines.length === 0) return null;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    return Buffer.from(text, 'latin1');
  }
}
