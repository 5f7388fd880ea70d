import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodePlainMessage,
  decodeSaslResponse,
  encodePlainResponse,
  startSasl,
  type SaslStep,
} from '../src/index.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Runs a whole exchange: the initial response (or none), then each line while challenges come. */
function exchange(mechanism: string, initial: string | undefined, lines: string[]): SaslStep[] {
  const started = startSasl(mechanism, initial);
  assert.ok(started, `${mechanism} is offered`);
  const steps = [started.step];
  for (const line of lines) steps.push(started.exchange.respond(line));
  return steps;
}

const credentials = (login: string, password: string, authorizationId = '') => ({
  kind: 'credentials',
  credentials: { authorizationId, login, password },
});

/** Text a client may type as a login or password: any UTF-8 without NUL, not empty. */
const field = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0'));

describe('SASL PLAIN (RFC 4616)', () => {
  test('as an initial response and after an empty challenge, UTF-8 intact', () => {
    const response = encodePlainResponse('ana@example.test', 'contraseña con espacios');
    assert.deepEqual(exchange('plain', response, []), [
      credentials('ana@example.test', 'contraseña con espacios'),
    ]);
    assert.deepEqual(exchange('PLAIN', undefined, [response]), [
      { kind: 'challenge', challenge: Buffer.alloc(0) },
      credentials('ana@example.test', 'contraseña con espacios'),
    ]);
    assert.deepEqual(exchange('PLAIN', encodePlainResponse('ana', 'pw', 'ana'), []), [
      credentials('ana', 'pw', 'ana'),
    ]);
  });

  test('refuses what is not exactly [authzid] NUL authcid NUL passwd', () => {
    const malformed = (bytes: Buffer) => decodePlainMessage(bytes).ok === false;
    assert.ok(malformed(Buffer.from('only-one-part')));
    assert.ok(malformed(Buffer.from('\0user')));
    assert.ok(malformed(Buffer.from('\0user\0')), 'empty password');
    assert.ok(malformed(Buffer.from('\0\0secret')), 'empty login');
    assert.ok(malformed(Buffer.from('\0user\0pass\0extra')), 'a third NUL');
    assert.ok(malformed(Buffer.from([0, 0x75, 0, 0xff, 0xfe])), 'a password that is not UTF-8');
    assert.ok(malformed(Buffer.from([0xc3, 0, 0x75, 0, 0x70])), 'an authzid that is not UTF-8');
  });

  test('base64 is strict: padding required, nothing skipped; "=" only as an initial response', () => {
    const plain = encodePlainResponse('ana', 'secret');
    for (const bad of [
      plain.replace(/=+$/, ''),
      `${plain} `,
      `${plain.slice(0, 4)}!${plain.slice(4)}`,
      'abc',
    ]) {
      assert.equal(exchange('PLAIN', bad, [])[0]!.kind, 'malformed', bad);
      assert.equal(exchange('PLAIN', undefined, [bad])[1]!.kind, 'malformed', bad);
    }
    assert.deepEqual(decodeSaslResponse('=', true), { kind: 'data', data: Buffer.alloc(0) });
    assert.equal(decodeSaslResponse('=').kind, 'malformed');
    assert.deepEqual(decodeSaslResponse(''), { kind: 'data', data: Buffer.alloc(0) });
    // "=" is an empty PLAIN message, which lacks login and password.
    assert.equal(exchange('PLAIN', '=', [])[0]!.kind, 'malformed');
  });

  test('"*" cancels an exchange but is not an initial response', () => {
    assert.deepEqual(exchange('PLAIN', undefined, ['*'])[1], { kind: 'cancelled' });
    assert.equal(exchange('PLAIN', '*', [])[0]!.kind, 'malformed');
    assert.deepEqual(exchange('LOGIN', undefined, [b64('ana'), '*'])[2], { kind: 'cancelled' });
  });

  test('an exchange that is over answers nothing more', () => {
    const started = startSasl('PLAIN', encodePlainResponse('ana', 'pw'));
    assert.equal(started?.exchange.respond(encodePlainResponse('ana', 'pw')).kind, 'malformed');
  });

  test('property: any login and password round-trip; the authzid is handed on as sent', () => {
    fc.assert(
      fc.property(field, field, fc.option(field, { nil: '' }), (login, password, authorizationId) => {
        assert.deepEqual(exchange('PLAIN', encodePlainResponse(login, password, authorizationId), []), [
          credentials(login, password, authorizationId),
        ]);
      }),
    );
  });

  test('property: no byte string makes the decoder throw, and it accepts only two-NUL UTF-8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const message = Buffer.from(bytes);
        const decoded = decodePlainMessage(message);
        if (!decoded.ok) return;
        const { authorizationId, login, password } = decoded.credentials;
        assert.ok(Buffer.from(`${authorizationId}\0${login}\0${password}`, 'utf8').equals(message));
      }),
    );
  });
});

describe('SASL LOGIN', () => {
  test('"Username:" then "Password:", or the user name as initial response', () => {
    assert.deepEqual(exchange('LOGIN', undefined, [b64('ana@example.test'), b64('pässword')]), [
      { kind: 'challenge', challenge: Buffer.from('Username:') },
      { kind: 'challenge', challenge: Buffer.from('Password:') },
      credentials('ana@example.test', 'pässword'),
    ]);
    assert.deepEqual(exchange('login', b64('ana'), [b64('pw')]), [
      { kind: 'challenge', challenge: Buffer.from('Password:') },
      credentials('ana', 'pw'),
    ]);
  });

  test('empty, NUL-carrying, non-UTF-8 or non-base64 fields are refused', () => {
    assert.equal(exchange('LOGIN', undefined, [''])[1]!.kind, 'malformed');
    assert.equal(exchange('LOGIN', undefined, [b64('a\0b')])[1]!.kind, 'malformed');
    assert.equal(
      exchange('LOGIN', undefined, [b64('ana'), Buffer.from([0xff]).toString('base64')])[2]!.kind,
      'malformed',
    );
    assert.equal(exchange('LOGIN', undefined, [b64('ana'), 'not base64'])[2]!.kind, 'malformed');
    assert.equal(exchange('LOGIN', '=', [])[0]!.kind, 'malformed');
  });

  test('property: any login and password come out as typed', () => {
    fc.assert(
      fc.property(field, field, (login, password) => {
        assert.deepEqual(
          exchange('LOGIN', undefined, [b64(login), b64(password)]).at(-1),
          credentials(login, password),
        );
      }),
    );
  });
});

test('mechanisms we do not offer are not started', () => {
  for (const mechanism of ['CRAM-MD5', 'XOAUTH2', 'EXTERNAL', 'PLAINX', '']) {
    assert.equal(startSasl(mechanism, undefined), null);
  }
});
