// Checks a relay's log against the input, streaming both: every input line
// must appear once, in order, byte for byte, after its stamp is stripped.
// pfasciilogd's own event lines (" pfasciilogd: ") are counted separately.

import * as fs from 'node:fs';

const NL = 0x0a;
export const STAMP_LEN = 33; // "2023-05-01T01:48:13.748353+02:00 "
export const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d $/;
const EVENT = Buffer.from(' pfasciilogd: ', 'latin1');

/** Reads a file line by line (without the newline), synchronously, in large chunks. */
export class LineReader {
  private buf = Buffer.allocUnsafe(1 << 20);
  private start = 0;
  private end = 0;
  private eof = false;
  /** the last line returned had no newline */
  unterminated = false;

  constructor(private readonly fd: number) {}

  /** The next line, valid until the next call; null at end of file. */
  next(): Buffer | null {
    for (;;) {
      const nl = this.buf.indexOf(NL, this.start);
      if (nl !== -1 && nl < this.end) {
        const line = this.buf.subarray(this.start, nl);
        this.start = nl + 1;
        return line;
      }
      if (this.eof) {
        if (this.start === this.end) return null;
        const line = this.buf.subarray(this.start, this.end);
        this.start = this.end;
        this.unterminated = true;
        return line;
      }
      this.fill();
    }
  }

  private fill(): void {
    const rest = this.end - this.start;
    if (rest === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else {
      this.buf.copyWithin(0, this.start, this.end);
    }
    this.start = 0;
    this.end = rest;
    const n = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
    if (n === 0) this.eof = true;
    this.end += n;
  }
}

export interface VerifyResult {
  dataLines: number;
  eventLines: number;
  /** the first problem found, or null */
  error: string | null;
}

function show(b: Buffer): string {
  const s = JSON.stringify(b.toString('latin1'));
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

/**
 * Compares `logPath` with `inputPath`. `stamped`: each data line must start
 * with an ISO-8601 stamp and a space; `events`: lines holding " pfasciilogd: "
 * are the daemon's own and are skipped.
 */
export function verifyLog(inputPath: string, logPath: string, stamped: boolean, events: boolean): VerifyResult {
  const inFd = fs.openSync(inputPath, 'r');
  const logFd = fs.openSync(logPath, 'r');
  try {
    const input = new LineReader(inFd);
    const log = new LineReader(logFd);
    let dataLines = 0;
    let eventLines = 0;
    let inputLines = 0;
    let error: string | null = null;
    for (let line = log.next(); line !== null; line = log.next()) {
      if (events && line.indexOf(EVENT) !== -1) {
        eventLines++;
        continue;
      }
      dataLines++;
      if (error !== null) continue; // after the first difference, only count
      let data = line;
      if (stamped) {
        const prefix = line.subarray(0, STAMP_LEN).toString('latin1');
        if (!STAMP.test(prefix)) {
          error = `data line ${dataLines}: no stamp prefix: ${show(line)}`;
          continue;
        }
        data = line.subarray(STAMP_LEN);
      }
      const want = input.next();
      if (want === null) {
        error = `data line ${dataLines}: more lines than the input`;
        continue;
      }
      inputLines++;
      if (!data.equals(want)) error = `data line ${dataLines} differs from the input:\n    got  ${show(data)}\n    want ${show(want)}`;
    }
    if (error === null && log.unterminated) error = 'the last line has no newline';
    if (error === null) {
      let missing = 0;
      while (input.next() !== null) missing++;
      if (missing > 0) error = `${missing} input lines missing after line ${inputLines}`;
    }
    return { dataLines, eventLines, error };
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(logFd);
  }
}
