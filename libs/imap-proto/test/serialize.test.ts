import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  capabilityResponse,
  compressInOrder,
  compressSequenceSet,
  continuation,
  enabledResponse,
  errorResponse,
  FrameError,
  ParseError,
  encodeValues,
  esearchResponse,
  existsResponse,
  expungeResponse,
  flagsResponse,
  idResponse,
  listResponse,
  lsubResponse,
  mailboxValue,
  namespaceResponse,
  quotaResponse,
  quotaRootResponse,
  recentResponse,
  saslChallenge,
  searchResponse,
  astr,
  nstr,
  statusResponse,
  str,
  taggedResponse,
  untaggedStatus,
  vanishedResponse,
} from '../src/index.js';

const text = (b: Buffer): string => b.toString('latin1');

describe('status responses and response codes', () => {
  test('tagged OK/NO/BAD with every kind of response code', () => {
    assert.equal(text(taggedResponse('a1', 'OK', 'LOGIN completed')), 'a1 OK LOGIN completed\r\n');
    const cases: Array<[Parameters<typeof taggedResponse>[3], string]> = [
      [{ code: 'TRYCREATE' }, '[TRYCREATE]'],
      [{ code: 'NONEXISTENT' }, '[NONEXISTENT]'],
      [{ code: 'ALREADYEXISTS' }, '[ALREADYEXISTS]'],
      [{ code: 'OVERQUOTA' }, '[OVERQUOTA]'],
      [{ code: 'AUTHENTICATIONFAILED' }, '[AUTHENTICATIONFAILED]'],
      [{ code: 'LIMIT' }, '[LIMIT]'],
      [{ code: 'TOOBIG' }, '[TOOBIG]'],
      [{ code: 'CANNOT' }, '[CANNOT]'],
      [{ code: 'READ-WRITE' }, '[READ-WRITE]'],
      [{ code: 'READ-ONLY' }, '[READ-ONLY]'],
      [{ code: 'CLOSED' }, '[CLOSED]'],
      [{ code: 'UIDVALIDITY', value: 3857529045 }, '[UIDVALIDITY 3857529045]'],
      [{ code: 'UIDNEXT', value: 4392 }, '[UIDNEXT 4392]'],
      [{ code: 'HIGHESTMODSEQ', value: 90060115194045001n }, '[HIGHESTMODSEQ 90060115194045001]'],
      [
        { code: 'PERMANENTFLAGS', flags: ['\\Deleted', '\\Seen', '\\*'] },
        '[PERMANENTFLAGS (\\Deleted \\Seen \\*)]',
      ],
      [{ code: 'PERMANENTFLAGS', flags: [] }, '[PERMANENTFLAGS ()]'],
      [{ code: 'APPENDUID', uidValidity: 38505, uids: [3955] }, '[APPENDUID 38505 3955]'],
      [
        {
          code: 'COPYUID',
          uidValidity: 38505,
          sourceUids: [304, 319, 320],
          destinationUids: [3956, 3957, 3958],
        },
        '[COPYUID 38505 304,319:320 3956:3958]',
      ],
      [{ code: 'MODIFIED', numbers: [7, 9, 8] }, '[MODIFIED 7:9]'],
      [{ code: 'CAPABILITY', capabilities: ['IMAP4rev2', 'IDLE'] }, '[CAPABILITY IMAP4rev2 IDLE]'],
      [{ code: 'BADCHARSET', charsets: ['US-ASCII', 'UTF-8'] }, '[BADCHARSET (US-ASCII UTF-8)]'],
    ];
    for (const [code, expected] of cases) {
      assert.equal(text(taggedResponse('t', 'NO', 'text', code)), `t NO ${expected} text\r\n`);
    }
  });

  test('untagged status, BYE, PREAUTH; CR/LF in text cannot break the line', () => {
    assert.equal(
      text(untaggedStatus('OK', 'UIDs valid', { code: 'UIDVALIDITY', value: 1 })),
      '* OK [UIDVALIDITY 1] UIDs valid\r\n',
    );
    assert.equal(
      text(untaggedStatus('BYE', 'Autologout; idle too long')),
      '* BYE Autologout; idle too long\r\n',
    );
    assert.equal(text(taggedResponse('a', 'BAD', 'one\r\ntwo')), 'a BAD one two\r\n');
    assert.equal(text(taggedResponse('a', 'OK', '')), 'a OK OK\r\n');
  });

  test('errorResponse turns parse and framing errors into BAD or NO [BADCHARSET]', () => {
    assert.equal(
      text(errorResponse(new ParseError('Unknown command FOO', 'a1'))),
      'a1 BAD Unknown command FOO\r\n',
    );
    assert.equal(text(errorResponse(new ParseError('Expected a tag'))), '* BAD Expected a tag\r\n');
    assert.equal(
      text(errorResponse(new FrameError('literal-too-big', 'Literal is larger than 10 octets', 'a2'))),
      'a2 BAD [TOOBIG] Literal is larger than 10 octets\r\n',
    );
    assert.equal(
      text(errorResponse(new ParseError('Charset KOI8-R is not supported', 'a3', 'BADCHARSET'))),
      'a3 NO [BADCHARSET (US-ASCII UTF-8)] Charset KOI8-R is not supported\r\n',
    );
  });

  test('continuations', () => {
    assert.equal(text(continuation()), '+ Ready\r\n');
    assert.equal(text(continuation('idling')), '+ idling\r\n');
    assert.equal(text(saslChallenge(Buffer.alloc(0))), '+ \r\n');
    assert.equal(
      text(saslChallenge(Buffer.from('<1896.697170952@postoffice>'))),
      '+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n',
    );
  });
});

describe('strings: atom, quoted or literal', () => {
  test('quoted for safe text, escaping " and \\', () => {
    assert.equal(text(encodeValues([str('hello world')])), '"hello world"');
    assert.equal(text(encodeValues([str('say "hi" \\o/')])), '"say \\"hi\\" \\\\o/"');
    assert.equal(text(encodeValues([str('')])), '""');
    assert.equal(text(encodeValues([nstr(null)])), 'NIL');
  });

  test('literal for CR/LF, 8-bit (without UTF8=ACCEPT) and long text', () => {
    assert.equal(text(encodeValues([str('a\r\nb')])), '{4}\r\na\r\nb');
    assert.equal(encodeValues([str('caf\u00e9')]).toString('utf8'), '{5}\r\ncaf\u00e9');
    assert.equal(encodeValues([str('caf\u00e9')], { utf8: true }).toString('utf8'), '"caf\u00e9"');
    const long = 'x'.repeat(2000);
    assert.equal(text(encodeValues([str(long)])), `{2000}\r\n${long}`);
  });

  test('astring: atom when it can be, never a bare NIL', () => {
    assert.equal(
      text(encodeValues([astr('Drafts'), astr('a b'), astr('NIL'), astr(''), astr('x]')])),
      'Drafts "a b" "NIL" "" "x]"',
    );
  });

  test('mailbox names: modified UTF-7 unless UTF8=ACCEPT, INBOX as an atom', () => {
    assert.equal(text(encodeValues([mailboxValue('inbox')])), 'INBOX');
    assert.equal(
      text(encodeValues([mailboxValue('~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e')])),
      '~peter/mail/&U,BTFw-/&ZeVnLIqe-',
    );
    assert.equal(text(encodeValues([mailboxValue('Tom & Jerry')])), '"Tom &- Jerry"');
    assert.equal(
      encodeValues([mailboxValue('Caf\u00e9 & Co', { utf8: true })], { utf8: true }).toString('utf8'),
      '"Caf\u00e9 & Co"',
    );
  });
});

describe('sequence-set compression', () => {
  test('sorted runs for sets, order kept for COPYUID', () => {
    assert.equal(compressSequenceSet([9, 1, 2, 3, 4, 5, 7, 10, 11, 12, 3]), '1:5,7,9:12');
    assert.equal(compressSequenceSet([]), '');
    assert.equal(compressSequenceSet([42]), '42');
    assert.equal(compressInOrder([5, 6, 1, 2, 9]), '5:6,1:2,9');
  });
});

describe('untagged data', () => {
  test('CAPABILITY and ENABLED', () => {
    assert.equal(
      text(capabilityResponse(['IMAP4rev2', 'IMAP4rev1', 'AUTH=PLAIN', 'LITERAL+'])),
      '* CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN LITERAL+\r\n',
    );
    assert.equal(text(enabledResponse(['CONDSTORE'])), '* ENABLED CONDSTORE\r\n');
  });

  test('LIST with attributes, NIL delimiter, CHILDINFO; LSUB', () => {
    assert.equal(
      text(listResponse({ name: 'INBOX', delimiter: '/', attributes: ['\\HasNoChildren'] })),
      '* LIST (\\HasNoChildren) "/" INBOX\r\n',
    );
    assert.equal(
      text(listResponse({ name: 'Foo', delimiter: '/', attributes: [], childInfo: ['SUBSCRIBED'] })),
      '* LIST () "/" Foo ("CHILDINFO" ("SUBSCRIBED"))\r\n',
    );
    assert.equal(
      text(listResponse({ name: 'Sent Items', delimiter: null, attributes: ['\\Sent', '\\Subscribed'] })),
      '* LIST (\\Sent \\Subscribed) NIL "Sent Items"\r\n',
    );
    assert.equal(
      text(lsubResponse({ name: '#news.comp.mail.misc', delimiter: '.', attributes: [] })),
      '* LSUB () "." #news.comp.mail.misc\r\n',
    );
  });

  test('STATUS, FLAGS, EXISTS, RECENT, EXPUNGE, VANISHED', () => {
    assert.equal(
      text(statusResponse('blurdybloop', { MESSAGES: 231, UIDNEXT: 44292, HIGHESTMODSEQ: 7011231777n })),
      '* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)\r\n',
    );
    assert.equal(
      text(flagsResponse(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '$Forwarded'])),
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n',
    );
    assert.equal(text(existsResponse(172)), '* 172 EXISTS\r\n');
    assert.equal(text(recentResponse(1)), '* 1 RECENT\r\n');
    assert.equal(text(expungeResponse(3)), '* 3 EXPUNGE\r\n');
    assert.equal(text(vanishedResponse([41, 43, 44, 45, 46], true)), '* VANISHED (EARLIER) 41,43:46\r\n');
    assert.equal(text(vanishedResponse([405], false)), '* VANISHED 405\r\n');
  });

  test('SEARCH and ESEARCH', () => {
    assert.equal(text(searchResponse([2, 84, 882])), '* SEARCH 2 84 882\r\n');
    assert.equal(text(searchResponse([])), '* SEARCH\r\n');
    assert.equal(text(searchResponse([2, 5, 6], 917162500n)), '* SEARCH 2 5 6 (MODSEQ 917162500)\r\n');
    assert.equal(
      text(esearchResponse({ tag: 'A282', uid: false, min: 2, count: 3 })),
      '* ESEARCH (TAG "A282") MIN 2 COUNT 3\r\n',
    );
    assert.equal(
      text(
        esearchResponse({ tag: 'A283', uid: true, all: [2, 10, 11, 12, 13, 14, 15, 44], max: 44, modseq: 5 }),
      ),
      '* ESEARCH (TAG "A283") UID MAX 44 ALL 2,10:15,44 MODSEQ 5\r\n',
    );
    assert.equal(
      text(esearchResponse({ tag: 'A284', uid: false, all: [], count: 0 })),
      '* ESEARCH (TAG "A284") COUNT 0\r\n',
    );
  });

  test('QUOTA, QUOTAROOT, ID, NAMESPACE', () => {
    assert.equal(
      text(
        quotaResponse('', [
          { name: 'STORAGE', usage: 10, limit: 512 },
          { name: 'MESSAGE', usage: 3, limit: 1000 },
        ]),
      ),
      '* QUOTA "" (STORAGE 10 512 MESSAGE 3 1000)\r\n',
    );
    assert.equal(text(quotaRootResponse('INBOX', [''])), '* QUOTAROOT INBOX ""\r\n');
    assert.equal(
      text(
        idResponse([
          ['name', 'correo'],
          ['support-url', null],
        ]),
      ),
      '* ID ("name" "correo" "support-url" NIL)\r\n',
    );
    assert.equal(text(idResponse(null)), '* ID NIL\r\n');
    assert.equal(
      text(
        namespaceResponse([{ prefix: '', delimiter: '/' }], null, [{ prefix: 'Shared/', delimiter: '/' }]),
      ),
      '* NAMESPACE (("" "/")) NIL (("Shared/" "/"))\r\n',
    );
  });
});
