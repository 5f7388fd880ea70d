import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ReceiverEvent } from '../src/index.js';
import { CommandReceiver, ParseError, parseCommand, parseSaslResponse } from '../src/index.js';

/** Valid commands of every kind: the seeds that mutations start from. */
const CORPUS = [
  'a1 CAPABILITY',
  'a2 LOGIN {4}\r\nfred "se\\"cret"',
  'a3 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0',
  'a4 ENABLE CONDSTORE QRESYNC UTF8=ACCEPT',
  'a5 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500 15000,22500)))',
  'a6 EXAMINE "Sent &ZeVnLIqe-" (CONDSTORE)',
  'a7 CREATE Archive (USE (\\Archive))',
  'a8 RENAME "a b" {3+}\r\nc d',
  'a9 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("%" "*") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES SIZE))',
  'b1 LSUB "" *',
  'b2 STATUS x (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)',
  'b3 APPEND Drafts (\\Draft $x) " 7-Feb-1994 21:52:25 -0800" {11+}\r\nHello\r\nJoe {2}\r\nhi',
  'b4 APPEND x ~{3}\r\na\0b',
  'b5 IDLE',
  'b6 UID EXPUNGE 1:5,7',
  'b7 SEARCH RETURN (MIN MAX COUNT ALL SAVE) CHARSET UTF-8 OR (FROM "x" SINCE 1-Feb-1994) NOT 1:5 HEADER X-A {2}\r\nyz',
  'b8 UID SEARCH MODSEQ "/flags/\\\\draft" all 620162338 LARGER 5 SMALLER 9 UID $ KEYWORD k OLDER 5',
  'b9 FETCH 1:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS.NOT (Received)]<0.100> BINARY[1] BINARY.SIZE[2] ENVELOPE) (CHANGEDSINCE 5)',
  'c1 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)',
  'c2 STORE 2:4 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)',
  'c3 UID MOVE 1,3:* "Trash"',
  'c4 COPY $ {5}\r\nSaved',
  'c5 ID ("name" "x" "version" NIL)',
  'c6 GETQUOTAROOT INBOX',
  'c7 NAMESPACE',
  'c8 FETCH 5 FULL',
];

const TOKENS = [
  '{',
  '}',
  '{5}',
  '{3+}',
  '~{2}',
  '"',
  '\\',
  '(',
  ')',
  '[',
  ']',
  '<',
  '>',
  ' ',
  '*',
  '%',
  '$',
  ':',
  ',',
  '\r\n',
  '\n',
  '\0',
  '\xff',
  'NIL',
  'UID',
  'BODY[',
  '99999999999999999999',
  '0',
  '-',
  '.',
  'NOT ',
  'OR ',
  '&',
  '&-',
];

type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'insert'; at: number; token: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'repeat'; at: number; length: number; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 12 }),
    times: fc.integer({ min: 2, max: 60 }),
  }),
);

function mutate(source: Buffer, mutations: Mutation[]): Buffer {
  let bytes = source;
  for (const m of mutations) {
    const at = bytes.length ? m.at % (bytes.length + 1) : 0;
    if (m.op === 'flip' && at < bytes.length) {
      bytes = Buffer.from(bytes);
      bytes[at] = m.byte;
    } else if (m.op === 'insert') {
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.token, 'latin1'), bytes.subarray(at)]);
    } else if (m.op === 'delete') {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    } else if (m.op === 'truncate') {
      bytes = bytes.subarray(0, at);
    } else if (m.op === 'repeat') {
      const piece = bytes.subarray(at, at + m.length);
      bytes = Buffer.concat([
        bytes.subarray(0, at),
        ...Array<Buffer>(m.times).fill(piece),
        bytes.subarray(at),
      ]);
    }
  }
  return bytes;
}

/** A line: a mutated corpus command, or raw random bytes. */
const commandLine = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...CORPUS), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([seed, ms]) => mutate(Buffer.from(seed, 'latin1'), ms)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)) },
);

function parseEvent(event: ReceiverEvent, utf8Accept: boolean): void {
  if (event.type === 'command') {
    try {
      parseCommand(event.bytes, { utf8Accept });
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      assert.ok(error.message.length > 0);
    }
  } else if (event.type === 'line') {
    try {
      parseSaslResponse(event.bytes);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
    }
  }
}

describe('fuzz', () => {
  test('20,000 random and mutated command streams: only ParseError, never a hang', () => {
    fc.assert(
      fc.property(
        fc.array(commandLine, { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        (lines, chunkSizes, utf8Accept, rawLine) => {
          const stream = Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\r\n')]));
          const receiver = new CommandReceiver({
            maxLineLength: 512,
            maxLiteralSize: 4096,
            maxNonSyncLiteral: 64,
          });
          if (rawLine) receiver.expectLine();
          let offset = 0;
          let chunk = 0;
          let events = 0;
          while (offset < stream.length) {
            const size = chunkSizes[chunk++ % chunkSizes.length]!;
            receiver.push(stream.subarray(offset, offset + size));
            offset += size;
            let event: ReceiverEvent | null;
            while ((event = receiver.next())) {
              // Every event consumes input, so more events than bytes would mean a loop that never ends.
              assert.ok(++events <= stream.length + 1, 'receiver keeps producing events');
              parseEvent(event, utf8Accept);
            }
          }
          // Each whole line also goes to the parser directly, as a command the receiver could have framed.
          for (const line of lines) parseEvent({ type: 'command', bytes: line, streamed: [] }, utf8Accept);
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
