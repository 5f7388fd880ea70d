import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  astr,
  encodeValues,
  esearchResponse,
  formatResponseCode,
  listResponse,
  mailboxValue,
  metadataEntriesResponse,
  metadataResponse,
  str,
} from '../src/index.js';
import type { GetMetadataRequest, NotifyRequest, SetMetadataRequest } from '../src/index.js';
import { anyText } from './arbitraries.js';
import { parse, rejects } from './helpers.js';

const wire = (value: Parameters<typeof encodeValues>[0][number]): string =>
  encodeValues([value]).toString('latin1');

describe('GETMETADATA and SETMETADATA (RFC 5464)', () => {
  test('the RFC examples', () => {
    assert.deepEqual(parse('a GETMETADATA "" /private/comment'), {
      command: 'GETMETADATA',
      mailbox: '',
      maxSize: null,
      depth: '0',
      entries: ['/private/comment'],
    } satisfies GetMetadataRequest);
    assert.deepEqual(parse('a GETMETADATA INBOX (/shared/comment /private/comment)'), {
      command: 'GETMETADATA',
      mailbox: 'INBOX',
      maxSize: null,
      depth: '0',
      entries: ['/shared/comment', '/private/comment'],
    });
    assert.deepEqual(parse('a GETMETADATA (MAXSIZE 1024) INBOX /shared/comment'), {
      command: 'GETMETADATA',
      mailbox: 'INBOX',
      maxSize: 1024,
      depth: '0',
      entries: ['/shared/comment'],
    });
    assert.deepEqual(parse('a GETMETADATA (DEPTH 1) INBOX "/private/filters/values"'), {
      command: 'GETMETADATA',
      mailbox: 'INBOX',
      maxSize: null,
      depth: '1',
      entries: ['/private/filters/values'],
    });
    assert.deepEqual(parse('a GETMETADATA (DEPTH infinity MAXSIZE 5) INBOX /PRIVATE'), {
      command: 'GETMETADATA',
      mailbox: 'INBOX',
      maxSize: 5,
      depth: 'infinity',
      entries: ['/private'],
    });
    assert.deepEqual(
      parse('a SETMETADATA INBOX (/private/comment {33}\r\nMy new comment across\r\ntwo lines.)'),
      {
        command: 'SETMETADATA',
        mailbox: 'INBOX',
        values: [{ entry: '/private/comment', value: Buffer.from('My new comment across\r\ntwo lines.') }],
      } satisfies SetMetadataRequest,
    );
    assert.deepEqual(parse('a SETMETADATA INBOX (/private/comment NIL /shared/x "y")'), {
      command: 'SETMETADATA',
      mailbox: 'INBOX',
      values: [
        { entry: '/private/comment', value: null },
        { entry: '/shared/x', value: Buffer.from('y') },
      ],
    });
    assert.deepEqual(parse('a SETMETADATA "" (/shared/b ~{2}\r\n\0\0)'), {
      command: 'SETMETADATA',
      mailbox: '',
      values: [{ entry: '/shared/b', value: Buffer.from([0, 0]) }],
    });
  });

  test('entry names and options that are refused', () => {
    rejects('a SETMETADATA INBOX (/private "v")', /names no entry below/);
    rejects('a SETMETADATA INBOX (/vendor/x "v")', /must start with \/private or \/shared/);
    rejects('a SETMETADATA INBOX (/privateer/x "v")', /must start with \/private or \/shared/);
    rejects('a SETMETADATA INBOX ("/private/a*" "v")', /holds "\*"/);
    rejects('a SETMETADATA INBOX (/private//a "v")', /empty part/);
    rejects('a SETMETADATA INBOX (/private/a/ "v")', /empty part/);
    rejects(`a SETMETADATA INBOX (/private/${'a'.repeat(1100)} "v")`, /longer than 1024/);
    rejects('a SETMETADATA INBOX (/private/a)', /Expected a space after the entry name/);
    rejects('a SETMETADATA INBOX ()', /metadata entry name/);
    rejects('a GETMETADATA (DEPTH 2) INBOX /private', /DEPTH is 0, 1 or infinity/);
    rejects('a GETMETADATA (COLOUR 2) INBOX /private', /Unknown GETMETADATA option/);
    rejects('a GETMETADATA INBOX', /Expected a space after the mailbox name/);
  });

  test('any entry and value written by the serializer parses back', () => {
    const part = fc.stringMatching(/^[a-z0-9._-]{1,8}$/);
    const entry = fc
      .tuple(fc.constantFrom('/private', '/shared'), fc.array(part, { minLength: 1, maxLength: 4 }))
      .map(([root, parts]) => [root, ...parts].join('/'));
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, fc.option(anyText)), { minLength: 1, maxLength: 5 }), (pairs) => {
        const body = pairs.map(([e, v]) => `${wire(astr(e))} ${v === null ? 'NIL' : wire(str(v))}`).join(' ');
        const request = parse(Buffer.from(`a SETMETADATA ${wire(mailboxValue('Box'))} (${body})`, 'latin1'));
        assert.deepEqual(
          request.command === 'SETMETADATA' && request.values,
          pairs.map(([e, v]) => ({ entry: e, value: v === null ? null : Buffer.from(v, 'utf8') })),
        );
      }),
    );
  });

  test('responses and response codes', () => {
    assert.equal(
      metadataResponse('', [
        { entry: '/private/comment', value: Buffer.from('My own comment') },
        { entry: '/shared/comment', value: null },
      ]).toString(),
      '* METADATA "" (/private/comment "My own comment" /shared/comment NIL)\r\n',
    );
    assert.equal(
      metadataResponse('INBOX', [{ entry: '/private/b', value: Buffer.from('a\0b') }]).toString('latin1'),
      '* METADATA INBOX (/private/b ~{3}\r\na\0b)\r\n',
    );
    assert.equal(
      metadataEntriesResponse('INBOX', ['/shared/comment', '/private/x']).toString(),
      '* METADATA INBOX /shared/comment /private/x\r\n',
    );
    assert.equal(
      formatResponseCode({ code: 'METADATA', kind: 'LONGENTRIES', value: 2199 }),
      '[METADATA LONGENTRIES 2199] ',
    );
    assert.equal(
      formatResponseCode({ code: 'METADATA', kind: 'MAXSIZE', value: 1024 }),
      '[METADATA MAXSIZE 1024] ',
    );
    assert.equal(formatResponseCode({ code: 'METADATA', kind: 'TOOMANY' }), '[METADATA TOOMANY] ');
    assert.equal(formatResponseCode({ code: 'METADATA', kind: 'NOPRIVATE' }), '[METADATA NOPRIVATE] ');
  });
});

describe('NOTIFY (RFC 5465)', () => {
  test('the RFC examples', () => {
    assert.deepEqual(parse('a NOTIFY NONE'), { command: 'NOTIFY', set: null } satisfies NotifyRequest);
    assert.deepEqual(
      parse(
        'a notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge FlagChange)) (mailboxes (INBOX Drafts) NONE)',
      ),
      {
        command: 'NOTIFY',
        set: {
          status: true,
          groups: [
            {
              filter: { kind: 'SELECTED' },
              events: [
                {
                  name: 'MessageNew',
                  fetch: [
                    { kind: 'UID' },
                    {
                      kind: 'BODY[]',
                      section: { part: [], text: 'HEADER.FIELDS', fields: ['from', 'to', 'subject'] },
                      partial: null,
                      peek: true,
                    },
                  ],
                },
                { name: 'MessageExpunge' },
              ],
            },
            {
              filter: { kind: 'SUBTREE', mailboxes: ['Lists'] },
              events: [{ name: 'MessageNew', fetch: [] }, { name: 'MessageExpunge' }, { name: 'FlagChange' }],
            },
            { filter: { kind: 'MAILBOXES', mailboxes: ['INBOX', 'Drafts'] }, events: [] },
          ],
        },
      },
    );
    assert.deepEqual(
      parse('a NOTIFY SET (personal (MailboxName SubscriptionChange AnnotationChange Frob))'),
      {
        command: 'NOTIFY',
        set: {
          status: false,
          groups: [
            {
              filter: { kind: 'PERSONAL' },
              events: [
                { name: 'MailboxName' },
                { name: 'SubscriptionChange' },
                { name: 'AnnotationChange' },
                { name: 'unknown', atom: 'FROB' },
              ],
            },
          ],
        },
      },
    );
  });

  test('malformed NOTIFY commands are BAD', () => {
    rejects('a NOTIFY', /Expected a space after NOTIFY/);
    rejects('a NOTIFY SET', /Expected a space after SET/);
    rejects('a NOTIFY SET (personal)', /Expected a space after the mailbox filter/);
    rejects('a NOTIFY SET (nowhere NONE)', /Unknown mailbox filter/);
    rejects('a NOTIFY SET (personal (MessageNew)', /closing the event group/);
    rejects('a NOTIFY NONE extra', /at the end of NOTIFY NONE/);
  });

  test('LIST with OLDNAME and the NOTIFY response codes', () => {
    assert.equal(
      listResponse({ name: 'New', delimiter: '/', attributes: [], oldName: 'Old box' }).toString(),
      '* LIST () "/" New ("OLDNAME" ("Old box"))\r\n',
    );
    assert.equal(
      formatResponseCode({ code: 'BADEVENT', events: ['MessageNew', 'MessageExpunge'] }),
      '[BADEVENT (MessageNew MessageExpunge)] ',
    );
    assert.equal(formatResponseCode({ code: 'NOTIFICATIONOVERFLOW' }), '[NOTIFICATIONOVERFLOW] ');
  });
});

describe('CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267)', () => {
  test('RETURN (UPDATE) and (CONTEXT), CANCELUPDATE', () => {
    const search = parse('B01 UID SEARCH RETURN (UPDATE CONTEXT ALL) FLAGGED');
    assert.deepEqual(search.command === 'SEARCH' && search.returnOptions, ['UPDATE', 'CONTEXT', 'ALL']);
    const sort = parse('A01 UID SORT RETURN (UPDATE) (DATE) UTF-8 UNDELETED UNKEYWORD $Junk');
    assert.deepEqual(sort.command === 'SORT' && sort.returnOptions, ['UPDATE']);
    assert.deepEqual(parse('a CANCELUPDATE "A01" "B01"'), { command: 'CANCELUPDATE', tags: ['A01', 'B01'] });
    rejects('a CANCELUPDATE', /Expected a space after CANCELUPDATE/);
    rejects('a CANCELUPDATE A01', /Expected a quoted tag/);
    // PARTIAL (RFC 5267 4.4), the RFC's example; a range written high:low means the same.
    assert.deepEqual(parse('A01 UID SORT RETURN (PARTIAL 23500:24000) (REVERSE DATE) UTF-8 UNDELETED'), {
      command: 'SORT',
      uid: true,
      returnOptions: ['PARTIAL'],
      sort: [{ key: 'DATE', reverse: true }],
      charset: 'UTF-8',
      criteria: [{ key: 'UNDELETED' }],
      partial: { low: 23500, high: 24000 },
    });
    const partial = parse('a SEARCH RETURN (COUNT PARTIAL 10:1) ALL');
    assert.deepEqual(partial.command === 'SEARCH' && partial.partial, { low: 1, high: 10 });
    rejects('a SEARCH RETURN (PARTIAL 0:10) ALL', /Expected the first position of PARTIAL/);
    rejects('a SEARCH RETURN (PARTIAL 5) ALL', /Expected ":" in the PARTIAL range/);
    rejects('a THREAD REFERENCES UTF-8 RETURN (PARTIAL 1:2)', /./);
  });

  test('ADDTO / REMOVEFROM updates and NOUPDATE', () => {
    assert.equal(
      esearchResponse({
        tag: 'A01',
        uid: true,
        sorted: true,
        removeFrom: [{ position: 3, numbers: [7] }],
        addTo: [
          { position: 1, numbers: [2733] },
          { position: 2, numbers: [2731, 2732] },
        ],
      }).toString(),
      '* ESEARCH (TAG "A01") UID REMOVEFROM (3 7) ADDTO (1 2733 2 2731:2732)\r\n',
    );
    assert.equal(
      esearchResponse({
        tag: 'B01',
        uid: true,
        addTo: [{ position: 0, numbers: [32769, 32768] }],
      }).toString(),
      '* ESEARCH (TAG "B01") UID ADDTO (0 32768:32769)\r\n',
    );
    assert.equal(formatResponseCode({ code: 'NOUPDATE', tag: 'B02' }), '[NOUPDATE "B02"] ');
    assert.equal(
      esearchResponse({
        tag: 'A01',
        uid: true,
        sorted: true,
        partial: { low: 23500, high: 24000, numbers: [67, 23, 22, 21] },
      }).toString(),
      '* ESEARCH (TAG "A01") UID PARTIAL (23500:24000 67,23,22,21)\r\n',
    );
    assert.equal(
      esearchResponse({ tag: 'A02', uid: false, partial: { low: 5, high: 9, numbers: [] } }).toString(),
      '* ESEARCH (TAG "A02") PARTIAL (5:9 NIL)\r\n',
    );
  });
});
