import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSequenceSet, sequenceSetHas } from '../src/index.js';
import { set } from './helpers.js';

describe('resolving sequence sets against a mailbox', () => {
  test('"*" is the largest number, reversed ranges are turned round, overlaps merge', () => {
    assert.deepEqual(resolveSequenceSet(set([1, 3], [2, 5], 9, ['*', 7]), 12), [
      [1, 5],
      [7, 12],
    ]);
    assert.deepEqual(resolveSequenceSet(set([20, '*']), 12), [[12, 20]]);
    assert.deepEqual(resolveSequenceSet(set('*'), 0), []);
    assert.deepEqual(resolveSequenceSet(set(4, 5, 6), 10), [[4, 6]]);
  });

  test('membership', () => {
    const s = set([3, 5], ['*', 10]);
    assert.equal(sequenceSetHas(s, 4, 12), true);
    assert.equal(sequenceSetHas(s, 11, 12), true);
    assert.equal(sequenceSetHas(s, 7, 12), false);
    assert.equal(sequenceSetHas(s, 9, 12), false);
  });
});
