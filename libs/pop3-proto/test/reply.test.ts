import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { continuationReply, errReply, multilineReply, okReply } from '../src/index.js';

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

describe('SASL challenges', () => {
  test('"+ " and the base64 of the challenge, alone for an empty one', () => {
    assert.equal(continuationReply(), '+ \r\n');
    assert.equal(continuationReply(Buffer.from('Username:').toString('base64')), '+ VXNlcm5hbWU6\r\n');
  });
});
