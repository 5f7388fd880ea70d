import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeValues, str } from '../src/index.js';

/**
 * The encoder quotes a string from its characters (no Buffer per token); the answer must be the bytes
 * the rule over its UTF-8 octets gives (quoted when at most 1024 octets with no NUL, CR or LF and,
 * without UTF8=ACCEPT, no 8-bit octet; " and \ escaped; else a literal), for any text.
 */
function byOctets(bytes: Buffer, utf8: boolean): Buffer {
  const quotable =
    bytes.length <= 1024 && bytes.every((b) => b !== 0 && b !== 0x0d && b !== 0x0a && (utf8 || b < 0x80));
  if (!quotable) return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes]);
  const quoted: number[] = [0x22];
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) quoted.push(0x5c);
    quoted.push(b);
  }
  quoted.push(0x22);
  return Buffer.from(quoted);
}

const texts = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\r', '\n', '\0', 'é', '€', '😀', ' '), maxLength: 30 }),
  fc.nat({ max: 6 }).map((n) => 'x'.repeat(1020 + n)),
  fc.nat({ max: 4 }).map((n) => 'x'.repeat(1019 + n) + 'é'),
);

test('a string is encoded as the rule over its UTF-8 octets says, with and without UTF8=ACCEPT', () => {
  fc.assert(
    fc.property(texts, fc.boolean(), (text, utf8) => {
      const expected = byOctets(Buffer.from(text, 'utf8'), utf8);
      assert.deepEqual(encodeValues([str(text)], { utf8 }), expected);
      assert.deepEqual(encodeValues([str(Buffer.from(text, 'utf8'))], { utf8 }), expected);
    }),
    { numRuns: 2000 },
  );
});
