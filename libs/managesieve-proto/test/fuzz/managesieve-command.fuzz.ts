import assert from 'node:assert/strict';
import { fuzzTarget } from '@correo/testkit/fuzz';
import { parseCommand, parseServerLine, WireReader } from '../../src/index.js';
import type { ReaderDirection, WireLine } from '../../src/index.js';

const LIMITS = { maxLineBytes: 256, maxLiteralBytes: 1024 };

function read(input: Buffer, size: number, direction: ReaderDirection): WireLine[] {
  const reader = new WireReader(LIMITS, direction);
  const lines: WireLine[] = [];
  for (let offset = 0; offset < input.length; offset += size) {
    reader.push(input.subarray(offset, offset + size));
    for (let line = reader.next(); line; line = reader.next()) {
      lines.push(line);
      if (line.kind !== 'line') continue;
      // Bad commands are results with a reason, never throws; the same for the client's reading.
      if (direction === 'commands') {
        const parsed = parseCommand(line.tokens);
        if (!parsed.ok) assert.ok(parsed.error.length > 0);
      } else parseServerLine(line);
    }
  }
  return lines;
}

/**
 * The ManageSieve command path (WireReader with its line and literal limits, then parseCommand) and
 * the client's response path over the same octets: no throw, the same lines however the octets arrive.
 */
export default fuzzTarget({
  coverage: ['/managesieve-proto/src/'],
  maxInputBytes: 4 * 1024,
  dictionary: [
    'AUTHENTICATE "PLAIN" ',
    'PUTSCRIPT ',
    'GETSCRIPT ',
    'SETACTIVE ""',
    'DELETESCRIPT ',
    'RENAMESCRIPT ',
    'CHECKSCRIPT ',
    'HAVESPACE ',
    'NOOP ',
    'LISTSCRIPTS',
    'STARTTLS',
    'LOGOUT',
    'UNAUTHENTICATE',
    '{5+}\r\n',
    '{5}\r\n',
    '{4294967296+}',
    '"\\"',
    '\\\\',
    'OK (TAG "x") "y"',
    'NO (QUOTA/MAXSIZE)',
    ' ACTIVE',
    '\r\n',
  ],
  run(input) {
    for (const direction of ['commands', 'responses'] as const) {
      const whole = read(input, input.length || 1, direction);
      assert.deepEqual(read(input, 3, direction), whole, 'the same lines however the octets arrive');
    }
  },
});
