import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import type { InputLine } from '../../src/index.js';
import { LineReader, MessageEncoder, parseCommand } from '../../src/index.js';

const MAX_LINE = 255;

/** Splits the bytes into lines in chunks of `size`, parsing each as the session does. */
function read(input: Buffer, size: number): InputLine[] {
  const reader = new LineReader(MAX_LINE);
  const lines: InputLine[] = [];
  for (let offset = 0; offset < input.length; offset += size) {
    for (const line of reader.push(input.subarray(offset, offset + size))) {
      lines.push(line);
      if (line.kind === 'too-long') continue;
      assert.ok(line.line.length <= MAX_LINE, 'a line over the limit is never handed on');
      const text = line.line.toString('utf8');
      // Bad syntax is a result with a reason, never a throw.
      const parsed = parseCommand(text);
      if (!parsed.ok) assert.ok(parsed.error.length > 0);
    }
  }
  return lines;
}

/** RETR's encoder over the same bytes: the size LIST reports is what RETR sends before dot-stuffing. */
function encode(input: Buffer, size: number): Buffer {
  const encoder = new MessageEncoder();
  const out: Buffer[] = [];
  for (let offset = 0; offset < input.length; offset += size)
    out.push(encoder.push(input.subarray(offset, offset + size)));
  out.push(encoder.end());
  const wire = Buffer.concat(out);
  assert.ok(wire.subarray(-3).equals(Buffer.from('.\r\n')), 'the reply ends with the terminator');
  // Undo dot-stuffing and the terminator: what remains is what `octets` counted.
  const body = wire
    .subarray(0, -3)
    .toString('latin1')
    .replace(/(^|\r\n)\./g, '$1');
  assert.equal(Buffer.byteLength(body, 'latin1'), encoder.octets, 'LIST size equals the RETR octets');
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(body), 'only CRLF line ends go out');
  return wire;
}

/**
 * The POP3 command path: LineReader (line limit) then parseCommand on every line, which reports bad
 * input as `{ ok: false, error }` (SASL lines are @correo/auth's, fuzzed there); and the RETR/TOP encoder over the same bytes.
 */
export default fuzzTarget({
  coverage: ['/pop3-proto/src/'],
  maxInputBytes: 4 * 1024,
  dictionary: [
    'USER ',
    'PASS ',
    'AUTH PLAIN ',
    'AUTH PLAIN\r\n',
    'STLS',
    'CAPA',
    'STAT',
    'LIST ',
    'UIDL ',
    'RETR ',
    'TOP ',
    'DELE ',
    'NOOP',
    'RSET',
    'QUIT',
    '2147483647',
    '2147483648',
    '=',
    '*',
    'AGFsaWNlAHNlY3JldA==',
    '.',
    '\r\n.\r\n',
  ],
  run(input) {
    const whole = read(input, input.length || 1);
    assert.deepEqual(read(input, 5), whole, 'the same lines however the bytes arrive');
    assert.deepEqual(
      encode(input, 3),
      encode(input, input.length || 1),
      'the same reply however the blob is read',
    );
  },
});
