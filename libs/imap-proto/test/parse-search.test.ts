import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SearchKey } from '../src/index.js';
import { parse, rejects, set } from './helpers.js';

function criteria(line: string): SearchKey[] {
  const request = parse(line);
  assert.equal(request.command, 'SEARCH');
  return request.command === 'SEARCH' ? request.criteria : [];
}

describe('SEARCH', () => {
  test('RFC 9051 6.4.4 examples', () => {
    assert.deepEqual(parse('A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"'), {
      command: 'SEARCH',
      uid: false,
      charset: null,
      returnOptions: ['MIN', 'COUNT'],
      criteria: [
        { key: 'FLAGGED' },
        { key: 'SINCE', date: { year: 1994, month: 2, day: 1 } },
        { key: 'NOT', operand: { key: 'FROM', value: 'Smith' } },
      ],
    });
    assert.deepEqual(parse('A284 SEARCH CHARSET UTF-8 TEXT {12}\r\n\u00e4\u00e0\u00e8\u00e9\u00ea\u00eb'), {
      command: 'SEARCH',
      uid: false,
      charset: 'UTF-8',
      returnOptions: null,
      criteria: [{ key: 'TEXT', value: '\u00e4\u00e0\u00e8\u00e9\u00ea\u00eb' }],
    });
    assert.deepEqual(criteria('A283 SEARCH TEXT "string not in mailbox"'), [
      { key: 'TEXT', value: 'string not in mailbox' },
    ]);
  });

  test('every flag key', () => {
    const keys = [
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
    ];
    assert.deepEqual(
      criteria(`a SEARCH ${keys.map((k) => k.toLowerCase()).join(' ')}`),
      keys.map((key) => ({ key })),
    );
  });

  test('every key with an argument', () => {
    const d = { year: 2024, month: 3, day: 9 };
    assert.deepEqual(
      criteria(
        'a SEARCH BCC b CC c FROM f SUBJECT "hi there" TO t BODY {3}\r\nxyz TEXT tx ' +
          'BEFORE 9-Mar-2024 ON "09-Mar-2024" SINCE 9-mar-2024 SENTBEFORE 9-Mar-2024 SENTON 9-Mar-2024 SENTSINCE 9-Mar-2024 ' +
          'HEADER X-Mailer "" KEYWORD $Junk UNKEYWORD foo LARGER 1000 SMALLER 9007199254740991 ' +
          'UID 1:*,3 2,4:6 * OLDER 3600 YOUNGER 60',
      ),
      [
        { key: 'BCC', value: 'b' },
        { key: 'CC', value: 'c' },
        { key: 'FROM', value: 'f' },
        { key: 'SUBJECT', value: 'hi there' },
        { key: 'TO', value: 't' },
        { key: 'BODY', value: 'xyz' },
        { key: 'TEXT', value: 'tx' },
        { key: 'BEFORE', date: d },
        { key: 'ON', date: d },
        { key: 'SINCE', date: d },
        { key: 'SENTBEFORE', date: d },
        { key: 'SENTON', date: d },
        { key: 'SENTSINCE', date: d },
        { key: 'HEADER', field: 'X-Mailer', value: '' },
        { key: 'KEYWORD', flag: '$Junk' },
        { key: 'UNKEYWORD', flag: 'foo' },
        { key: 'LARGER', size: 1000 },
        { key: 'SMALLER', size: 9007199254740991 },
        { key: 'UID', set: set([1, '*'], 3) },
        { key: 'SEQUENCE', set: set(2, [4, 6]) },
        { key: 'SEQUENCE', set: set('*') },
        { key: 'OLDER', seconds: 3600 },
        { key: 'YOUNGER', seconds: 60 },
      ],
    );
  });

  test('OR, NOT, parenthesised groups and $', () => {
    assert.deepEqual(criteria('a UID SEARCH OR (SEEN FROM x) NOT (UNSEEN) $'), [
      {
        key: 'OR',
        left: { key: 'AND', operands: [{ key: 'SEEN' }, { key: 'FROM', value: 'x' }] },
        right: { key: 'NOT', operand: { key: 'AND', operands: [{ key: 'UNSEEN' }] } },
      },
      { key: 'SEQUENCE', set: { kind: 'saved' } },
    ]);
    assert.deepEqual(criteria('a SEARCH OR OR SEEN DRAFT DELETED'), [
      {
        key: 'OR',
        left: { key: 'OR', left: { key: 'SEEN' }, right: { key: 'DRAFT' } },
        right: { key: 'DELETED' },
      },
    ]);
  });

  test('MODSEQ with and without an entry (RFC 7162 3.1.5 example)', () => {
    assert.deepEqual(criteria('a SEARCH MODSEQ "/flags/\\\\draft" all 620162338'), [
      { key: 'MODSEQ', modseq: 620162338n, entry: { name: '/flags/\\draft', type: 'all' } },
    ]);
    assert.deepEqual(criteria('a SEARCH MODSEQ 0'), [{ key: 'MODSEQ', modseq: 0n, entry: null }]);
  });

  test('ESEARCH RETURN options (RFC 4731)', () => {
    const request = parse('a UID SEARCH RETURN (all save Min MAX count) CHARSET "us-ascii" ALL');
    assert.deepEqual(request, {
      command: 'SEARCH',
      uid: true,
      charset: 'US-ASCII',
      returnOptions: ['ALL', 'SAVE', 'MIN', 'MAX', 'COUNT'],
      criteria: [{ key: 'ALL' }],
    });
    const empty = parse('a SEARCH RETURN () ALL');
    assert.deepEqual(empty.command === 'SEARCH' && empty.returnOptions, []);
  });

  test('bad SEARCH', () => {
    rejects('a SEARCH', /Expected a space after SEARCH/);
    rejects('a SEARCH FOO', /Unknown search key FOO/);
    rejects('a SEARCH FROM', /Expected a space after FROM/);
    rejects('a SEARCH SINCE 32-Jan-2020', /no day 32/);
    rejects('a SEARCH SINCE 1-Jan-20', /four-digit year/);
    rejects('a SEARCH SINCE yesterday', /Expected a date/);
    rejects('a SEARCH OR SEEN', /Expected a space after the first OR operand/);
    rejects('a SEARCH (SEEN', /"\)" closing the search group/);
    rejects('a SEARCH ()', /Expected a search key/);
    rejects('a SEARCH RETURN (BOGUS) ALL', /Unknown RETURN option BOGUS/);
    rejects('a SEARCH LARGER 99999999999999999999', /too large/);
    rejects('a SEARCH MODSEQ "/flags/x" weird 5', /Unknown entry type weird/);
    rejects(`a SEARCH ${'NOT '.repeat(200)}ALL`, /nested too deeply/);
    rejects(`a SEARCH ${'('.repeat(200)}ALL${')'.repeat(200)}`, /nested too deeply/);
    const charset = rejects('a SEARCH CHARSET KOI8-R ALL', /Charset KOI8-R is not supported/);
    assert.equal(charset.code, 'BADCHARSET');
  });
});
