import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LineReader } from '../src/index.js';
import type { InputLine } from '../src/index.js';

function read(reader: LineReader, chunks: string[]): (string | null)[] {
  return chunks
    .flatMap((chunk) => reader.push(Buffer.from(chunk, 'latin1')))
    .map((item: InputLine) => (item.kind === 'line' ? item.line.toString('latin1') : null));
}

describe('LineReader', () => {
  test('splits CRLF and bare LF lines across chunks', () => {
    assert.deepEqual(read(new LineReader(100), ['US', 'ER a\r', '\nSTAT\nNO', 'OP\r\n']), [
      'USER a',
      'STAT',
      'NOOP',
    ]);
  });

  test('a line of exactly the limit passes; one more byte is too long', () => {
    assert.deepEqual(read(new LineReader(4), ['ABCD\r\nABCDE\r\nOK\r\n']), ['ABCD', null, 'OK']);
  });

  test('an endless line is dropped as it streams, reported once, and the next line is read', () => {
    const reader = new LineReader(10);
    for (let i = 0; i < 1000; i++) assert.deepEqual(reader.push(Buffer.alloc(1000, 0x41)), []);
    assert.deepEqual(read(reader, ['\r\nQUIT\r\n']), [null, 'QUIT']);
  });

  test('property: lines within the limit come back exactly, however the input is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '')),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
        (lines, cuts) => {
          const input = lines.map((line) => `${line}\r\n`).join('');
          const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let start = 0;
          for (const point of points) {
            chunks.push(input.slice(start, point));
            start = point;
          }
          chunks.push(input.slice(start));
          const expected = lines.map((line) => (Buffer.byteLength(line, 'latin1') > 20 ? null : line));
          assert.deepEqual(read(new LineReader(20), chunks), expected);
        },
      ),
    );
  });
});
