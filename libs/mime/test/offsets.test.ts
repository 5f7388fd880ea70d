import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findPart, parseSectionPath, sectionRange } from '../src/index.js';
import type { SectionText } from '../src/index.js';
import { allParts, analyze, assertOffsetsSane, crlf } from './fixtures.js';

const MESSAGE = crlf([
  'From: a@example.test',
  'Content-Type: multipart/mixed; boundary="=_outer"',
  '',
  'This is the preamble.',
  '--=_outer',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello there,',
  'second line.',
  '',
  '--=_outer',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner',
  'Content-Type: multipart/alternative; boundary=alt',
  '',
  '--alt',
  'Content-Type: text/plain',
  '',
  'inner plain',
  '--alt',
  'Content-Type: text/html',
  '',
  '<p>inner html</p>',
  '--alt--',
  'inner epilogue',
  '--=_outer',
  'Content-Type: message/rfc822',
  '',
  'Subject: single',
  '',
  'single body',
  '--=_outer--',
  'The epilogue.',
  '',
]);

/** BODY[section] -> the exact text IMAP must return, written out by hand. */
const EXPECTED: Array<[string, SectionText | undefined, string | null]> = [
  ['', 'HEADER', 'From: a@example.test\r\nContent-Type: multipart/mixed; boundary="=_outer"\r\n\r\n'],
  ['1', undefined, 'Hello there,\r\nsecond line.\r\n'],
  ['1', 'MIME', 'Content-Type: text/plain; charset=utf-8\r\n\r\n'],
  ['1', 'HEADER', null],
  ['2', 'MIME', 'Content-Type: message/rfc822\r\n\r\n'],
  ['2', 'HEADER', 'Subject: inner\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n'],
  [
    '2',
    'TEXT',
    '--alt\r\nContent-Type: text/plain\r\n\r\ninner plain\r\n--alt\r\nContent-Type: text/html\r\n\r\n<p>inner html</p>\r\n--alt--\r\ninner epilogue',
  ],
  ['2.1', undefined, 'inner plain'],
  ['2.1', 'MIME', 'Content-Type: text/plain\r\n\r\n'],
  ['2.2', undefined, '<p>inner html</p>'],
  ['2.3', undefined, null],
  ['3', undefined, 'Subject: single\r\n\r\nsingle body'],
  ['3', 'HEADER', 'Subject: single\r\n\r\n'],
  ['3', 'TEXT', 'single body'],
  ['3.1', undefined, 'single body'],
  ['3.2', undefined, null],
  ['4', undefined, null],
];

describe('part offsets', () => {
  for (const chunking of [[MESSAGE.length], [1], [7, 3, 64]]) {
    test(`BODY[section] slices are exact (chunks of ${chunking.join(',')})`, async () => {
      const a = await analyze(MESSAGE, chunking);
      assert.equal(a.malformed, false);
      for (const [section, text, want] of EXPECTED) {
        const range = sectionRange(a.bodystructure, parseSectionPath(section)!, text);
        const got = range && MESSAGE.subarray(range.start, range.end).toString();
        assert.equal(got, want, `BODY[${section}${text ? '.' + text : ''}]`);
      }
      const whole = sectionRange(a.bodystructure, []);
      assert.deepEqual(whole, { start: 0, end: MESSAGE.length });
      assertOffsetsSane(a);
    });
  }

  test('every part header slice ends with its blank line and starts after a delimiter', async () => {
    const a = await analyze(MESSAGE);
    for (const part of allParts(a.bodystructure)) {
      const { headerStart, bodyStart } = part.offsets;
      const header = MESSAGE.subarray(headerStart, bodyStart).toString();
      assert.match(header, /(^|\r\n)\r\n$/, `header of ${part.section}`);
      if (headerStart > 0 && MESSAGE[headerStart - 1] === 0x0a) {
        const before = MESSAGE.subarray(0, headerStart).toString();
        assert.match(before, /(--=_outer|--alt)\r\n$|\r\n\r\n$/);
      }
    }
  });

  test('findPart follows IMAP numbering into message/rfc822', async () => {
    const a = await analyze(MESSAGE);
    assert.equal(findPart(a.bodystructure, [2])?.kind, 'message');
    assert.equal(findPart(a.bodystructure, [2, 2])?.section, '2.2');
    assert.equal(findPart(a.bodystructure, [3, 1])?.section, '3.1');
    assert.equal(findPart(a.bodystructure, [1, 1])?.section, '1');
    assert.equal(findPart(a.bodystructure, [1, 2]), null);
    assert.equal(parseSectionPath('1.0'), null);
    assert.equal(parseSectionPath('x'), null);
  });

  test('a single-part message: BODY[1] is the body, BODY[TEXT] too', async () => {
    const raw = crlf(['Subject: s', '', 'only', '']);
    const a = await analyze(raw);
    const one = sectionRange(a.bodystructure, [1])!;
    const text = sectionRange(a.bodystructure, [], 'TEXT')!;
    assert.equal(raw.subarray(one.start, one.end).toString(), 'only\r\n');
    assert.deepEqual(one, text);
  });
});
