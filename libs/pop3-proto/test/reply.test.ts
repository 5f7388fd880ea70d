import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeSaslPlain, encodeSaslPlain, errReply, multilineReply, okReply } from '../src/index.js';

describe('replies', () => {
  test('status lines carry response codes and never a second line', () => {
    assert.equal(okReply('2 320'), '+OK 2 320\r\n');
    assert.equal(okReply(), '+OK\r\n');
    assert.equal(errReply('Mailbox in use', 'IN-USE'), '-ERR [IN-USE] Mailbox in use\r\n');
    assert.equal(errReply('a\r\n+OK forged'), '-ERR a +OK forged\r\n');
  });

  test('multi-line replies are dot-stuffed and terminated', () => {
    assert.equal(multilineReply('', ['TOP', '.x']), '+OK\r\nTOP\r\n..x\r\n.\r\n');
  });
});

describe('SASL PLAIN', () => {
  test('round-trips UTF-8 credentials', () => {
    assert.deepEqual(decodeSaslPlain(encodeSaslPlain('ana@example.test', 'contraseña con espacios')), {
      ok: true,
      credentials: { authorizationId: '', login: 'ana@example.test', password: 'contraseña con espacios' },
    });
  });

  test('refuses malformed responses', () => {
    assert.equal(decodeSaslPlain('=').ok, false);
    assert.equal(decodeSaslPlain('not base64!').ok, false);
    assert.equal(decodeSaslPlain(Buffer.from('only-one-part').toString('base64')).ok, false);
    assert.equal(decodeSaslPlain(Buffer.from('\0user\0').toString('base64')).ok, false);
  });
});
