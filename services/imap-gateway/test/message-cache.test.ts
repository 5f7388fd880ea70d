import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImapMessageRow } from '@correo/store';
import { MAX_SEARCH_FACTS_CHARS, MessageCache } from '../src/message-cache.js';

// The cache never looks inside: any envelope object stands for one.
const envelope = { subject: 'Hello' } as unknown as NonNullable<ImapMessageRow['envelope']>;

function row(uid: number, extra: Partial<ImapMessageRow> = {}): ImapMessageRow {
  return {
    uid,
    modseq: 7,
    flags: ['\\Seen'],
    blobKey: `${uid}`.padStart(64, '0'),
    size: 100 + uid,
    internalDate: new Date(0),
    ...extra,
  };
}

const none = { envelope: false, bodystructure: false };

test('the cache holds at most its capacity, least recently used out first', () => {
  const cache = new MessageCache(2);
  cache.put('1', 5, row(1));
  cache.put('1', 5, row(2));
  assert.ok(cache.get('1', 5, 1, none), 'uid 1 is used again: uid 2 is now the oldest');
  cache.put('1', 5, row(3));
  assert.equal(cache.get('1', 5, 2, none), undefined);
  assert.equal(cache.get('1', 5, 1, none)?.size, 101);
  assert.equal(cache.get('1', 5, 3, none)?.size, 103);
});

test('an entry in use stays however many others come and go, though not moved on every use', () => {
  // Moved to the newest end at most once a quarter of the capacity in operations (a SEARCH touches a
  // whole mailbox's entries): one used at least every three quarters of it is never evicted.
  const cache = new MessageCache(8);
  for (let uid = 1; uid <= 8; uid++) cache.put('1', 5, row(uid));
  assert.equal(cache.get('1', 5, 1, none)?.size, 101);
  for (let uid = 9; uid <= 200; uid++) {
    cache.put('1', 5, row(uid));
    // Four insertions and a use: five operations, within three quarters of the capacity (six).
    if (uid % 4 === 0) assert.equal(cache.get('1', 5, 1, none)?.size, 101, `uid 1 still held at ${uid}`);
  }
  assert.equal(cache.get('1', 5, 2, none), undefined, 'one not used went long ago');
  assert.equal(cache.get('1', 5, 200, none)?.size, 300);
});

test('never flags or MODSEQ; another mailbox or UIDVALIDITY is another message; parts only once read', () => {
  const cache = new MessageCache(10);
  cache.put('1', 5, row(1));
  const held = cache.get('1', 5, 1, none)!;
  assert.ok(!('flags' in held) && !('modseq' in held) && !('uid' in held));
  assert.equal(cache.get('2', 5, 1, none), undefined);
  assert.equal(cache.get('1', 6, 1, none), undefined);
  assert.equal(cache.get('1', 5, 1, { envelope: true, bodystructure: false }), undefined);
  cache.put('1', 5, row(1, { envelope }));
  // A later read without the envelope keeps the one held; a structure of null (none stored) counts.
  cache.put('1', 5, row(1, { bodystructure: null }));
  const both = cache.get('1', 5, 1, { envelope: true, bodystructure: true });
  assert.equal(both?.envelope, envelope);
  assert.equal(both?.bodystructure, null);
});

const summary = {
  subject: 'bench 3',
  from: 's3@remote.test',
  to: null,
  cc: null,
  messageId: '<one@remote.test>',
  inReplyTo: null,
  date: null,
  internalDay: '2026-11-26',
  sentDay: null,
};

test('the SEARCH summary columns are held once read, kept by reads without them, null when too long', () => {
  const cache = new MessageCache(10);
  const search = { ...none, search: true };
  cache.put('1', 5, row(1));
  assert.equal(cache.get('1', 5, 1, search), undefined);
  cache.put('1', 5, row(1, { search: summary }));
  cache.put('1', 5, row(1, { envelope }));
  assert.deepEqual(cache.get('1', 5, 1, search)?.summary, summary);
  assert.ok(!('search' in cache.get('1', 5, 1, search)!), 'held as summary, never handed to FETCH as search');
  // A hostile Subject is not held: the entry says so (null), so SEARCH asks the store about it.
  cache.put('1', 5, row(2, { search: { ...summary, subject: 'x'.repeat(MAX_SEARCH_FACTS_CHARS) } }));
  assert.equal(cache.get('1', 5, 2, search)?.summary, null);
});
