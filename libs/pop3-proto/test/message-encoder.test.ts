import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MessageEncoder, countWireOctets } from '../src/index.js';

/** An independent statement of the rules: every line end becomes CRLF, and the last line gets one. */
function normalise(text: string): string {
  const lines = text.replace(/\r\n|\r|\n/g, '\n');
  const ended = lines === '' || lines.endsWith('\n') ? lines : `${lines}\n`;
  return ended.replace(/\n/g, '\r\n');
}

function encode(chunks: Buffer[], bodyLines?: number): { wire: string; octets: number } {
  const encoder = new MessageEncoder(bodyLines === undefined ? {} : { bodyLines });
  const out = chunks.map((chunk) => encoder.push(chunk));
  out.push(encoder.end());
  return { wire: Buffer.concat(out).toString('latin1'), octets: encoder.octets };
}

function unstuff(wire: string): string {
  assert.ok(wire.endsWith('.\r\n'), 'ends with the terminator');
  const body = wire.slice(0, -3);
  return body
    .split('\r\n')
    .map((line) => (line.startsWith('.') ? line.slice(1) : line))
    .join('\r\n');
}

/** Message-like text: lines of letters, dots, and every kind of line end. */
const messageText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '\r\n',
        '\n',
        '\r',
        '.',
        '..',
        '.\r\n',
        'a',
        'Subject: x',
        ' ',
        '\r\n\r\n',
        '\x00',
        'é',
      ),
      fc.string({ maxLength: 12 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

function splitAt(buffer: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (buffer.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(buffer.subarray(start, point));
    start = point;
  }
  chunks.push(buffer.subarray(start));
  return chunks;
}

describe('MessageEncoder', () => {
  test('normalises line ends, dot-stuffs and terminates', () => {
    const { wire, octets } = encode([Buffer.from('Subject: a\n\n.hidden\r\n..two\rlast')]);
    assert.equal(wire, 'Subject: a\r\n\r\n..hidden\r\n...two\r\nlast\r\n.\r\n');
    assert.equal(octets, Buffer.byteLength('Subject: a\r\n\r\n.hidden\r\n..two\r\nlast\r\n'));
  });

  test('an empty message is just the terminator', () => {
    assert.deepEqual(encode([]), { wire: '.\r\n', octets: 0 });
  });

  test('TOP sends the header, the blank line and n body lines', () => {
    const message = Buffer.from('A: 1\r\nB: 2\r\n\r\none\r\n.two\r\nthree\r\n');
    assert.equal(encode([message], 0).wire, 'A: 1\r\nB: 2\r\n\r\n.\r\n');
    assert.equal(encode([message], 2).wire, 'A: 1\r\nB: 2\r\n\r\none\r\n..two\r\n.\r\n');
    assert.equal(encode([message], 10).wire, 'A: 1\r\nB: 2\r\n\r\none\r\n..two\r\nthree\r\n.\r\n');
  });

  test('property: unstuffed output is the normalised message, and octets is its length', () => {
    fc.assert(
      fc.property(messageText, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const bytes = Buffer.from(text, 'utf8');
        const { wire, octets } = encode(splitAt(bytes, cuts));
        const expected = normalise(bytes.toString('latin1'));
        assert.equal(unstuff(wire), expected);
        assert.equal(octets, Buffer.byteLength(expected, 'latin1'));
        // No bare CR/LF on the wire, and no line is a lone "." before the terminator.
        assert.doesNotMatch(wire.replace(/\r\n/g, ''), /[\r\n]/);
        assert.ok(!wire.slice(0, -3).split('\r\n').includes('.'));
      }),
      { numRuns: 2000 },
    );
  });

  test('property: chunking never changes the output', () => {
    fc.assert(
      fc.property(
        messageText,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.option(fc.nat(5)),
        (text, cuts, lines) => {
          const bytes = Buffer.from(text, 'utf8');
          const whole = encode([bytes], lines ?? undefined);
          assert.deepEqual(encode(splitAt(bytes, cuts), lines ?? undefined), whole);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('property: TOP output is a line-aligned prefix of RETR output', () => {
    fc.assert(
      fc.property(messageText, fc.nat(6), (text, lines) => {
        const bytes = Buffer.from(text, 'utf8');
        const full = encode([bytes]).wire.slice(0, -3);
        const top = encode([bytes], lines).wire.slice(0, -3);
        assert.ok(full.startsWith(top));
        assert.ok(top === '' || top.endsWith('\r\n'));
      }),
      { numRuns: 1000 },
    );
  });

  test('countWireOctets equals the octets RETR sends', async () => {
    const chunks = [Buffer.from('a\nb'), Buffer.from('\r'), Buffer.from('\n.c')];
    assert.equal(await countWireOctets(chunks), encode(chunks).octets);
    assert.equal(await countWireOctets(chunks), 'a\r\nb\r\n.c\r\n'.length);
  });
});
