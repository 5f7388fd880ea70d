import fc from 'fast-check';
import type { SearchKey, SequenceRange, SequenceSet } from '../src/index.js';

/** Records with a normal prototype, so deepStrictEqual can compare them with parsed values. */
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model as never, { noNullPrototype: true }) as fc.Arbitrary<T>;

export const seqNumber = fc.oneof(fc.integer({ min: 1, max: 0xffffffff }), fc.constant('*' as const));

export const sequenceSet: fc.Arbitrary<SequenceSet> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .array(
        fc
          .tuple(seqNumber, fc.option(seqNumber, { nil: undefined }))
          .map(([start, end]): SequenceRange => ({ start, end: end ?? start })),
        { minLength: 1, maxLength: 8 },
      )
      .map((ranges) => ({ kind: 'set' as const, ranges })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'saved' as const }) },
);

const atomChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&'+,-./:;<=>?@^_`|~[";
export const atomText = fc
  .array(fc.constantFrom(...atomChars.split('')), { minLength: 1, maxLength: 12 })
  .map((c) => c.join(''))
  .filter((a) => a.toUpperCase() !== 'NIL');

/** Text without NUL (which no string may carry), any Unicode otherwise. */
export const anyText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/\0/g, ''));

export const flag = fc.oneof(
  atomText,
  fc.constantFrom('\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'),
  atomText.map((a) => `\\X${a}`),
);

export const imapDate = rec({
  year: fc.integer({ min: 1000, max: 9999 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
});

const leafKey: fc.Arbitrary<SearchKey> = fc.oneof(
  fc
    .constantFrom(
      'ALL',
      'ANSWERED',
      'DELETED',
      'DRAFT',
      'FLAGGED',
      'NEW',
      'OLD',
      'RECENT',
      'SEEN',
      'UNANSWERED',
      'UNDELETED',
      'UNDRAFT',
      'UNFLAGGED',
      'UNSEEN',
    )
    .map((key) => ({ key }) as SearchKey),
  rec({
    key: fc.constantFrom('BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO'),
    value: anyText,
  }) as fc.Arbitrary<SearchKey>,
  rec({ key: fc.constant('HEADER' as const), field: atomText, value: anyText }),
  rec({ key: fc.constantFrom('KEYWORD' as const, 'UNKEYWORD' as const), flag: atomText }),
  fc.constant({ key: 'SAVEDATESUPPORTED' } as SearchKey),
  rec({
    key: fc.constantFrom('EMAILID' as const, 'THREADID' as const),
    id: fc.stringMatching(/^[A-Za-z0-9_-]{1,255}$/),
  }),
  rec({
    key: fc.constantFrom(
      'BEFORE',
      'ON',
      'SINCE',
      'SENTBEFORE',
      'SENTON',
      'SENTSINCE',
      'SAVEDBEFORE',
      'SAVEDON',
      'SAVEDSINCE',
    ),
    date: imapDate,
  }) as fc.Arbitrary<SearchKey>,
  rec({ key: fc.constantFrom('LARGER' as const, 'SMALLER' as const), size: fc.maxSafeNat() }),
  rec({
    key: fc.constantFrom('OLDER' as const, 'YOUNGER' as const),
    seconds: fc.integer({ min: 1, max: 0xffffffff }),
  }),
  rec({ key: fc.constantFrom('UID' as const, 'SEQUENCE' as const), set: sequenceSet }),
  rec({
    key: fc.constant('MODSEQ' as const),
    modseq: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    entry: fc.option(
      rec({
        name: atomText.map((a) => `/flags/${a}`),
        type: fc.constantFrom('priv' as const, 'shared' as const, 'all' as const),
      }),
      { nil: null },
    ),
  }),
);

export const searchKey: fc.Arbitrary<SearchKey> = fc.letrec<{ key: SearchKey }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafKey,
    rec({ key: fc.constant('NOT' as const), operand: tie('key') }),
    rec({ key: fc.constant('OR' as const), left: tie('key'), right: tie('key') }),
    rec({ key: fc.constant('AND' as const), operands: fc.array(tie('key'), { minLength: 1, maxLength: 3 }) }),
  ),
})).key;
