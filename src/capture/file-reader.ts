// Reads a capture file (or stdin) as chunks. With `follow`, it waits for the
// file to grow like `tail -F` and, when pflogd or newsyslog replaces or
// truncates it, finishes the old file and starts again on the new one.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileReaderOptions {
  follow: boolean;
  /** poll interval while following, ms */
  pollMs?: number;
  /** a new file begins (first open, and after each replacement); the next chunk waits for it */
  onFile(): void | Promise<void>;
  /**
   * One chunk, valid until the returned promise settles (the buffer is
   * reused); resolve when the consumer can take more, with 'stop' when it
   * wants no more of this input (it is not a capture).
   */
  onChunk(chunk: Buffer): Promise<ChunkVerdict> | ChunkVerdict;
  /** stop reading (between chunks: a chunk given is always decoded whole) when this aborts */
  signal?: AbortSignal;
}

export type ChunkVerdict = void | 'stop';

const CHUNK = 256 * 1024;

async function readStream(stream: NodeJS.ReadableStream, o: FileReaderOptions): Promise<void> {
  await o.onFile();
  const stopped = () => o.signal?.aborted === true;
  // a pipe nobody writes to any more would hold the loop below for ever: the abort ends it
  const onAbort = () => (stream as Readable).destroy();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      if ((await o.onChunk(chunk as Buffer)) === 'stop' || stopped()) return;
    }
  } catch (err) {
    if (!stopped()) throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Ends an open of the FIFO at `path` that waits for a writer (abandoned on
 * a signal): Node's exit would wait for it. Opening the FIFO for writing,
 * without blocking, and closing it at once lets that open return (and its
 * handle be closed); nothing is written. Only for a FIFO.
 */
function releaseFifoOpen(path: string): void {
  try {
    if (!fs.lstatSync(path).isFIFO()) return;
    fs.closeSync(fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW));
  } catch {
    // no reader waiting any more (ENXIO), or the path is gone: nothing to end
  }
}

/**
 * The read's (or open's) result, or null once `signal` aborts first: a read
 * of a FIFO that nobody writes to any more never ends, the open of a FIFO no
 * writer has opened never returns, and neither can be cancelled.
 */
function unlessAborted<T>(read: Promise<T>, signal: AbortSignal | undefined): Promise<T | null> {
  if (signal === undefined) return read;
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    read.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export async function readCaptureFile(path: string, o: FileReaderOptions): Promise<void> {
  if (path === '-') return readStream(process.stdin, o);
  // Asynchronous reads: each chunk is its own turn of the event loop, so
  // signals, write callbacks and timers run while a large file is read.
  const opening = fsp.open(path, 'r');
  const opened = await unlessAborted(opening, o.signal);
  if (opened === null) {
    void opening.then((h) => h.close()).catch(() => undefined);
    releaseFifoOpen(path);
    return;
  }
  let fh = opened;
  const first = await fh.stat();
  if (first.isFIFO()) {
    // A writer has come. The pipe is read as a stream (epoll), not by reads
    // in libuv's thread pool: one of those, waiting on a writer that has
    // gone quiet, could not be cancelled, and Node's exit waits for it.
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    await fh.close();
    if (st.dev !== first.dev || st.ino !== first.ino) {
      fs.closeSync(fd);
      throw Object.assign(new Error('replaced while being opened'), { code: 'EAGAIN', syscall: 'open' });
    }
    return readStream(new net.Socket({ fd, readable: true, writable: false }), o);
  }
  let ino = first.ino;
  // Reading ahead is for files: from a FIFO or device it could block for
  // ever after the last chunk the consumer wanted. A FIFO has no offsets
  // (pread fails with ESPIPE): it is read where it stands.
  const seekable = first.isFile();
  let pos = 0;
  await o.onFile();
  // Two buffers for all reads, used in turn: the next chunk is read while
  // this one is decoded (a fresh buffer per read would be garbage the GC
  // collects late, and the process would grow by tens of megabytes).
  let buf = Buffer.allocUnsafe(CHUNK);
  let next = Buffer.allocUnsafe(CHUNK);
  let abandoned = false;
  try {
    let ahead: Promise<{ bytesRead: number }> | null = null;
    for (;;) {
      const pending: Promise<{ bytesRead: number }> = ahead ?? fh.read(buf, 0, CHUNK, seekable ? pos : null);
      const got = await unlessAborted(pending, o.signal);
      if (got === null) {
        // Abandoned: the handle closes once the read ends, if it ever does.
        // The caller exits without waiting for that (see runRead).
        abandoned = true;
        const open = fh;
        void pending.finally(() => open.close()).catch(() => undefined);
        return;
      }
      const n: number = got.bytesRead;
      ahead = null;
      if (n > 0) {
        pos += n;
        if (n === CHUNK && seekable) ahead = fh.read(next, 0, CHUNK, pos); // more is likely: fetch it meanwhile
        // Fixed: an endless input (/dev/zero, a pipe) once ran on after a
        // signal or after it was found not to be a capture.
        if ((await o.onChunk(buf.subarray(0, n))) === 'stop' || o.signal?.aborted) {
          await ahead?.catch(() => undefined); // settle the read ahead (of a file: it ends) before its handle closes
          return;
        }
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
        await o.onFile();
        continue;
      }
      try {
        await sleep(o.pollMs ?? 250, undefined, { signal: o.signal });
      } catch {
        return; // aborted
      }
    }
  } finally {
    if (!abandoned) await fh.close();
  }
}
