import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Readable } from 'node:stream';
import type { BodyStructure, Envelope } from '@correo/mime';
import { analyzeMessage } from '@correo/mime';
import {
  encodeValues,
  envelopeValue,
  bodyStructureValue,
  fetchResponse,
  formatDateTime,
} from '../src/index.js';

const text = (b: Buffer): string => b.toString('latin1');

const envelope: Envelope = {
  date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
  subject: 'IMAP4rev2 WG mtg summary and minutes',
  from: [['Terry Gray', null, 'gray', 'cac.washington.edu']],
  sender: [['Terry Gray', null, 'gray', 'cac.washington.edu']],
  replyTo: [['Terry Gray', null, 'gray', 'cac.washington.edu']],
  to: [[null, null, 'imap', 'cac.washington.edu']],
  cc: [
    [null, null, 'minutes', 'CNRI.Reston.VA.US'],
    ['John Klensin', null, 'KLENSIN', 'MIT.EDU'],
  ],
  bcc: null,
  inReplyTo: null,
  messageId: '<B27397-0100000@cac.washington.edu>',
};

const offsets = { headerStart: 0, bodyStart: 0, bodyEnd: 0 };
const textPart: BodyStructure = {
  kind: 'text',
  type: 'TEXT',
  subtype: 'PLAIN',
  params: { CHARSET: 'US-ASCII' },
  id: null,
  description: null,
  encoding: '7BIT',
  size: 3028,
  lines: 92,
  md5: null,
  section: '1',
  offsets,
  disposition: null,
  language: null,
  location: null,
};

describe('FETCH responses', () => {
  test('ENVELOPE as in RFC 9051 6.4.5 (its example, field for field)', () => {
    assert.equal(
      text(fetchResponse(12, [{ item: 'ENVELOPE', envelope }])),
      '* 12 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
        '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
        '"<B27397-0100000@cac.washington.edu>"))\r\n',
    );
  });

  test('ENVELOPE groups, empty lists, 8-bit and CR/LF values', () => {
    const value = envelopeValue({
      ...envelope,
      subject: 'caf\u00e9',
      to: [
        [null, null, 'undisclosed-recipients', null],
        [null, null, null, null],
      ],
      cc: [],
      inReplyTo: 'a\r\nb',
    });
    assert.equal(
      encodeValues([value]).toString('utf8'),
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" {5}\r\ncaf\u00e9 (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL {4}\r\na\r\nb ' +
        '"<B27397-0100000@cac.washington.edu>")',
    );
  });

  test('BODY and BODYSTRUCTURE of a single text part', () => {
    assert.equal(
      text(fetchResponse(12, [{ item: 'BODY', structure: textPart }])),
      '* 12 FETCH (BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))\r\n',
    );
    assert.equal(
      text(fetchResponse(12, [{ item: 'BODYSTRUCTURE', structure: textPart }])),
      '* 12 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL))\r\n',
    );
  });

  test('multipart with an attachment and a message/rfc822 part', () => {
    const attachment: BodyStructure = {
      kind: 'basic',
      type: 'application',
      subtype: 'pdf',
      params: { name: 'a b.pdf' },
      id: '<id1>',
      description: 'the report',
      encoding: 'BASE64',
      size: 100,
      md5: null,
      section: '2',
      offsets,
      disposition: { type: 'attachment', params: { filename: 'a b.pdf' } },
      language: ['en'],
      location: null,
    };
    const inner: BodyStructure = { ...textPart, section: '3.1', params: {} };
    const forwarded: BodyStructure = {
      kind: 'message',
      type: 'message',
      subtype: 'rfc822',
      params: {},
      id: null,
      description: null,
      encoding: '7BIT',
      size: 500,
      lines: 20,
      md5: null,
      envelope: { ...envelope, cc: null, from: null, sender: null, replyTo: null, to: null },
      body: inner,
      section: '3',
      offsets,
      disposition: null,
      language: null,
      location: null,
    };
    const root: BodyStructure = {
      kind: 'multipart',
      type: 'multipart',
      subtype: 'mixed',
      params: { boundary: 'xyz' },
      parts: [textPart, attachment, forwarded],
      section: '',
      offsets,
      disposition: null,
      language: null,
      location: null,
    };
    const env =
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" NIL NIL NIL NIL NIL NIL NIL "<B27397-0100000@cac.washington.edu>")';
    assert.equal(
      text(encodeValues([bodyStructureValue(root, false)])),
      '(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)' +
        '("application" "pdf" ("name" "a b.pdf") "<id1>" "the report" "BASE64" 100)' +
        `("message" "rfc822" NIL NIL NIL "7BIT" 500 ${env} ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3028 92) 20) "mixed")`,
    );
    assert.equal(
      text(encodeValues([bodyStructureValue(root, true)])),
      '(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL)' +
        '("application" "pdf" ("name" "a b.pdf") "<id1>" "the report" "BASE64" 100 NIL ("attachment" ("filename" "a b.pdf")) ("en") NIL)' +
        `("message" "rfc822" NIL NIL NIL "7BIT" 500 ${env} ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL) 20 NIL NIL NIL NIL)` +
        ' "mixed" ("boundary" "xyz") NIL NIL NIL)',
    );
  });

  test('flags, dates, sizes, modseq, sections, partial origin, binary', () => {
    const date = new Date('1996-07-17T09:44:25Z');
    assert.equal(formatDateTime(date, -420), '17-Jul-1996 02:44:25 -0700');
    assert.equal(formatDateTime(new Date('2024-03-05T01:02:03Z')), ' 5-Mar-2024 01:02:03 +0000');
    const body = Buffer.from('Subject: hi\r\n\r\n');
    assert.equal(
      text(
        fetchResponse(7, [
          { item: 'UID', uid: 42 },
          { item: 'FLAGS', flags: ['\\Seen', '$Forwarded'] },
          { item: 'INTERNALDATE', date, offsetMinutes: -420 },
          { item: 'RFC822.SIZE', size: 4286 },
          { item: 'MODSEQ', modseq: 12121231000n },
          {
            item: 'BODY[]',
            section: { part: [1, 2], text: 'HEADER.FIELDS', fields: ['Subject', 'X Y'] },
            origin: 0,
            data: body,
          },
          { item: 'BODY[]', section: { part: [], text: null, fields: [] }, origin: null, data: null },
          { item: 'BINARY[]', part: [2], origin: null, data: Buffer.from([1, 0, 2]) },
          { item: 'BINARY[]', part: [3], origin: 5, data: Buffer.from('plain\r\n') },
          { item: 'BINARY.SIZE', part: [2], size: 3 },
          { item: 'RFC822.HEADER', data: body },
        ]),
      ),
      '* 7 FETCH (UID 42 FLAGS (\\Seen $Forwarded) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ' +
        'MODSEQ (12121231000) BODY[1.2.HEADER.FIELDS (Subject "X Y")]<0> {15}\r\nSubject: hi\r\n\r\n BODY[] NIL ' +
        'BINARY[2] ~{3}\r\n\x01\x00\x02 BINARY[3]<5> {7}\r\nplain\r\n BINARY.SIZE[2] 3 RFC822.HEADER {15}\r\nSubject: hi\r\n\r\n)\r\n',
    );
  });

  test('short one-line body data is still a literal, never a quoted string', () => {
    // imapflow reads body data only from literals; Dovecot always sends them.
    assert.equal(
      text(
        fetchResponse(1, [
          {
            item: 'BODY[]',
            section: { part: [2], text: null, fields: [] },
            origin: null,
            data: Buffer.from('aGk='),
          },
          { item: 'RFC822.TEXT', data: Buffer.from('hi') },
        ]),
      ),
      '* 1 FETCH (BODY[2] {4}\r\naGk= RFC822.TEXT {2}\r\nhi)\r\n',
    );
  });

  test('BODYSTRUCTURE straight from @correo/mime analysis', async () => {
    const raw =
      'From: "Ana" <ana@example.test>\r\nTo: bo@example.test\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b1"\r\n\r\n' +
      '--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n' +
      '--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hello</p>\r\n--b1--\r\n';
    const analysis = await analyzeMessage(Readable.from([Buffer.from(raw)]));
    const line = text(
      fetchResponse(1, [
        { item: 'ENVELOPE', envelope: analysis.envelope },
        { item: 'BODYSTRUCTURE', structure: analysis.bodystructure },
      ]),
    );
    assert.match(
      line,
      /^\* 1 FETCH \(ENVELOPE \(NIL "=\?UTF-8\?Q\?caf=C3=A9\?=" \(\("Ana" NIL "ana" "example\.test"\)\)/,
    );
    assert.match(
      line,
      /BODYSTRUCTURE \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7BIT" 5 \d+ NIL NIL NIL NIL\)\("text" "html"/,
    );
    assert.match(line, /"alternative" \("boundary" "b1"\) NIL NIL NIL\)\)\r\n$/);
  });
});
