import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { threadResponse } from '@correo/imap-proto';
import { baseSubject } from '@correo/mime';
import type { SortableMessage } from '../src/sortable-messages.js';
import { threadByOrderedSubject, threadByReferences } from '../src/threading.js';

/** Message n sent on day `day`, with its Message-ID, References and Subject. */
function message(
  n: number,
  day: number,
  id: string | null,
  references: string[],
  subject: string,
): SortableMessage {
  const { base, replyOrForward } = baseSubject(subject);
  return {
    uid: n * 10,
    number: n,
    size: 100,
    arrival: n,
    sent: Date.UTC(2024, 0, day),
    keys: {
      subject: base,
      from: '',
      to: '',
      cc: '',
      displayFrom: '',
      displayTo: '',
      messageId: id,
      references,
    },
    replyOrForward,
  };
}

const answer = (threads: ReturnType<typeof threadByReferences>): string =>
  threadResponse(threads).toString('utf8').trimEnd();
const byNumber = (m: SortableMessage): number => m.number;

describe('THREAD=REFERENCES (RFC 5256 4) edge cases', () => {
  test('a reply that arrives before its parent still hangs under it', () => {
    const messages = [message(1, 2, '<r@x>', ['<p@x>'], 'Re: topic'), message(2, 1, '<p@x>', [], 'topic')];
    assert.equal(answer(threadByReferences(messages, byNumber)), '* THREAD (2 1)');
  });

  test('References that loop do not loop the tree', () => {
    const messages = [message(1, 1, '<a@x>', ['<b@x>'], 'x'), message(2, 2, '<b@x>', ['<a@x>'], 'Re: x')];
    assert.equal(answer(threadByReferences(messages, byNumber)), '* THREAD (2 1)');
  });

  test('a repeated Message-ID gets a container of its own', () => {
    const messages = [message(1, 1, '<same@x>', [], 'one'), message(2, 2, '<same@x>', [], 'two')];
    assert.equal(answer(threadByReferences(messages, byNumber)), '* THREAD (1)(2)');
  });

  test('two threads with one base subject and no replies become siblings under a dummy', () => {
    const messages = [message(1, 1, '<a@x>', [], 'Lunch'), message(2, 2, '<b@x>', [], '[list] lunch')];
    assert.equal(answer(threadByReferences(messages, byNumber)), '* THREAD ((1)(2))');
  });

  test('a truncated References chain is corrected by a later full one', () => {
    const messages = [
      message(1, 1, '<a@x>', [], 'q'),
      message(2, 2, '<b@x>', ['<a@x>'], 'Re: q'),
      message(3, 3, '<c@x>', ['<b@x>'], 'Re: q'),
      message(4, 4, '<d@x>', ['<a@x>', '<c@x>'], 'Re: q'),
    ];
    assert.equal(answer(threadByReferences(messages, byNumber)), '* THREAD (1 2 3 4)');
  });
});

describe('deep threads', () => {
  test('a reply chain 20,000 deep threads and serializes without running out of stack', () => {
    const messages = Array.from({ length: 20_000 }, (_, i) =>
      message(i + 1, 1, `<${i}@x>`, i ? [`<${i - 1}@x>`] : [], i ? 'Re: deep' : 'deep'),
    );
    const text = answer(threadByReferences(messages, byNumber));
    assert.equal(text, `* THREAD (${messages.map((m) => m.number).join(' ')})`);
  });
});

describe('THREAD=ORDEREDSUBJECT', () => {
  test('threads by base subject, each by sent date, threads by their first message', () => {
    const messages = [
      message(1, 5, null, [], 'Re: b'),
      message(2, 2, null, [], 'a'),
      message(3, 3, null, [], 'B'),
      message(4, 1, null, [], 'Fwd: A'),
    ];
    assert.equal(answer(threadByOrderedSubject(messages, byNumber)), '* THREAD (4 2)(3 1)');
  });
});
