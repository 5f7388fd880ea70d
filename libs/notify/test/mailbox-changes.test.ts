import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRedisNotifier } from '../src/redis-notifier.js';
import { createMemoryNotifier, MemoryBus } from '../src/memory-notifier.js';
import {
  MailboxChangeFeed,
  decodeMailboxChange,
  encodeMailboxChange,
  mailboxChannel,
  observeMailboxChangeFanout,
  type MailboxChange,
} from '../src/mailbox-changes.js';

const change: fc.Arbitrary<MailboxChange> = fc.record(
  {
    mailboxId: fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String),
    uid: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    modseq: fc.maxSafeNat(),
    kind: fc.constantFrom('append', 'flags', 'expunge', 'copy', 'move', 'mailboxes', 'metadata'),
    entries: fc.array(fc.string({ maxLength: 30 }), { maxLength: 4 }),
  },
  { requiredKeys: ['mailboxId', 'modseq', 'kind'], noNullPrototype: true },
);

test('every change survives its wire form unchanged', () => {
  fc.assert(fc.property(change, (c) => assert.deepEqual(decodeMailboxChange(encodeMailboxChange(c)), c)));
});

test('the wire form is the JSON every pod already reads', () => {
  assert.equal(
    encodeMailboxChange({ mailboxId: '7', uid: 3, modseq: 12, kind: 'append' }),
    '{"mailboxId":"7","uid":3,"modseq":12,"kind":"append"}',
  );
  assert.equal(
    encodeMailboxChange({ mailboxId: '7', modseq: 13, kind: 'expunge' }),
    '{"mailboxId":"7","modseq":13,"kind":"expunge"}',
  );
  // A publisher that sent the bigint id as a number is still understood.
  assert.deepEqual(decodeMailboxChange('{"mailboxId":7,"modseq":1,"kind":"flags"}'), {
    mailboxId: '7',
    modseq: 1,
    kind: 'flags',
  });
});

test('a payload it cannot read decodes to null ("something changed"), never throws', () => {
  for (const payload of [
    '',
    'EXISTS 1',
    'null',
    '[]',
    '{"mailboxId":"1"}',
    '{"mailboxId":"1","modseq":1,"kind":"boom"}',
  ]) {
    assert.equal(decodeMailboxChange(payload), null, payload);
  }
  fc.assert(fc.property(fc.string(), (payload) => void decodeMailboxChange(payload)));
});

test('a subscriber of the feed gets typed changes of its account only', async () => {
  const bus = new MemoryBus();
  const writer = new MailboxChangeFeed(createMemoryNotifier({ bus }), { warn: () => assert.fail('warned') });
  const reader = new MailboxChangeFeed(createMemoryNotifier({ bus }), { warn: () => assert.fail('warned') });
  const heard: (MailboxChange | null)[] = [];
  const arrived = new Promise<void>((resolve) => {
    void reader.subscribe('a1', (c) => {
      heard.push(c);
      if (heard.length === 2) resolve();
    });
  });
  await new Promise((resolve) => setImmediate(resolve));
  await writer.publish('a2', { mailboxId: '9', modseq: 1, kind: 'flags' });
  await writer.publish('a1', { mailboxId: '5', uid: 4, modseq: 2, kind: 'append' });
  // A stray payload on the channel reaches listeners as null: they re-read.
  await createMemoryNotifier({ bus }).publish(mailboxChannel('a1'), 'not json');
  await arrived;
  assert.deepEqual(heard, [{ mailboxId: '5', uid: 4, modseq: 2, kind: 'append' }, null]);
});

test('a publish that cannot reach the backend is logged, never thrown at the committed writer', async () => {
  const dead = createRedisNotifier({ url: 'redis://127.0.0.1:1', timeoutMs: 500 });
  const warnings: { fields: object; message: string }[] = [];
  try {
    const feed = new MailboxChangeFeed(dead, {
      warn: (fields, message) => warnings.push({ fields, message }),
    });
    await feed.publish('a1', { mailboxId: '5', modseq: 2, kind: 'expunge' });
  } finally {
    await dead.close();
  }
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.message, 'mailbox-changed notification not published');
  const { accountId, mailboxId } = warnings[0]!.fields as Record<string, unknown>;
  assert.deepEqual([accountId, mailboxId], ['a1', '5']);
});

test('each listener is timed from the publish (notify fan-out); the time is no part of the change', async () => {
  const bus = new MemoryBus();
  const log = { warn: () => {} };
  const writer = new MailboxChangeFeed(createMemoryNotifier({ bus }), log);
  const reader = new MailboxChangeFeed(createMemoryNotifier({ bus }), log);
  const timed: number[] = [];
  observeMailboxChangeFanout((seconds) => timed.push(seconds));
  const heard: (MailboxChange | null)[] = [];
  const arrived = new Promise<void>((resolve) => {
    for (let i = 0; i < 2; i++) {
      void reader.subscribe('a1', (c) => {
        heard.push(c);
        if (heard.length === 2) resolve();
      });
    }
  });
  await new Promise((resolve) => setImmediate(resolve));
  await writer.publish('a1', { mailboxId: '5', modseq: 2, kind: 'flags' });
  await arrived;
  assert.deepEqual(heard, [
    { mailboxId: '5', modseq: 2, kind: 'flags' },
    { mailboxId: '5', modseq: 2, kind: 'flags' },
  ]);
  assert.equal(timed.length, 2, 'one observation per listening session');
  assert.ok(timed.every((seconds) => seconds >= 0 && seconds < 60));
  // The publish time rides in the payload as `at`; a reader that does not know it ignores it.
  assert.deepEqual(decodeMailboxChange('{"mailboxId":"5","modseq":2,"kind":"flags","at":1}'), {
    mailboxId: '5',
    modseq: 2,
    kind: 'flags',
  });
});
