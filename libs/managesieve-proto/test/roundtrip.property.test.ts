import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkScriptName,
  encodeCommand,
  noResponse,
  parseCommand,
  ResponseCollector,
  scriptContent,
  scriptListLines,
  scriptListOf,
  WireReader,
} from '../src/index.js';
import type { ManageSieveResponse } from '../src/index.js';
import { readAll } from './helpers.js';

const name = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .map((s) => s.normalize('NFC'))
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

describe('the server serializer then the client reader give the values back', () => {
  test('LISTSCRIPTS, GETSCRIPT and NO with a code and any text, however the octets are split', () => {
    const script = fc.record({ name, active: fc.boolean() });
    fc.assert(
      fc.property(
        fc.uniqueArray(script, { selector: (s) => s.name, maxLength: 8 }),
        content,
        fc.string({ unit: 'grapheme', maxLength: 2000 }),
        fc.integer({ min: 1, max: 64 }),
        (scripts, body, text, chunk) => {
          const wire = Buffer.concat([
            scriptListLines(scripts),
            Buffer.from('OK\r\n'),
            scriptContent(body),
            Buffer.from('OK\r\n'),
            noResponse(text, { name: 'QUOTA/MAXSIZE' }),
          ]);
          const reader = new WireReader(
            { maxLineBytes: 8192, maxLiteralBytes: 64 * 1024, maxTokens: 64 },
            'responses',
          );
          const collector = new ResponseCollector();
          const responses: ManageSieveResponse[] = [];
          for (let offset = 0; offset < wire.length; offset += chunk) {
            reader.push(wire.subarray(offset, offset + chunk));
            for (let line = reader.next(); line; line = reader.next()) {
              const response = collector.push(line);
              if (response) responses.push(response);
            }
          }
          assert.equal(responses.length, 3);
          assert.deepEqual(
            scriptListOf(responses[0]!),
            scripts.map((s) => ({ ...s })),
          );
          assert.deepEqual(responses[1]!.data, [[{ kind: 'string', value: body }]]);
          assert.deepEqual(
            [responses[2]!.status, responses[2]!.code, responses[2]!.text],
            ['NO', { name: 'QUOTA/MAXSIZE' }, text],
          );
        },
      ),
    );
  });
});
