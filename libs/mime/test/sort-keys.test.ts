import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseSubject, sortKeys } from '../src/index.js';

describe('RFC 5256 2.1 base subject', () => {
  test('leaders, blobs, trailers and [fwd: ] go; whitespace collapses', () => {
    const cases: Array<[string, string, boolean]> = [
      ['Re: hello', 'hello', true],
      ['RE: [list] Re: hello (fwd)', 'hello', true],
      ['[list] hello', 'hello', false],
      ['[list]', '[list]', false],
      ['Fwd: [fwd: hi there]', 'hi there', true],
      ['  hello \t  world  ', 'hello world', false],
      ['Re:Re: x', 'x', true],
      ['[a][b] Re: y', 'y', true],
      ['Fw: z', 'z', true],
      ['Re[2]: x', 'x', true],
      ['Reply: a', 'Reply: a', false],
      ['hello (FWD)', 'hello', true],
      ['', '', false],
    ];
    for (const [subject, base, reply] of cases) {
      assert.deepEqual(baseSubject(subject), { base, replyOrForward: reply }, subject);
    }
  });
});

describe('sort keys', () => {
  test('first mailbox past group markers, decoded display names, References before In-Reply-To', () => {
    const keys = sortKeys({
      subject: 'Re: Hi',
      from: [['=?utf-8?q?=C3=89mile?=', null, 'emile', 'x.test']],
      to: [
        [null, null, 'team', null],
        [null, null, 'eve', 'x.test'],
        [null, null, null, null],
      ],
      cc: null,
      messageId: '<id@x> junk',
      inReplyTo: '<p@x>',
      references: '<r1@x>\r\n <r2@x>',
    });
    assert.deepEqual(keys, {
      subject: 'Hi',
      from: 'emile',
      to: 'eve',
      cc: '',
      displayFrom: 'Émile',
      displayTo: 'eve@x.test',
      messageId: '<id@x>',
      references: ['<r1@x>', '<r2@x>'],
    });
    const noReferences = sortKeys({
      ...{ subject: null, from: null, to: null, cc: null },
      messageId: null,
      inReplyTo: '<p@x> <q@x>',
      references: null,
    });
    assert.deepEqual(noReferences.references, ['<p@x>']);
    assert.equal(noReferences.displayFrom, '');
  });
});
