// One input of `stats` (a file, or '-' for standard input) into the
// aggregator. What it is comes from its first bytes, not its name:
//   1f 8b            gzip: gunzipped here (node:zlib), then looked at again
//   "BZh"            bzip2: through the system's bzcat, then looked at again
//   pcap or pcapng   a capture: decoded to records directly (no text in between)
//   anything else    text: our log's lines, one record per packet line
// so pf.log.0.gz, pf.log.1.bz2 (newsyslog's J flag), pflogd's /var/log/pflog
// and a gzipped capture all just work.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fsp from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import { CaptureStreamDecoder } from '../decode/capture-stream.js';
import { decodeFrame, reusable } from '../decode/frame.js';
import { escapeText } from '../format/escape.js';
import { EX_DATAERR, EX_NOINPUT, EX_OK, EX_UNAVAILABLE, describeErrno } from '../util/sysexits.js';
import type { Aggregator } from './aggregate.js';
import { PacketRecords } from './packet-record.js';
import { TextLineParser } from './parse-text-line.js';
import { LineKind, newRecord } from './record.js';

const CHUNK = 1 << 20;
/** a "line" longer than this is not one of ours: counted as not understood, in pieces */
const MAX_LINE = 1 << 20;
/** gzip inside bzip2 inside gzip...: enough */
const MAX_LAYERS = 3;

export type InputKind = 'text' | 'gzip' | 'bzip2' | 'capture';

/** What the first bytes say. */
export function inputKind(head: Uint8Array): InputKind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3]! >= 0x31 && head[3]! <= 0x39) return 'bzip2';
  if (head.length >= 4) {
    const be = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    const le = ((head[3]! << 24) | (head[2]! << 16) | (head[1]! << 8) | head[0]!) >>> 0;
    for (const m of [0xa1b2c3d4, 0xa1b23c4d]) if (be === m || le === m) return 'capture';
    if (be === 0x0a0d0d0a) return 'capture';
  }
  return 'text';
}

/** A failure that ends one input: its message and exit status. */
class InputError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface InputHooks {
  /** a one-line warning about this input (the caller prefixes the program's name) */
  warn(message: string): void;
}

/** Reads `file` into `agg`; returns its exit status (0, or a sysexits code after a one-line warning). */
export async function readInput(file: string, agg: Aggregator, hooks: InputHooks): Promise<number> {
  const name = file === '-' ? 'standard input' : escapeText(file);
  let source: AsyncIterable<Buffer>;
  let close = async () => {};
  if (file === '-') source = process.stdin;
  else {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch (err) {
      hooks.warn(`${name}: ${describeErrno(err)}`);
      return EX_NOINPUT;
    }
    source = fileChunks(fh);
    close = () => fh.close();
  }
  try {
    return await consume(source, agg, hooks, name, 0);
  } catch (err) {
    if (err instanceof InputError) {
      hooks.warn(`${name}: ${err.message}`);
      return err.status;
    }
    hooks.warn(`${name}: ${describeErrno(err)}`);
    return EX_NOINPUT;
  } finally {
    await close().catch(() => {});
  }
}

/**
 * A file's contents in chunks read into two buffers in turn: the next chunk
 * is read while this one is parsed, and no memory is allocated per chunk. A
 * chunk is only valid until the next is asked for (see owned()).
 */
async function* fileChunks(fh: fsp.FileHandle): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(CHUNK);
  let next = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  let ahead: Promise<{ bytesRead: number }> | null = null;
  try {
    for (;;) {
      const n: number = (await (ahead ?? fh.read(buf, 0, CHUNK, pos))).bytesRead;
      ahead = null;
      if (n === 0) return;
      pos += n;
      if (n === CHUNK) ahead = fh.read(next, 0, CHUNK, pos);
      yield buf.subarray(0, n);
      [buf, next] = [next, buf];
    }
  } finally {
    await ahead?.catch(() => {}); // never close the file under a read
  }
}

/** Chunks that stay valid after the next is read: for consumers that queue them (zlib, a pipe). */
async function* owned(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of source) yield Buffer.from(chunk);
}

/** The first bytes of `source` (at least 4 unless it is shorter), and the whole of it again. */
async function peek(source: AsyncIterable<Buffer>): Promise<[Buffer, AsyncIterable<Buffer>]> {
  const it = source[Symbol.asyncIterator]();
  const got: Buffer[] = [];
  let n = 0;
  let done = false;
  while (n < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    got.push(r.value);
    n += r.value.length;
  }
  const head = Buffer.concat(got);
  async function* again(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return [head, again()];
}

/** Counts one input (or one decompressed layer of it): EX_OK, or EX_DATAERR when it was damaged but counted as far as it goes. */
async function consume(source: AsyncIterable<Buffer>, agg: Aggregator, hooks: InputHooks, name: string, depth: number): Promise<number> {
  const [head, all] = await peek(source);
  const kind = inputKind(head);
  if (depth >= MAX_LAYERS && (kind === 'gzip' || kind === 'bzip2')) throw new InputError(`compressed more than ${MAX_LAYERS} times over`, EX_DATAERR);
  switch (kind) {
    case 'gzip':
      return gunzip(all, agg, hooks, name, depth);
    case 'bzip2':
      return bunzip(all, agg, hooks, name, depth);
    case 'capture':
      return capture(all, agg, hooks, name);
    case 'text':
      return text(all, agg, hooks, name);
  }
}

async function gunzip(all: AsyncIterable<Buffer>, agg: Aggregator, hooks: InputHooks, name: string, depth: number): Promise<number> {
  const out = pipeline(Readable.from(owned(all), { objectMode: false }), zlib.createGunzip({ chunkSize: 1 << 18 }), () => {});
  try {
    return await consume(out, agg, hooks, name, depth + 1);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) throw new InputError(`gzip: ${e.message}`, EX_DATAERR);
    throw err;
  }
}

async function bunzip(all: AsyncIterable<Buffer>, agg: Aggregator, hooks: InputHooks, name: string, depth: number): Promise<number> {
  // argv, never a shell; the data goes through its stdin and stdout
  const child = spawn('bzcat', [], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await once(child, 'spawn');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new InputError('bzip2-compressed, and bzcat was not found on PATH (install bzip2)', EX_UNAVAILABLE);
    throw new InputError(`cannot run bzcat: ${describeErrno(err)}`, EX_UNAVAILABLE);
  }
  let stderr = '';
  child.stderr.setEncoding('latin1');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.on('error', () => {}); // bzcat stopped reading: its exit status says why
  const feeding = (async () => {
    try {
      for await (const chunk of owned(all)) {
        if (child.stdin.destroyed) return;
        if (!child.stdin.write(chunk)) await Promise.race([once(child.stdin, 'drain'), once(child.stdin, 'close')]);
      }
    } finally {
      child.stdin.end();
    }
  })();
  let failure: unknown = null;
  let status = EX_OK;
  try {
    status = await consume(child.stdout, agg, hooks, name, depth + 1);
  } catch (err) {
    failure = err;
    child.kill();
  }
  const code = await exited;
  await feeding.catch((err: unknown) => {
    failure ??= err;
  });
  if (failure !== null) throw failure;
  if (code !== 0) throw new InputError(`bzcat: ${bzcatReason(stderr, code)}`, EX_DATAERR);
  return status;
}

/**
 * bzcat's reason, whole, on one line. It writes the reason first, then
 * "Input file = ..." and a paragraph of advice: that paragraph's last line
 * ("data from undamaged sections of corrupted files.") is all that was once
 * reported.
 */
export function bzcatReason(stderr: string, code: number | null): string {
  const reason: string[] = [];
  for (const line of stderr.split('\n')) {
    if (/^\s*Input file = /.test(line)) break;
    const text = line.replace(/^bzcat: /, '').trim();
    if (text !== '') reason.push(text);
  }
  return reason.length > 0 ? escapeText(reason.join(' ')) : `exit status ${code}`;
}

async function capture(all: AsyncIterable<Buffer>, agg: Aggregator, hooks: InputHooks, name: string): Promise<number> {
  const records = new PacketRecords();
  const scratch = reusable();
  const rec = newRecord();
  const decoder = new CaptureStreamDecoder(
    (f) => {
      records.fill(decodeFrame(f, scratch), rec);
      agg.add(rec);
    },
    (m) => hooks.warn(`${name}: ${m}`),
  );
  for await (const chunk of all) {
    decoder.push(chunk);
    if (decoder.fatal !== null) break;
  }
  decoder.end();
  if (decoder.fatal !== null) throw new InputError(decoder.fatal, EX_DATAERR);
  const s = decoder.stats;
  if (s.corrupt > 0) hooks.warn(`${name}: ${s.corrupt} corrupt records skipped (${s.skippedBytes} bytes)`);
  // Fixed: a damaged capture (corrupt records, or cut off in a record: each
  // already reported above) was counted with exit status 0.
  return s.corrupt > 0 || s.incompleteBytes > 0 ? EX_DATAERR : EX_OK;
}

async function text(all: AsyncIterable<Buffer>, agg: Aggregator, hooks: InputHooks, name: string): Promise<number> {
  const parser = new TextLineParser();
  const rec = newRecord();
  let lineNo = 0;
  let unparsed = 0;
  let firstUnparsed = 0;
  const line = (b: Buffer, a: number, e: number) => {
    lineNo++;
    agg.lines++;
    switch (parser.parse(b, a, e, rec)) {
      case LineKind.PACKET:
        agg.add(rec);
        break;
      case LineKind.EVENT:
        agg.events++;
        break;
      case LineKind.UNPARSED:
        agg.unparsed++;
        if (unparsed++ === 0) firstUnparsed = lineNo;
        break;
    }
  };
  // Lines are parsed where they are in the chunk, as bytes; only a line
  // split between two chunks is copied, to join its two parts.
  let carry: Buffer | null = null;
  for await (const chunk of all) {
    let pos = 0;
    if (carry !== null) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        if (carry.length > MAX_LINE) {
          line(carry, 0, carry.length);
          carry = null;
        }
        continue;
      }
      const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
      line(joined, 0, joined.length);
      carry = null;
      pos = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) break;
      line(chunk, pos, nl);
      pos = nl + 1;
    }
    if (pos < chunk.length) carry = Buffer.from(chunk.subarray(pos));
  }
  if (carry !== null) line(carry, 0, carry.length);
  if (unparsed > 0) hooks.warn(`${name}: ${unparsed} ${unparsed === 1 ? 'line' : 'lines'} not understood (the first: line ${firstUnparsed})`);
  return EX_OK;
}
