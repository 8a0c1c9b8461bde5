// Reads a capture file (or stdin) as chunks. With `follow`, it waits for the
// file to grow like `tail -F` and, when pflogd or newsyslog replaces or
// truncates it, finishes the old file and starts again on the new one.

import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileReaderOptions {
  follow: boolean;
  /** poll interval while following, ms */
  pollMs?: number;
  /** a new file begins (first open, and after each replacement) */
  onFile(): void;
  /** one chunk; resolve when the consumer can take more (backpressure) */
  onChunk(chunk: Buffer): Promise<void> | void;
  /** stop following when this aborts */
  signal?: AbortSignal;
}

const CHUNK = 256 * 1024;

async function readStream(stream: NodeJS.ReadableStream, o: FileReaderOptions): Promise<void> {
  o.onFile();
  for await (const chunk of stream) await o.onChunk(chunk as Buffer);
}

export async function readCaptureFile(path: string, o: FileReaderOptions): Promise<void> {
  if (path === '-') return readStream(process.stdin, o);
  let fd = fs.openSync(path, 'r');
  let ino = fs.fstatSync(fd).ino;
  let pos = 0;
  o.onFile();
  const buf = Buffer.allocUnsafe(CHUNK);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n > 0) {
        pos += n;
        await o.onChunk(Buffer.from(buf.subarray(0, n)));
        continue;
      }
      if (!o.follow || o.signal?.aborted) return;
      // At the end: has the file been replaced or truncated?
      let st: fs.Stats | null = null;
      try {
        st = fs.statSync(path);
      } catch {
        st = null; // between rename and create: keep waiting
      }
      if (st !== null && (st.ino !== ino || st.size < pos)) {
        fs.closeSync(fd);
        fd = fs.openSync(path, 'r');
        ino = fs.fstatSync(fd).ino;
        pos = 0;
        o.onFile();
        continue;
      }
      try {
        await sleep(o.pollMs ?? 250, undefined, { signal: o.signal });
      } catch {
        return; // aborted
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
