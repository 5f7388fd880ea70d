import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ViewFetchItem } from '../src/index.js';
import { fetchResponse, viewFetchText } from '../src/index.js';
import { flag } from './arbitraries.js';

// viewFetchText writes FETCH responses of UID, FLAGS and MODSEQ as text for speed; the generic
// serializer is the reference: the two must give the same bytes for any such items in any order.
const item: fc.Arbitrary<ViewFetchItem> = fc.oneof(
  fc.integer({ min: 1, max: 0xffffffff }).map((uid) => ({ item: 'UID' as const, uid })),
  fc.array(flag, { maxLength: 6 }).map((flags) => ({ item: 'FLAGS' as const, flags })),
  fc
    .oneof(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }))
    .map((modseq) => ({ item: 'MODSEQ' as const, modseq })),
);

test('viewFetchText writes what fetchResponse writes for UID, FLAGS and MODSEQ', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.array(item, { maxLength: 4 }),
      (sequence, items) => {
        assert.equal(viewFetchText(sequence, items), fetchResponse(sequence, items).toString('utf8'));
      },
    ),
    { numRuns: 2000 },
  );
});

test('viewFetchText: the poll line every client sends', () => {
  assert.equal(
    viewFetchText(3, [
      { item: 'UID', uid: 17 },
      { item: 'FLAGS', flags: ['\\Seen', '$Forwarded'] },
      { item: 'MODSEQ', modseq: 9n },
    ]),
    '* 3 FETCH (UID 17 FLAGS (\\Seen $Forwarded) MODSEQ (9))\r\n',
  );
  assert.equal(viewFetchText(1, [{ item: 'FLAGS', flags: [] }]), '* 1 FETCH (FLAGS ())\r\n');
});
