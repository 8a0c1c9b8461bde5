import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeBytes, escapeCString, escapeText, isPrintable } from '../../src/format/escape.js';

/** tcpdump's fn_print_char, written out independently. */
function reference(c: number): string {
  let out = '';
  if (c & 0x80) {
    out += 'M-';
    c &= 0x7f;
  }
  if (c < 0x20 || c === 0x7f) return out + '^' + String.fromCharCode(c ^ 0x40);
  return out + String.fromCharCode(c);
}

test('every byte value escapes like tcpdump, to printable ASCII', () => {
  for (let c = 0; c < 256; c++) {
    const s = escapeBytes(Buffer.from([c]));
    assert.equal(s, reference(c), `byte 0x${c.toString(16)}`);
    assert.match(s, /^[\x20-\x7e]+$/);
  }
});

test('well-known cases', () => {
  const cases: Array<[number[], string]> = [
    [[0x0a], '^J'],
    [[0x0d], '^M'],
    [[0x00], '^@'],
    [[0x1b], '^['],
    [[0x09], '^I'],
    [[0x7f], '^?'],
    [[0xe9], 'M-i'],
    [[0x80], 'M-^@'],
    [[0x8a], 'M-^J'],
    [[0xff], 'M-^?'],
    [[0xa0], 'M- '],
    [[0x20, 0x7e], ' ~'],
    [[0xc3, 0xa9], 'M-CM-)'], // UTF-8 é
  ];
  for (const [bytes, want] of cases) assert.equal(escapeBytes(Buffer.from(bytes)), want, JSON.stringify(bytes));
});

test('printable ASCII passes through unchanged; ranges are honoured', () => {
  const all = Buffer.from(Array.from({ length: 95 }, (_, i) => 0x20 + i));
  assert.equal(escapeBytes(all), all.toString('latin1'));
  assert.ok(isPrintable(all));
  const b = Buffer.from('ab\ncd', 'latin1');
  assert.equal(isPrintable(b), false);
  assert.equal(isPrintable(b, 0, 2), true);
  assert.equal(isPrintable(b, 3), true);
  assert.equal(escapeBytes(b, 1, 4), 'b^Jc');
  assert.equal(escapeBytes(b, 2, 2), '');
});

test('escapeCString stops at the first NUL and escapes the rest', () => {
  const field = Buffer.alloc(16);
  Buffer.from('vtnet0', 'latin1').copy(field, 0);
  assert.equal(escapeCString(field, 0, 16), 'vtnet0');
  const odd = Buffer.alloc(16);
  Buffer.from([0x65, 0x6d, 0x0a, 0xe9, 0x30]).copy(odd, 0);
  assert.equal(escapeCString(odd, 0, 16), 'em^JM-i0');
  // no NUL at all: the whole field
  assert.equal(escapeCString(Buffer.from('abcdefgh', 'latin1'), 2, 4), 'cdef');
  // size past the end of the buffer is clamped
  assert.equal(escapeCString(Buffer.from('xyz', 'latin1'), 1, 16), 'yz');
  // an offset inside a larger buffer (subarray of a pooled buffer)
  const big = Buffer.from('....ruleset\0junk', 'latin1');
  assert.equal(escapeCString(big.subarray(2), 2, 10), 'ruleset');
});

test('escapeText: JS strings via their UTF-8 bytes', () => {
  assert.equal(escapeText('plain text'), 'plain text');
  assert.equal(escapeText('a\nb'), 'a^Jb');
  assert.equal(escapeText('caf\u00e9'), 'cafM-CM-)');
  assert.equal(escapeText('\r\u007f'), '^M^?');
});
