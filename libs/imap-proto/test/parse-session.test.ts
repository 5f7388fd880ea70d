import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isIdleDone, ParseError, parseCommand, peekTag } from '../src/index.js';
import { parse, rejects } from './helpers.js';

describe('dispatch and tags', () => {
  test('command names are case-insensitive and the tag is kept as sent', () => {
    const parsed = parseCommand(Buffer.from('Ab.1] nOoP'));
    assert.equal(parsed.tag, 'Ab.1]');
    assert.deepEqual(parsed.request, { command: 'NOOP' });
  });

  test('a tag may not hold "+", "*", "%", quotes, parentheses or braces', () => {
    for (const tag of ['+', '*', '%a', '"a"', '(a', 'a{']) {
      assert.throws(() => parseCommand(Buffer.from(`${tag} NOOP`)), ParseError);
    }
    const error = rejects('+ NOOP', /Expected a tag/);
    assert.equal(error.tag, null);
  });

  test('unknown commands and bad UID commands are refused with the tag', () => {
    assert.equal(rejects('a1 FROBNICATE', /Unknown command FROBNICATE/).tag, 'a1');
    rejects('a1 UID LOGIN a b', /UID LOGIN is not a command/);
    rejects('a1', /Expected a space after the tag/);
    rejects('', /Expected a tag/);
  });

  test('peekTag reads the tag of a line', () => {
    assert.equal(peekTag(Buffer.from('x12 FETCH 1 FLAGS')), 'x12');
    assert.equal(peekTag(Buffer.from('(bad')), null);
  });
});

describe('commands without arguments', () => {
  for (const name of [
    'CAPABILITY',
    'NOOP',
    'LOGOUT',
    'STARTTLS',
    'NAMESPACE',
    'CHECK',
    'CLOSE',
    'UNSELECT',
    'IDLE',
  ]) {
    test(name, () => {
      assert.deepEqual(parse(`t ${name.toLowerCase()}`), { command: name });
      rejects(`t ${name} extra`, new RegExp(`${name} takes no arguments`));
    });
  }

  test('EXPUNGE and UID EXPUNGE (RFC 4315)', () => {
    assert.deepEqual(parse('a EXPUNGE'), { command: 'EXPUNGE', uid: false, uids: null });
    assert.deepEqual(parse('A003 UID EXPUNGE 3000:3002'), {
      command: 'EXPUNGE',
      uid: true,
      uids: { kind: 'set', ranges: [{ start: 3000, end: 3002 }] },
    });
    rejects('a UID EXPUNGE', /Expected a space after UID EXPUNGE/);
    rejects('a EXPUNGE 1', /EXPUNGE takes no arguments/);
  });

  test('IDLE ends with DONE in any case', () => {
    assert.equal(isIdleDone(Buffer.from('DONE')), true);
    assert.equal(isIdleDone(Buffer.from('done')), true);
    assert.equal(isIdleDone(Buffer.from('DONE ')), false);
    assert.equal(isIdleDone(Buffer.from('a1 NOOP')), false);
  });
});

describe('LOGIN', () => {
  test('atoms, quoted strings and literals (RFC 9051 6.2.3 example)', () => {
    assert.deepEqual(parse('a001 LOGIN SMITH SESAME'), {
      command: 'LOGIN',
      username: 'SMITH',
      password: 'SESAME',
    });
    assert.deepEqual(parse('a LOGIN "fred smith" "p\\"w\\\\d"'), {
      command: 'LOGIN',
      username: 'fred smith',
      password: 'p"w\\d',
    });
    assert.deepEqual(parse('a LOGIN {4}\r\nfred {8+}\r\nsecret!!'), {
      command: 'LOGIN',
      username: 'fred',
      password: 'secret!!',
    });
    assert.deepEqual(parse('a LOGIN "jos\u00e9" "contrase\u00f1a"'), {
      command: 'LOGIN',
      username: 'jos\u00e9',
      password: 'contrase\u00f1a',
    });
  });

  test('bad syntax', () => {
    rejects('a LOGIN fred', /Expected a space after the user name/);
    rejects('a LOGIN fred "open', /Unterminated quoted string/);
    rejects('a LOGIN fred "a\\b"', /Only \\" and \\\\ may be escaped/);
    rejects('a LOGIN fred {10}\r\nshort', /shorter than its announced length/);
    rejects('a LOGIN fred pw extra', /Unexpected " extra" at the end of LOGIN/);
    rejects('a LOGIN (fred) pw', /Expected a user name/);
    assert.throws(
      () =>
        parseCommand(
          Buffer.from([0x61, 0x20, 0x4c, 0x4f, 0x47, 0x49, 0x4e, 0x20, 0x22, 0xff, 0x22, 0x20, 0x78]),
        ),
      /not valid UTF-8/,
    );
  });
});

describe('AUTHENTICATE', () => {
  test('without and with SASL-IR initial response (RFC 4959)', () => {
    assert.deepEqual(parse('a AUTHENTICATE plain'), {
      command: 'AUTHENTICATE',
      mechanism: 'PLAIN',
      initialResponse: null,
    });
    const ir = Buffer.from('\0fred\0secret').toString('base64');
    assert.deepEqual(parse(`a AUTHENTICATE PLAIN ${ir}`), {
      command: 'AUTHENTICATE',
      mechanism: 'PLAIN',
      initialResponse: ir,
    });
    assert.deepEqual(parse('a AUTHENTICATE EXTERNAL ='), {
      command: 'AUTHENTICATE',
      mechanism: 'EXTERNAL',
      initialResponse: '=',
    });
    rejects('a AUTHENTICATE', /Expected a space after AUTHENTICATE/);
  });
});

describe('ENABLE, ID, GETQUOTA, GETQUOTAROOT', () => {
  test('ENABLE uppercases capability names', () => {
    assert.deepEqual(parse('t2 ENABLE condstore UTF8=ACCEPT X-GOOD-IDEA'), {
      command: 'ENABLE',
      capabilities: ['CONDSTORE', 'UTF8=ACCEPT', 'X-GOOD-IDEA'],
    });
    rejects('t2 ENABLE', /Expected a space after ENABLE/);
    rejects('t2 ENABLE (x)', /Expected a capability name/);
  });

  test('ID (RFC 2971 example)', () => {
    assert.deepEqual(
      parse('a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited" "x" NIL)'),
      {
        command: 'ID',
        params: [
          ['name', 'sodr'],
          ['version', '19.34'],
          ['vendor', 'Pink Floyd Music Limited'],
          ['x', null],
        ],
      },
    );
    assert.deepEqual(parse('a ID NIL'), { command: 'ID', params: null });
    assert.deepEqual(parse('a ID ()'), { command: 'ID', params: [] });
    rejects('a ID ("name")', /Expected a space after the ID field name/);
    rejects('a ID name', /Expected "\(" or NIL/);
  });

  test('GETQUOTA and GETQUOTAROOT (RFC 9208)', () => {
    assert.deepEqual(parse('G GETQUOTA ""'), { command: 'GETQUOTA', root: '' });
    assert.deepEqual(parse('G GETQUOTAROOT inbox'), { command: 'GETQUOTAROOT', mailbox: 'INBOX' });
    rejects('G GETQUOTAROOT', /Expected a space after GETQUOTAROOT/);
  });
});
