import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchCriteria } from '../src/search-query.js';
import { WebmailError } from '../src/webmail-error.js';

/** The criteria as IMAP would read them on the wire: atoms bare, strings quoted. */
const wire = (query: string) =>
  searchCriteria(query)
    .map((token) => (token.type === 'ATOM' ? token.value : JSON.stringify(token.value)))
    .join(' ');

test('no words: every message', () => {
  assert.equal(wire(''), 'ALL');
  assert.equal(wire('   '), 'ALL');
});

test('a bare word or quoted phrase is looked for in subject, senders, recipients and text', () => {
  assert.equal(wire('report'), 'OR OR SUBJECT "report" FROM "report" OR TO "report" TEXT "report"');
  assert.equal(
    wire('"next week"'),
    'OR OR SUBJECT "next week" FROM "next week" OR TO "next week" TEXT "next week"',
  );
});

test('field prefixes look in one field; every term must match', () => {
  assert.equal(wire('from:bob subject:"Quarterly report"'), 'FROM "bob" SUBJECT "Quarterly report"');
  assert.equal(wire('to:ana'), 'OR TO "ana" CC "ana"');
  assert.equal(wire('BODY:numbers'), 'BODY "numbers"');
});

test('dates bound the arrival day: after: includes it, before: excludes it', () => {
  assert.equal(wire('after:2026-03-07 before:2026-12-31'), 'SINCE 7-Mar-2026 BEFORE 31-Dec-2026');
});

test('an unknown prefix is part of the word, so addresses and times still search', () => {
  assert.equal(wire('http://x'), 'OR OR SUBJECT "http://x" FROM "http://x" OR TO "http://x" TEXT "http://x"');
});

test('a bad date or too many terms is the user’s mistake, said in words (400)', () => {
  for (const [query, code] of [
    ['after:yesterday', 'bad_search_date'],
    ['before:2026-02-30', 'bad_search_date'],
    ['a b c d e f g h i', 'search_too_long'],
  ] as const) {
    assert.throws(
      () => searchCriteria(query),
      (error: unknown) => error instanceof WebmailError && error.statusCode === 400 && error.code === code,
      query,
    );
  }
});
