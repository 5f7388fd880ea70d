import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { fetchResponse, formatResponseCode, statusResponse } from '../src/index.js';
import { parse, rejects, set } from './helpers.js';

const text = (b: Buffer): string => b.toString('latin1');

/**
 * The syntax of COMPRESS (RFC 4978), OBJECTID (RFC 8474), PREVIEW (RFC 8970), SAVEDATE (RFC 8514):
 * the RFCs' own example commands and responses.
 */
describe('COMPRESS, OBJECTID, PREVIEW and SAVEDATE syntax', () => {
  test('COMPRESS DEFLATE (RFC 4978 3)', () => {
    assert.deepEqual(parse('a COMPRESS DEFLATE'), { command: 'COMPRESS', mechanism: 'DEFLATE' });
    assert.deepEqual(parse('a compress deflate'), { command: 'COMPRESS', mechanism: 'DEFLATE' });
    rejects('a COMPRESS', /space after COMPRESS/);
    rejects('a COMPRESS DEFLATE X', /at the end of COMPRESS/);
  });

  test('FETCH EMAILID THREADID SAVEDATE PREVIEW, with and without LAZY', () => {
    const request = parse('a FETCH 1:* (EMAILID THREADID SAVEDATE PREVIEW PREVIEW (LAZY))');
    assert.ok(request.command === 'FETCH');
    assert.deepEqual(request.attributes, [
      { kind: 'EMAILID' },
      { kind: 'THREADID' },
      { kind: 'SAVEDATE' },
      { kind: 'PREVIEW', lazy: false },
      { kind: 'PREVIEW', lazy: true },
    ]);
    // A lone PREVIEW followed by fetch modifiers: the parenthesis is CHANGEDSINCE's, not PREVIEW's.
    const lone = parse('a UID FETCH 1:* PREVIEW (CHANGEDSINCE 5)');
    assert.ok(lone.command === 'FETCH');
    assert.deepEqual(lone.attributes, [{ kind: 'PREVIEW', lazy: false }]);
    assert.equal(lone.changedSince, 5n);
    rejects('a FETCH 1 (PREVIEW (LAZY FUZZY))', /Unknown preview modifier FUZZY/);
  });

  test('SEARCH EMAILID, THREADID, SAVEDBEFORE/ON/SINCE and SAVEDATESUPPORTED', () => {
    const request = parse(
      'a UID SEARCH EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9 SAVEDSINCE 1-Jan-2020 SAVEDATESUPPORTED',
    );
    assert.ok(request.command === 'SEARCH');
    assert.deepEqual(request.criteria, [
      { key: 'EMAILID', id: 'M6d99ac3275bb4e' },
      { key: 'THREADID', id: 'T64b478a75b7ea9' },
      { key: 'SAVEDSINCE', date: { year: 2020, month: 1, day: 1 } },
      { key: 'SAVEDATESUPPORTED' },
    ]);
    rejects('a SEARCH EMAILID "x y"', /object id/);
    rejects(`a SEARCH EMAILID ${'a'.repeat(256)}`, /object id/);
  });

  test('STATUS MAILBOXID and the MAILBOXID response code (RFC 8474 4)', () => {
    const request = parse('a STATUS foo (UIDNEXT MAILBOXID)');
    assert.ok(request.command === 'STATUS');
    assert.deepEqual(request.items, ['UIDNEXT', 'MAILBOXID']);
    assert.equal(
      text(statusResponse('foo', { UIDNEXT: 1, MAILBOXID: 'F2212ea87-6097-4256-9d51-71338625' })),
      '* STATUS foo (UIDNEXT 1 MAILBOXID (F2212ea87-6097-4256-9d51-71338625))\r\n',
    );
    assert.equal(
      formatResponseCode({ code: 'MAILBOXID', id: 'F2212ea87-6097-4256-9d51-71338625' }),
      '[MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] ',
    );
    assert.equal(formatResponseCode({ code: 'COMPRESSIONACTIVE' }), '[COMPRESSIONACTIVE] ');
  });

  test('FETCH responses: EMAILID (id), THREADID (id) or NIL, SAVEDATE, PREVIEW', () => {
    assert.equal(
      text(
        fetchResponse(3, [
          { item: 'EMAILID', id: 'M6d99ac3275bb4e' },
          { item: 'THREADID', id: 'T64b478a75b7ea9' },
        ]),
      ),
      '* 3 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9))\r\n',
    );
    assert.equal(text(fetchResponse(1, [{ item: 'THREADID', id: null }])), '* 1 FETCH (THREADID NIL)\r\n');
    assert.equal(
      text(fetchResponse(1, [{ item: 'SAVEDATE', date: new Date(Date.UTC(2020, 0, 2, 3, 4, 5)) }])),
      '* 1 FETCH (SAVEDATE " 2-Jan-2020 03:04:05 +0000")\r\n',
    );
    assert.equal(text(fetchResponse(1, [{ item: 'SAVEDATE', date: null }])), '* 1 FETCH (SAVEDATE NIL)\r\n');
    assert.equal(
      text(fetchResponse(1, [{ item: 'PREVIEW', text: 'Preview text!' }])),
      '* 1 FETCH (PREVIEW "Preview text!")\r\n',
    );
    assert.equal(text(fetchResponse(2, [{ item: 'PREVIEW', text: null }])), '* 2 FETCH (PREVIEW NIL)\r\n');
  });

  test('object ids of any allowed shape parse back as sent', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,255}$/), (id) => {
        const request = parse(`a SEARCH EMAILID ${id}`);
        assert.ok(request.command === 'SEARCH');
        assert.deepEqual(request.criteria, [{ key: 'EMAILID', id }]);
      }),
    );
  });

  test('UID FETCH with a set and PREVIEW keeps both', () => {
    const request = parse('a UID FETCH 1,3 (UID PREVIEW)');
    assert.ok(request.command === 'FETCH');
    assert.deepEqual(request.set, set(1, 3));
  });
});
