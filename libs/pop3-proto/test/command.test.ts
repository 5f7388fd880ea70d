import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseCommand } from '../src/index.js';

describe('parseCommand', () => {
  test('parses every RFC 1939 command, keywords case-insensitive', () => {
    assert.deepEqual(parseCommand('user alice@example.test'), {
      ok: true,
      command: { name: 'USER', user: 'alice@example.test' },
    });
    assert.deepEqual(parseCommand('PASS correct horse battery'), {
      ok: true,
      command: { name: 'PASS', password: 'correct horse battery' },
    });
    assert.deepEqual(parseCommand('Stat'), { ok: true, command: { name: 'STAT' } });
    assert.deepEqual(parseCommand('LIST'), { ok: true, command: { name: 'LIST', message: undefined } });
    assert.deepEqual(parseCommand('LIST 7'), { ok: true, command: { name: 'LIST', message: 7 } });
    assert.deepEqual(parseCommand('uidl 2'), { ok: true, command: { name: 'UIDL', message: 2 } });
    assert.deepEqual(parseCommand('RETR 1'), { ok: true, command: { name: 'RETR', message: 1 } });
    assert.deepEqual(parseCommand('DELE 12'), { ok: true, command: { name: 'DELE', message: 12 } });
    assert.deepEqual(parseCommand('TOP 3 0'), { ok: true, command: { name: 'TOP', message: 3, lines: 0 } });
    assert.deepEqual(parseCommand('AUTH PLAIN AGEAYg=='), {
      ok: true,
      command: { name: 'AUTH', mechanism: 'PLAIN', initialResponse: 'AGEAYg==' },
    });
    assert.deepEqual(parseCommand('AUTH'), {
      ok: true,
      command: { name: 'AUTH', mechanism: undefined, initialResponse: undefined },
    });
    for (const name of ['NOOP', 'RSET', 'QUIT', 'CAPA', 'STLS'] as const) {
      assert.deepEqual(parseCommand(name.toLowerCase()), { ok: true, command: { name } });
    }
  });

  test('refuses bad arguments with a reason', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/i],
      ['FROB', /unknown/i],
      ['RETR', /message number/i],
      ['RETR 0', /positive/i],
      ['RETR -1', /positive/i],
      ['RETR 1.5', /positive/i],
      ['RETR 99999999999', /positive/i],
      ['RETR 1 2', /exactly one/i],
      ['TOP 1', /number of lines/i],
      ['TOP 1 -2', /non-negative/i],
      ['LIST 1 2', /at most one/i],
      ['STAT 1', /no arguments/i],
      ['USER', /exactly one/i],
      ['USER a b', /exactly one/i],
      ['PASS', /password/i],
      ['LIST  1', /single spaces/i],
      ['AUTH PLAIN x y', /mechanism/i],
    ];
    for (const [line, reason] of cases) {
      const result = parseCommand(line);
      assert.equal(result.ok, false, line);
      if (!result.ok) assert.match(result.error, reason, line);
    }
  });

  test('fuzz: any line yields a result, never an exception, and errors are one printable line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (line) => {
        const result = parseCommand(line);
        if (!result.ok) assert.match(result.error, /^[\x20-\x7e]+$/);
      }),
      { numRuns: 5000 },
    );
  });

  test('property: message numbers round-trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 10_000 }),
        (n, lines) => {
          assert.deepEqual(parseCommand(`TOP ${n} ${lines}`), {
            ok: true,
            command: { name: 'TOP', message: n, lines },
          });
          assert.deepEqual(parseCommand(`dele ${n}`), { ok: true, command: { name: 'DELE', message: n } });
        },
      ),
    );
  });
});
