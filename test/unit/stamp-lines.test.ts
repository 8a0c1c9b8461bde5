import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineStamper, MAX_LINE_BYTES } from '../../src/format/stamp-lines.js';
import { prng } from '../support/prng.js';

const S = Buffer.from('S ', 'latin1');
const str = (b: Buffer | null) => (b === null ? null : b.toString('latin1'));


/** tcpdump-style escaping, written out independently of src/format/escape.ts. */
function esc(bytes: Uint8Array): string {
  let out = '';
  for (let c of bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out += String.fromCharCode(c);
      continue;
    }
    if (c >= 0x80) {
      out += 'M-';
      c -= 0x80;
    }
    out += c < 0x20 || c === 0x7f ? '^' + String.fromCharCode(c + (c === 0x7f ? -0x40 : 0x40)) : String.fromCharCode(c);
  }
  return out;
}

test('whole lines get the stamp; a partial line waits for its newline', () => {
  const ls = new LineStamper();
  assert.equal(str(ls.push(Buffer.from('a\nb\n'), S)), 'S a\nS b\n');
  assert.equal(ls.pendingBytes, 0);
  assert.equal(ls.push(Buffer.from('par'), S), null);
  assert.equal(ls.pendingBytes, 3);
  assert.equal(ls.push(Buffer.from('ti'), S), null);
  assert.equal(str(ls.push(Buffer.from('al\nnext'), Buffer.from('T '))), 'T partial\n', 'stamped when completed');
  assert.equal(ls.pendingBytes, 4);
  assert.equal(str(ls.push(Buffer.from('\n'), S)), 'S next\n');
  assert.equal(str(ls.push(Buffer.from('\n\n'), S)), 'S \nS \n', 'empty lines stay lines');
  assert.equal(ls.push(Buffer.alloc(0), S), null);
});

test('end() flushes the unterminated tail as a line, once', () => {
  const ls = new LineStamper();
  assert.equal(ls.end(S), null);
  ls.push(Buffer.from('x\ntail \x01'), S);
  assert.equal(str(ls.end(Buffer.from('E '))), 'E tail ^A\n');
  assert.equal(ls.pendingBytes, 0);
  assert.equal(ls.end(S), null);
  // and the stamper is usable again afterwards (the next run of tcpdump)
  assert.equal(str(ls.push(Buffer.from('again\n'), S)), 'S again\n');
});

test('odd bytes are escaped tcpdump-style and never start a line', () => {
  const ls = new LineStamper();
  const input = Buffer.concat([
    Buffer.from('cr\r\n', 'latin1'),
    Buffer.from('caf\u00e9\n', 'utf8'),
    Buffer.from([0x00, 0x01, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x7f, 0x80, 0xff, 0x0a]),
    Buffer.from('lone\rcr in the middle\n', 'latin1'),
  ]);
  assert.equal(
    str(ls.push(input, S)),
    'S cr^M\n' + 'S cafM-CM-)\n' + 'S ^@^A^[[31m^?M-^@M-^?\n' + 'S lone^Mcr in the middle\n',
  );
});

test('the partial line is copied, not a view of the caller\'s chunk', () => {
  const ls = new LineStamper();
  const chunk = Buffer.from('abc');
  ls.push(chunk, S);
  chunk.fill(0x21);
  assert.equal(str(ls.push(Buffer.from('\n'), S)), 'S abc\n');
});

test('property: any split of the input gives the same lines (seeded)', () => {
  const rand = prng(20230501);
  const palette = [...Buffer.from('abcdefgh 0123456789:./-[]()', 'latin1'), 0x00, 0x09, 0x0d, 0x1b, 0x7f, 0x80, 0xa9, 0xc3, 0xff];
  for (let round = 0; round < 400; round++) {
    // Random lines, some with odd bytes, maybe an unterminated tail.
    const bytes: number[] = [];
    const nLines = Math.floor(rand() * 12);
    for (let l = 0; l < nLines; l++) {
      const len = Math.floor(rand() * 30);
      const odd = rand() < 0.3;
      for (let i = 0; i < len; i++) {
        bytes.push(odd || i === 0 ? palette[Math.floor(rand() * palette.length)]! : palette[Math.floor(rand() * 27)]!);
      }
      if (l < nLines - 1 || rand() < 0.7) bytes.push(0x0a);
    }
    const input = Buffer.from(bytes);
    // Random cut points, duplicates allowed (empty chunks).
    const cuts = Array.from({ length: Math.floor(rand() * 8) }, () => Math.floor(rand() * (input.length + 1))).sort((a, b) => a - b);
    const bounds = [0, ...cuts, input.length];
    const ls = new LineStamper();
    let got = '';
    const chunkOfByte: number[] = [];
    for (let k = 0; k + 1 < bounds.length; k++) {
      for (let i = bounds[k]!; i < bounds[k + 1]!; i++) chunkOfByte[i] = k;
      const out = ls.push(input.subarray(bounds[k], bounds[k + 1]), Buffer.from(`${k} `));
      if (out !== null) {
        assert.equal(out[out.length - 1], 0x0a, 'output ends with a newline');
        got += out.toString('latin1');
      }
    }
    const tail = ls.end(Buffer.from('end '));
    if (tail !== null) got += tail.toString('latin1');

    // Expected: each line escaped, stamped with the chunk that brought its newline.
    let want = '';
    let start = 0;
    for (let i = 0; i < input.length; i++) {
      if (input[i] === 0x0a) {
        want += `${chunkOfByte[i]} ${esc(input.subarray(start, i))}\n`;
        start = i + 1;
      }
    }
    if (start < input.length) want += `end ${esc(input.subarray(start))}\n`;
    assert.equal(got, want, `round ${round}: cuts ${JSON.stringify(cuts)} of ${JSON.stringify(input.toString('latin1'))}`);
    for (const line of got.split('\n').slice(0, -1)) assert.match(line, /^(\d+|end) [\x20-\x7e]*$/);
  }
});

test('a long run without a newline: its head comes out at the limit, the rest up to the newline is dropped', () => {
  assert.equal(MAX_LINE_BYTES, 64 * 1024);
  const ls = new LineStamper();
  assert.equal(ls.push(Buffer.alloc(MAX_LINE_BYTES - 1, 'x'), S), null, 'just under the limit: kept');
  assert.equal(ls.pendingBytes, MAX_LINE_BYTES - 1);
  const out = str(ls.push(Buffer.from('x'), S));
  assert.equal(out, 'S ' + 'x'.repeat(MAX_LINE_BYTES) + '\n', 'at the limit: the head is written');
  assert.equal(ls.pendingBytes, 0);
  assert.equal(ls.takeCuts(), null, 'nothing dropped yet');
  assert.equal(ls.push(Buffer.from('rest of the same line'), S), null, 'the rest is not a line');
  assert.equal(str(ls.push(Buffer.from(' still\nnext\n'), S)), 'S next\n', 'the line after the newline is');
  assert.deepEqual(ls.takeCuts(), { lines: 1, bytes: 27 });
  assert.equal(ls.takeCuts(), null, 'taken once');
});

test('a line of exactly the limit is kept whole and counts as no cut', () => {
  const ls = new LineStamper();
  const line = 'y'.repeat(MAX_LINE_BYTES);
  assert.equal(str(ls.push(Buffer.from(`${line}\nz\n`), S)), `S ${line}\nS z\n`);
  assert.equal(str(ls.push(Buffer.from(line), S)), `S ${line}\n`, 'at the limit before its newline');
  assert.equal(str(ls.push(Buffer.from('\nz\n'), S)), 'S z\n', 'its newline makes no empty line');
  assert.equal(ls.takeCuts(), null);
});

test('one big chunk: each over-long line keeps its head, complete lines around it stay whole', () => {
  const ls = new LineStamper();
  const big = 'rule 1/0(match): block in on em0: 192.0.2.7.80 > 198.51.100.1.80: HTTP: GET /' + 'A'.repeat(MAX_LINE_BYTES);
  const fake = 'rule 1/0(match): block in on em0: 6.6.6.6.1 > 1.1.1.1.1: Flags [S]';
  const out = str(ls.push(Buffer.from(`a\n${big}${fake}\nb\n${big}${fake}`), S))!;
  const head = big.slice(0, MAX_LINE_BYTES);
  assert.equal(out, `S a\nS ${head}\nS b\nS ${head}\n`);
  assert.doesNotMatch(out, /6\.6\.6\.6/);
  assert.equal(str(ls.push(Buffer.from(' more\nc\n'), S)), 'S c\n');
  const rest = big.length - MAX_LINE_BYTES + fake.length;
  assert.deepEqual(ls.takeCuts(), { lines: 2, bytes: 2 * rest + 5 });
});

test('a long run fed in pipe-sized chunks: one head, everything else dropped and counted', () => {
  const ls = new LineStamper();
  const total = 300_000;
  const rand = prng(7);
  const input = Buffer.alloc(total);
  for (let i = 0; i < total; i++) input[i] = 0x61 + Math.floor(rand() * 26);
  let got = '';
  for (let off = 0; off < total; ) {
    const n = Math.min(total - off, 1 + Math.floor(rand() * 65536));
    const out = ls.push(input.subarray(off, off + n), S);
    off += n;
    assert.ok(ls.pendingBytes < MAX_LINE_BYTES, `pending ${ls.pendingBytes}`);
    if (out !== null) got += out.toString('latin1');
  }
  assert.equal(got, `S ${input.subarray(0, MAX_LINE_BYTES).toString('latin1')}\n`);
  assert.equal(ls.takeCuts(), null, 'counted when the line ends');
  assert.equal(ls.end(S), null, 'nothing left to write at the end');
  assert.deepEqual(ls.takeCuts(), { lines: 1, bytes: total - MAX_LINE_BYTES });
});

test('a smaller limit can be configured; heads are escaped; reset() ends a drop', () => {
  const ls = new LineStamper(8);
  assert.equal(ls.push(Buffer.from('1234567'), S), null);
  assert.equal(str(ls.push(Buffer.from('8'), S)), 'S 12345678\n');
  assert.equal(ls.push(Buffer.from('9\n'), S), null, 'the rest of that line');
  assert.equal(str(ls.push(Buffer.from('ok\n'), S)), 'S ok\n');
  assert.equal(str(ls.push(Buffer.from('\x01\x02\x03\x04\x05\x06\x07\x08\x09\n'), S)), 'S ^A^B^C^D^E^F^G^H\n', 'heads are escaped');
  assert.equal(str(ls.push(Buffer.from('abcdefghijklmnopqrst'), S)), 'S abcdefgh\n');
  assert.equal(ls.pendingBytes, 0);
  ls.reset(); // a new run of tcpdump: its first line is a line
  assert.equal(str(ls.push(Buffer.from('x\n'), S)), 'S x\n');
  assert.deepEqual(ls.takeCuts(), { lines: 2, bytes: 2 }, 'the line cut by reset() lost bytes not counted here');
});

test('property: any split gives the same heads and the same cut count (seeded, limit 8)', () => {
  const rand = prng(65536);
  for (let round = 0; round < 400; round++) {
    const lines: string[] = [];
    const nLines = 1 + Math.floor(rand() * 8);
    for (let l = 0; l < nLines; l++) lines.push('abcdefghijklmnop'.slice(0, Math.floor(rand() * 17)));
    const input = Buffer.from(lines.join('\n') + '\n');
    const cuts = Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * (input.length + 1))).sort((a, b) => a - b);
    const bounds = [0, ...cuts, input.length];
    const ls = new LineStamper(8);
    let got = '';
    for (let k = 0; k + 1 < bounds.length; k++) {
      const out = ls.push(input.subarray(bounds[k], bounds[k + 1]), S);
      if (out !== null) got += out.toString('latin1');
    }
    assert.equal(ls.end(S), null);
    const want = lines.map((l) => `S ${l.slice(0, 8)}\n`).join('');
    const cutLines = lines.filter((l) => l.length > 8);
    assert.equal(got, want, `round ${round}: cuts ${JSON.stringify(cuts)} of ${JSON.stringify(lines)}`);
    const c = ls.takeCuts();
    assert.deepEqual(c, cutLines.length === 0 ? null : { lines: cutLines.length, bytes: cutLines.reduce((n, l) => n + l.length - 8, 0) });
  }
});
