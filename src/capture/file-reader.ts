// Reads a capture file (or stdin) as chunks. With `follow`, it waits for the
// file to grow like `tail -F` and, when pflogd or newsyslog replaces or
// truncates it, finishes the old file and starts again on the new one.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileReaderOptions {
  follow: boolean;
  /** poll interval while following, ms */
  pollMs?: number;
  /** a new file begins (first open, and after each replacement) */
  onFile(): void;
  /** one chunk, valid until the returned promise settles (the buffer is reused); resolve when the consumer can take more */
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
  // Asynchronous reads: each chunk is its own turn of the event loop, so
  // signals, write callbacks and timers run while a large file is read.
  let fh = await fsp.open(path, 'r');
  let ino = (await fh.stat()).ino;
  let pos = 0;
  o.onFile();
  // Two buffers for all reads, used in turn: the next chunk is read while
  // this one is decoded (a fresh buffer per read would be garbage the GC
  // collects late, and the process would grow by tens of megabytes).
  let buf = Buffer.allocUnsafe(CHUNK);
  let next = Buffer.allocUnsafe(CHUNK);
  try {
    let ahead: Promise<{ bytesRead: number }> | null = null;
    for (;;) {
      const n: number = (await (ahead ?? fh.read(buf, 0, CHUNK, pos))).bytesRead;
      ahead = null;
      if (n > 0) {
        pos += n;
        if (n === CHUNK) ahead = fh.read(next, 0, CHUNK, pos); // more is likely: fetch it meanwhile
        await o.onChunk(buf.subarray(0, n));
        [buf, next] = [next, buf];
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
        await fh.close();
        fh = await fsp.open(path, 'r');
        ino = (await fh.stat()).ino;
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
    await fh.close();
  }
}
