import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { SortCriterion, SortKey, ThreadNode } from '../src/index.js';
import { esearchResponse, SORT_KEYS, sortResponse, threadResponse } from '../src/index.js';
import { searchKey } from './arbitraries.js';
import { parse, rejects } from './helpers.js';
import { formatSearchKey } from './search-key-format.js';

const text = (b: Buffer): string => b.toString('utf8');

describe('SORT (RFC 5256, RFC 5267, RFC 5957)', () => {
  test('RFC 5256 3 examples', () => {
    assert.deepEqual(parse('A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994'), {
      command: 'SORT',
      uid: false,
      returnOptions: null,
      sort: [{ key: 'SUBJECT', reverse: false }],
      charset: 'UTF-8',
      criteria: [{ key: 'SINCE', date: { year: 1994, month: 2, day: 1 } }],
    });
    assert.deepEqual(parse('A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL'), {
      command: 'SORT',
      uid: false,
      returnOptions: null,
      sort: [
        { key: 'SUBJECT', reverse: false },
        { key: 'DATE', reverse: true },
      ],
      charset: 'UTF-8',
      criteria: [{ key: 'ALL' }],
    });
    const uid = parse('A284 UID SORT (SUBJECT) US-ASCII TEXT "not in mailbox"');
    assert.ok(uid.command === 'SORT' && uid.uid && uid.charset === 'US-ASCII');
    assert.deepEqual(uid.criteria, [{ key: 'TEXT', value: 'not in mailbox' }]);
  });

  test('ESORT RETURN (RFC 5267 examples) and DISPLAYFROM/DISPLAYTO (RFC 5957)', () => {
    const esort = parse('C01 UID SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 UNDELETED UNKEYWORD $Junk');
    assert.ok(esort.command === 'SORT');
    assert.deepEqual(esort.returnOptions, ['MIN', 'MAX', 'COUNT']);
    assert.deepEqual(esort.criteria, [{ key: 'UNDELETED' }, { key: 'UNKEYWORD', flag: '$Junk' }]);
    const empty = parse('C02 SORT RETURN () (ARRIVAL) UTF-8 ALL');
    assert.ok(empty.command === 'SORT' && empty.returnOptions?.length === 0);
    const display = parse('C03 SORT (DISPLAYFROM reverse displayto cc to from size arrival) "utf-8" ALL');
    assert.ok(display.command === 'SORT');
    assert.deepEqual(
      display.sort.map((c) => `${c.reverse ? 'REVERSE ' : ''}${c.key}`),
      ['DISPLAYFROM', 'REVERSE DISPLAYTO', 'CC', 'TO', 'FROM', 'SIZE', 'ARRIVAL'],
    );
  });

  test('bad SORT', () => {
    rejects('a SORT SUBJECT UTF-8 ALL', /"\(" opening the sort criteria/);
    rejects('a SORT () UTF-8 ALL', /sort key/);
    rejects('a SORT (NAME) UTF-8 ALL', /Unknown sort key NAME/);
    rejects('a SORT (REVERSE) UTF-8 ALL', /after REVERSE/);
    rejects('a SORT (DATE) ALL', /Charset ALL is not supported/);
    rejects('a SORT (DATE) UTF-8', /Expected/);
    rejects('a SORT RETURN (SAVE) (DATE) UTF-8 ALL', /Unknown RETURN option SAVE/);
    const charset = rejects('a SORT (DATE) KOI8-R ALL', /KOI8-R is not supported/);
    assert.equal(charset.code, 'BADCHARSET');
  });

  test('responses: SORT in sort order, ESORT ALL keeping the order', () => {
    assert.equal(text(sortResponse([2, 84, 882])), '* SORT 2 84 882\r\n');
    assert.equal(text(sortResponse([])), '* SORT\r\n');
    assert.equal(
      text(
        esearchResponse({ tag: 'C01', uid: true, sorted: true, min: 9, max: 3, all: [9, 1, 2, 3], count: 4 }),
      ),
      '* ESEARCH (TAG "C01") UID MIN 9 MAX 3 ALL 9,1:3 COUNT 4\r\n',
    );
  });

  const sortCriterion: fc.Arbitrary<SortCriterion> = fc.record({
    key: fc.constantFrom(...([...SORT_KEYS] as SortKey[])),
    reverse: fc.boolean(),
  });

  test('property: written criteria and search keys parse back', () => {
    fc.assert(
      fc.property(
        fc.array(sortCriterion, { minLength: 1, maxLength: 5 }),
        fc.array(searchKey, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (sort, keys, uid) => {
          const criteria = sort.map((c) => `${c.reverse ? 'REVERSE ' : ''}${c.key}`).join(' ');
          const line = `a ${uid ? 'UID ' : ''}SORT (${criteria}) UTF-8 ${keys.map(formatSearchKey).join(' ')}`;
          const request = parse(Buffer.from(line, 'utf8'));
          assert.ok(request.command === 'SORT');
          assert.deepEqual(
            request.sort,
            sort.map((c) => ({ ...c })),
          );
          assert.deepEqual(request.criteria, keys);
          assert.equal(request.uid, uid);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('THREAD (RFC 5256)', () => {
  test('RFC 5256 3 examples', () => {
    assert.deepEqual(parse('A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000'), {
      command: 'THREAD',
      uid: false,
      algorithm: 'ORDEREDSUBJECT',
      charset: 'UTF-8',
      criteria: [{ key: 'SINCE', date: { year: 2000, month: 3, day: 5 } }],
    });
    const uid = parse('A284 UID THREAD references US-ASCII TEXT "gewp"');
    assert.ok(uid.command === 'THREAD' && uid.uid && uid.algorithm === 'REFERENCES');
  });

  test('bad THREAD', () => {
    rejects('a THREAD UTF-8 ALL', /Unknown threading algorithm UTF-8/);
    rejects('a THREAD REFS UTF-8 ALL', /Unknown threading algorithm REFS/);
    rejects('a THREAD REFERENCES UTF-8', /Expected/);
    assert.equal(rejects('a THREAD REFERENCES X ALL', /X is not supported/).code, 'BADCHARSET');
  });

  test('responses: the RFC 5256 examples', () => {
    const leaf = (id: number): ThreadNode => ({ id, children: [] });
    const chain = (...ids: number[]): ThreadNode =>
      ids.length === 1 ? leaf(ids[0]!) : { id: ids[0]!, children: [chain(...ids.slice(1))] };
    // (2)(3 6 (4 23)(44 7 96))
    const threads: ThreadNode[] = [
      leaf(2),
      { id: 3, children: [{ id: 6, children: [chain(4, 23), chain(44, 7, 96)] }] },
    ];
    assert.equal(text(threadResponse(threads)), '* THREAD (2)(3 6 (4 23)(44 7 96))\r\n');
    // A dummy root with two children: ((3)(5)).
    assert.equal(text(threadResponse([{ id: null, children: [leaf(3), leaf(5)] }])), '* THREAD ((3)(5))\r\n');
    // ORDEREDSUBJECT: the first message, the others as its children.
    assert.equal(
      text(threadResponse([leaf(166), { id: 174, children: [leaf(175), leaf(176)] }])),
      '* THREAD (166)(174 (175)(176))\r\n',
    );
    assert.equal(text(threadResponse([])), '* THREAD\r\n');
  });
});
