import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkScriptName, encodeCommand, parseCommand } from '../src/index.js';
import { readAll } from './helpers.js';

const name = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => checkScriptName(s) === undefined);
const content = fc.string({ unit: 'grapheme', maxLength: 3000 });

describe('encodeCommand then the reader and parser give the command back', () => {
  test('PUTSCRIPT, RENAMESCRIPT, HAVESPACE, however the octets are split', () => {
    fc.assert(
      fc.property(
        name,
        name,
        content,
        fc.nat({ max: 4294967295 }),
        fc.integer({ min: 1, max: 64 }),
        (a, b, script, size, chunk) => {
          const wire = Buffer.concat([
            encodeCommand('PUTSCRIPT', a, script),
            encodeCommand('RENAMESCRIPT', a, b),
            encodeCommand('HAVESPACE', b, size),
          ]);
          const lines = readAll(wire, chunk, { maxLineBytes: 4096, maxLiteralBytes: 64 * 1024 });
          assert.equal(lines.length, 3);
          const parsed = lines.map((line) => (line.kind === 'line' ? parseCommand(line.tokens) : line));
          assert.deepEqual(parsed, [
            { ok: true, command: { name: 'PUTSCRIPT', script: a, content: script } },
            { ok: true, command: { name: 'RENAMESCRIPT', from: a, to: b } },
            { ok: true, command: { name: 'HAVESPACE', script: b, size } },
          ]);
        },
      ),
    );
  });

  test('arbitrary octets: the same lines whatever the chunking, each bounded', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 50 }), (bytes, chunk) => {
        const input = Buffer.from(bytes);
        const limits = { maxLineBytes: 64, maxLiteralBytes: 128 };
        const whole = readAll(input, Infinity, limits);
        assert.deepEqual(readAll(input, chunk, limits), whole);
        for (const line of whole) {
          if (line.kind !== 'line') continue;
          const literal = line.tokens.reduce(
            (n, t) => n + (t.kind === 'string' && t.literal ? t.value.length : 0),
            0,
          );
          assert.ok(literal <= limits.maxLiteralBytes);
          parseCommand(line.tokens);
        }
      }),
    );
  });
});
