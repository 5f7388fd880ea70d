import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import type { ReceiverEvent } from '../../src/index.js';
import { CommandReceiver, ParseError, parseCommand } from '../../src/index.js';

/**
 * The IMAP command path of a session: bytes framed by CommandReceiver (literals, line limits), each
 * command parsed by parseCommand (raw SASL lines are @correo/auth's, fuzzed there). ParseError (and FrameError, which
 * is one) is the documented answer to bad input; anything else thrown is a finding.
 */
const LIMITS = { maxLineLength: 512, maxLiteralSize: 4096, maxNonSyncLiteral: 64 };

function parse(bytes: Buffer, utf8Accept: boolean, asLine: boolean): void {
  try {
    if (!asLine) parseCommand(bytes, { utf8Accept });
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    assert.ok(error.message.length > 0, 'a ParseError says what is wrong');
  }
}

/** Feeds the stream in chunks of `size` bytes and returns every event, parsing each as a session would. */
function frame(stream: Buffer, size: number, utf8Accept: boolean, expectLine: boolean): ReceiverEvent[] {
  const receiver = new CommandReceiver(LIMITS);
  if (expectLine) receiver.expectLine();
  const events: ReceiverEvent[] = [];
  for (let offset = 0; offset < stream.length; offset += size) {
    receiver.push(stream.subarray(offset, offset + size));
    let event: ReceiverEvent | null;
    while ((event = receiver.next())) {
      // Every event consumes input: more events than bytes would be a loop that never ends.
      assert.ok(events.length <= stream.length, 'the receiver keeps producing events');
      events.push(event);
      if (event.type === 'command') parse(event.bytes, utf8Accept, false);
      else if (event.type === 'line') parse(event.bytes, utf8Accept, true);
    }
  }
  return events;
}

export default fuzzTarget({
  coverage: ['/imap-proto/src/'],
  maxInputBytes: 8 * 1024,
  // Each input is framed three times and every refused line raises a ParseError with its stack: a
  // few KB of garbage per line, linear in the input. Far above that is a finding.
  allocation: { floorBytes: 16 * 1024 * 1024, perInputByte: 4096 },
  dictionary: [
    '{',
    '}',
    '{5}',
    '{3+}',
    '{4097}',
    '~{2}',
    '"',
    '(',
    ')',
    '[',
    ']',
    '<',
    '>',
    '*',
    '%',
    '$',
    ':',
    ',',
    'NIL',
    'UID ',
    'BODY[',
    'BODY.PEEK[',
    'HEADER.FIELDS (',
    'BINARY[',
    '<0.100>',
    'NOT ',
    'OR ',
    'CHARSET ',
    'RETURN (',
    'MODSEQ ',
    'CHANGEDSINCE ',
    '&',
    '&-',
    '&AOk-',
    'FETCH ',
    'SEARCH ',
    'LIST ',
    'APPEND ',
    'STORE ',
    '+FLAGS ',
    '\\Seen',
    'LOGIN ',
    'AUTHENTICATE ',
    'SELECT ',
    'STATUS ',
  ],
  run(input) {
    const stream = Buffer.concat([input, Buffer.from('\r\n')]);
    // Framing must not depend on how TCP splits the bytes.
    const whole = frame(stream, stream.length, false, false);
    const split = frame(stream, 7, false, false);
    assert.deepEqual(split, whole, 'the same events however the stream is chunked');
    frame(stream, 13, true, true);
    // Each line also goes to the parser directly, as a command the receiver could have framed.
    parse(input, true, false);
  },
});
