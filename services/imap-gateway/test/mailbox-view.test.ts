import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { SeqNumber, SequenceSet } from '@correo/imap-proto';
import { MailboxView } from '../src/mailbox-view.js';

/** A view of `uids` (ascending) as SELECT builds it, flags empty except where given. */
function viewOf(uids: number[], flags: Record<number, string[]> = {}, keywords: string[] = []): MailboxView {
  const messages = uids.map((uid) => ({ uid, modseq: uid, flags: flags[uid] ?? [] }));
  const uidnext = (uids.at(-1) ?? 0) + 1;
  return new MailboxView(
    'mb-1',
    'INBOX',
    false,
    77,
    { uidvalidity: 77, uidnext, highestmodseq: 9, firstRecentUid: uidnext, messages, keywords: [] },
    keywords,
  );
}

const set = (...ranges: Array<[SeqNumber, SeqNumber]>): SequenceSet => ({
  kind: 'set',
  ranges: ranges.map(([start, end]) => ({ start, end })),
});

const text = (responses: Buffer[]): string[] => responses.map((r) => r.toString('utf8').trimEnd());

describe('MailboxView: message numbers, sets and pending changes without a store', () => {
  test('numbers and UIDs map both ways; an absent UID is number 0', () => {
    const view = viewOf([3, 7, 9, 20]);
    assert.equal(view.exists, 4);
    assert.deepEqual(
      [3, 7, 9, 20].map((uid) => view.numberOf(uid)),
      [1, 2, 3, 4],
    );
    assert.equal(view.numberOf(8), 0);
    assert.equal(view.numberOf(21), 0);
    assert.equal(view.largestUid, 20);
    assert.equal(viewOf([]).numberOf(1), 0);
  });

  test('sequence sets resolve by number, UID sets by UID, "*" to the last', () => {
    const view = viewOf([3, 7, 9, 20]);
    assert.deepEqual(view.resolve(set([2, 3]), false), [7, 9]);
    assert.deepEqual(view.resolve(set([3, '*']), false), [9, 20]);
    assert.deepEqual(view.resolve(set([4, 9]), false), [20]);
    assert.deepEqual(view.resolve(set([5, 6]), false), []);
    assert.deepEqual(view.resolve(set([4, 9], [1, 3]), true), [3, 7, 9]);
    assert.deepEqual(view.resolve(set([10, '*']), true), [20]);
    // RFC 9051 6.4.8: "n:*" with n past the largest UID still names the largest.
    assert.deepEqual(view.resolve(set([30, '*']), true), [20]);
    assert.deepEqual(viewOf([]).resolve(set([1, '*']), true), []);
  });

  test('UID sets resolve to the UIDs the view holds in the ranges (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 220 }), fc.integer({ min: 1, max: 220 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (raw, ranges) => {
          const uids = [...raw].sort((a, b) => a - b);
          const view = viewOf(uids);
          const inRange = (uid: number) =>
            ranges.some(([a, b]) => uid >= Math.min(a, b) && uid <= Math.max(a, b));
          assert.deepEqual(view.resolve(set(...ranges), true), uids.filter(inRange));
          for (const [i, uid] of uids.entries()) assert.equal(view.numberOf(uid), i + 1);
        },
      ),
    );
  });

  test('own expunges are reported in descending numbers, or as VANISHED with QRESYNC', () => {
    const view = viewOf([3, 7, 9, 20]);
    view.markExpunged([7, 20, 99]);
    assert.equal(view.isLive(7), false);
    assert.equal(view.isLive(9), true);
    // Numbers stay until the EXPUNGEs are sent, so commands in between address what the client means.
    assert.equal(view.numberOf(9), 3);
    assert.deepEqual(text(view.expungeResponses(false)), ['* 4 EXPUNGE', '* 2 EXPUNGE']);
    assert.equal(view.numberOf(9), 2);
    assert.equal(view.exists, 2);
    assert.deepEqual(view.expungeResponses(false), []);

    const qresync = viewOf([3, 7, 9, 20]);
    qresync.markExpunged([7, 9, 20]);
    assert.deepEqual(text(qresync.expungeResponses(true)), ['* VANISHED 7,9,20']);
  });

  test('the saved result "$" keeps only what is still there', () => {
    const view = viewOf([3, 7, 9, 20]);
    view.saveSearchResult([20, 7, 7, 3]);
    assert.deepEqual(view.resolve({ kind: 'saved' }, false), [3, 7, 20]);
    view.markExpunged([7]);
    view.expungeResponses(false);
    assert.deepEqual(view.resolve({ kind: 'saved' }, true), [3, 20]);
    assert.deepEqual(view.uidRanges({ kind: 'saved' }), [
      [3, 3],
      [20, 20],
    ]);
  });

  test('a keyword new to the client is announced once in FLAGS and PERMANENTFLAGS', () => {
    const view = viewOf([1], {}, ['$Known']);
    assert.deepEqual(view.announceKeywords([['\\Seen', '$Known']]), []);
    assert.deepEqual(text(view.announceKeywords([['$New', '\\Flagged']])), [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Known $New)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Known $New \\*)] Flags permitted',
    ]);
    assert.deepEqual(view.announceKeywords([['$New']]), []);
  });

  test('flags this session set itself are not reported back as changes', () => {
    const view = viewOf([1, 2]);
    view.noteOwnFlags([{ uid: 2, modseq: 12, flags: ['\\Seen'] }]);
    assert.deepEqual(
      view.report({ expungesAllowed: true, condstore: true, qresync: false, recent: true }),
      [],
    );
  });

  test("\\Recent is the view's own: shown in FLAGS, searched as ranges, gone with the message", () => {
    const view = viewOf([2, 4, 5, 6, 9]);
    view.markRecent(4, 7);
    assert.equal(view.recentCount, 3);
    assert.deepEqual(view.recentRanges(), [[4, 6]]);
    assert.deepEqual(view.shownFlags(5, ['\\Seen']), ['\\Seen', '\\Recent']);
    assert.deepEqual(view.shownFlags(9, []), []);
    view.markExpunged([5]);
    assert.deepEqual(text(view.expungeResponses(false)), ['* 3 EXPUNGE']);
    assert.deepEqual(view.recentRanges(), [
      [4, 4],
      [6, 6],
    ]);
    view.forgetRecent();
    assert.equal(view.recentCount, 0);
    assert.deepEqual(view.shownFlags(4, []), []);
  });
});
