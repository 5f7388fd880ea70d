import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCommand, WireReader } from '../src/index.js';
import type { WireLine } from '../src/index.js';
import { LIMITS, readAll } from './helpers.js';

function only(lines: WireLine[]): WireLine {
  assert.equal(lines.length, 1, JSON.stringify(lines));
  return lines[0]!;
}

function command(input: string) {
  const line = only(readAll(input));
  assert.equal(line.kind, 'line');
  return parseCommand(line.kind === 'line' ? line.tokens : []);
}

describe('the command reader', () => {
  test('atoms, quoted strings with escapes, both kinds of literal', () => {
    assert.deepEqual(command('capability\r\n'), { ok: true, command: { name: 'CAPABILITY' } });
    assert.deepEqual(command('PUTSCRIPT "a \\"b\\" \\\\" {4+}\r\nkeep\r\n'), {
      ok: true,
      command: { name: 'PUTSCRIPT', script: 'a "b" \\', content: 'keep' },
    });
    assert.deepEqual(command('CHECKSCRIPT {6}\r\nkeep;\n\r\n'), {
      ok: true,
      command: { name: 'CHECKSCRIPT', content: 'keep;\n' },
    });
    assert.deepEqual(command('HAVESPACE "x" 4294967295\r\n'), {
      ok: true,
      command: { name: 'HAVESPACE', script: 'x', size: 4294967295 },
    });
    assert.deepEqual(command('SETACTIVE ""\r\n'), { ok: true, command: { name: 'SETACTIVE', script: null } });
    assert.deepEqual(command('NOOP "t1"\r\n'), { ok: true, command: { name: 'NOOP', tag: 't1' } });
    assert.deepEqual(command('Authenticate "PLAIN" "AGEAYg=="\n'), {
      ok: true,
      command: { name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: 'AGEAYg==' },
    });
  });

  test('a literal may hold CRLF, quotes and braces; the next command follows it', () => {
    const script = 'if header :is "x" "{3}" {\r\n  keep;\r\n}\r\n';
    const n = Buffer.byteLength(script);
    const lines = readAll(`PUTSCRIPT "s" {${n}+}\r\n${script}\r\nLOGOUT\r\n`, 3);
    assert.equal(lines.length, 2);
    const first = lines[0]!;
    assert.ok(first.kind === 'line');
    assert.deepEqual(parseCommand(first.tokens), {
      ok: true,
      command: { name: 'PUTSCRIPT', script: 's', content: script },
    });
  });

  test('bad arguments are NO reasons, not throws', () => {
    for (const [input, reason] of [
      ['FROB\r\n', /unknown command/],
      ['GETSCRIPT\r\n', /takes 1 arguments/],
      ['GETSCRIPT foo\r\n', /quoted string or a literal/],
      ['GETSCRIPT ""\r\n', /may not be empty/],
      ['GETSCRIPT "a\u0007b"\r\n', /control characters/],
      ['HAVESPACE "a" 4294967296\r\n', /number/],
      ['"PUTSCRIPT"\r\n', /starts with its name/],
    ] as const) {
      const parsed = command(input);
      assert.ok(!parsed.ok && reason.test(parsed.error), `${input}: ${JSON.stringify(parsed)}`);
    }
  });

  test('names are NFC: a decomposed name is the same script as the composed one', () => {
    const decomposed = 'Re\u0301gles';
    assert.deepEqual(command(`GETSCRIPT "${decomposed}"\r\n`), {
      ok: true,
      command: { name: 'GETSCRIPT', script: 'R\u00e9gles' },
    });
  });

  test('a name that is not UTF-8 is refused', () => {
    const bytes = Buffer.concat([
      Buffer.from('GETSCRIPT {2+}\r\n'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\r\n'),
    ]);
    const line = only(readAll(bytes));
    assert.ok(line.kind === 'line');
    const parsed = parseCommand(line.tokens);
    assert.ok(!parsed.ok && /UTF-8/.test(parsed.error));
  });

  test('a line over the limit is skipped and reported; the next line is read', () => {
    const lines = readAll(`NOOP "${'x'.repeat(2000)}"\r\nLOGOUT\r\n`, 7);
    assert.equal(lines.length, 2);
    assert.ok(lines[0]!.kind === 'bad' && /line too long/.test(lines[0]!.reason) && !lines[0]!.fatal);
    assert.equal(lines[1]!.kind, 'line');
  });

  test('a literal over the limit is skipped as it streams and reported with its command', () => {
    const big = LIMITS.maxLiteralBytes + 1;
    const lines = readAll(
      Buffer.concat([
        Buffer.from(`PUTSCRIPT "s" {${big}+}\r\n`),
        Buffer.alloc(big, 0x61),
        Buffer.from('\r\nNOOP\r\n'),
      ]),
      4096,
    );
    assert.deepEqual(lines[0], {
      kind: 'too-large',
      command: 'PUTSCRIPT',
      literalBytes: big,
      maxBytes: LIMITS.maxLiteralBytes,
    });
    assert.equal(lines[1]!.kind, 'line');
  });

  test('an unreadable literal length is fatal', () => {
    for (const input of [
      'PUTSCRIPT "s" {99999999999+}\r\n',
      'PUTSCRIPT "s" {12x}\r\n',
      'PUTSCRIPT "s" {+}\r\n',
      'PUTSCRIPT "s" {3+} x\r\n',
    ]) {
      const line = readAll(input)[0]!;
      assert.ok(line.kind === 'bad' && line.fatal, input);
    }
  });

  test('an unterminated literal or quoted string yields nothing yet', () => {
    assert.deepEqual(readAll('PUTSCRIPT "s" {100+}\r\nkeep;'), []);
    assert.deepEqual(readAll('GETSCRIPT "abc'), []);
  });

  test('too many arguments', () => {
    const line = only(readAll(`NOOP ${'"a" '.repeat(20)}\r\n`));
    assert.ok(line.kind === 'bad' && /arguments/.test(line.reason));
  });

  test('discard forgets a half-read command (STARTTLS)', () => {
    const reader = new WireReader(LIMITS);
    reader.push(Buffer.from('NOOP\r\nPUTSCRIPT "a" {10+}\r\nkeep'));
    reader.discard();
    reader.push(Buffer.from('LOGOUT\r\n'));
    assert.deepEqual(reader.next(), { kind: 'line', tokens: [{ kind: 'atom', value: 'LOGOUT' }] });
    assert.equal(reader.next(), null);
  });
});
