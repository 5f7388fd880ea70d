import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressListText } from '../src/index.js';
import { analyze, crlf } from './fixtures.js';

describe('ENVELOPE', () => {
  test('matches the RFC 3501 section 8 example', async () => {
    // The header of the message behind the ENVELOPE in RFC 3501's FETCH example.
    const raw = crlf([
      'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      'From: Terry Gray <gray@cac.washington.edu>',
      'Subject: IMAP4rev1 WG mtg summary and minutes',
      'To: imap@cac.washington.edu',
      'cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>',
      'Message-Id: <B27397-0100000@cac.washington.edu>',
      'MIME-Version: 1.0',
      'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
      '',
      'Hello',
      '',
    ]);
    const { envelope } = await analyze(raw);
    const gray: [string, null, string, string] = ['Terry Gray', null, 'gray', 'cac.washington.edu'];
    assert.deepEqual(envelope, {
      date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      subject: 'IMAP4rev1 WG mtg summary and minutes',
      from: [gray],
      sender: [gray],
      replyTo: [gray],
      to: [[null, null, 'imap', 'cac.washington.edu']],
      cc: [
        [null, null, 'minutes', 'CNRI.Reston.VA.US'],
        ['John Klensin', null, 'KLENSIN', 'MIT.EDU'],
      ],
      bcc: null,
      inReplyTo: null,
      messageId: '<B27397-0100000@cac.washington.edu>',
    });
  });

  test('keeps encoded words raw in ENVELOPE and decodes them in headers', async () => {
    const raw = crlf([
      'From: =?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <jorg@example.test>',
      'Subject: =?iso-8859-1?q?Gr=FC=DFe?= und =?utf-8?B?w7xiZXI=?=',
      '  folded',
      'Sender: robot@example.test',
      'Reply-To:',
      '',
      'x',
    ]);
    const a = await analyze(raw);
    assert.equal(a.envelope.subject, '=?iso-8859-1?q?Gr=FC=DFe?= und =?utf-8?B?w7xiZXI=?=  folded');
    assert.deepEqual(a.envelope.from, [['=?utf-8?Q?J=C3=B6rg_M=C3=BCller?=', null, 'jorg', 'example.test']]);
    assert.deepEqual(a.envelope.sender, [[null, null, 'robot', 'example.test']]);
    // An empty Reply-To falls back to From, as RFC 3501 7.4.2 says.
    assert.deepEqual(a.envelope.replyTo, a.envelope.from);
    assert.equal(a.headers.subject, 'Grüße und über  folded');
    assert.deepEqual(a.headers.from, [{ name: 'Jörg Müller', address: 'jorg@example.test' }]);
    assert.equal(addressListText(a.headers.from), 'Jörg Müller <jorg@example.test>');
  });

  test('represents groups the IMAP way', async () => {
    const raw = crlf([
      'From: a@example.test',
      'To: undisclosed-recipients:;',
      'Cc: Team: b@example.test, "Doe, J" <j@example.test>;, c@example.test',
      '',
      '',
    ]);
    const a = await analyze(raw);
    assert.deepEqual(a.envelope.to, [
      [null, null, 'undisclosed-recipients', null],
      [null, null, null, null],
    ]);
    assert.deepEqual(a.envelope.cc, [
      [null, null, 'Team', null],
      [null, null, 'b', 'example.test'],
      ['Doe, J', null, 'j', 'example.test'],
      [null, null, null, null],
      [null, null, 'c', 'example.test'],
    ]);
    assert.deepEqual(a.headers.cc, [
      {
        name: 'Team',
        group: [
          { name: '', address: 'b@example.test' },
          { name: 'Doe, J', address: 'j@example.test' },
        ],
      },
      { name: '', address: 'c@example.test' },
    ]);
  });

  test('group syntax, empty groups, missing parts, source routes and comments (RFC 3501 7.4.2)', async () => {
    const raw = crlf([
      'From: user@domain (Real Name)',
      'Sender: <@route:user@domain>',
      'To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;',
      'Cc: undisclosed-recipients:;',
      'Bcc: "Joe" <joe>, John Doe, list: a@b, <@r1.test,@r2.test:c@d>;',
      '',
      'body',
    ]);
    const a = await analyze(raw);
    assert.deepEqual(a.envelope.from, [['Real Name', null, 'user', 'domain']]);
    assert.deepEqual(a.envelope.sender, [[null, '@route', 'user', 'domain']]);
    assert.deepEqual(a.envelope.to, [
      [null, null, 'group', null],
      [null, null, 'g1', 'd1.org'],
      [null, null, 'g2', 'd2.org'],
      [null, null, null, null],
      [null, null, 'group2', null],
      [null, null, 'g3', 'd3.org'],
      [null, null, null, null],
    ]);
    assert.deepEqual(a.envelope.cc, [
      [null, null, 'undisclosed-recipients', null],
      [null, null, null, null],
    ]);
    assert.deepEqual(a.envelope.bcc, [
      ['Joe', null, 'joe', ''],
      ['John Doe', null, '', ''],
      [null, null, 'list', null],
      [null, null, 'a', 'b'],
      [null, '@r1.test,@r2.test', 'c', 'd'],
      [null, null, null, null],
    ]);
    const markers = [...a.envelope.to!, ...a.envelope.cc!, ...a.envelope.bcc!].filter((x) => x[3] === null);
    // Every NIL host is a group marker: a start holds the name, an end is NIL throughout.
    assert.ok(markers.every(([name, adl]) => name === null && adl === null));
    assert.ok(JSON.stringify(a.envelope).indexOf('MISSING') < 0);
  });

  test('UTF-8 headers (RFC 6532), missing domains and absent fields', async () => {
    const raw = crlf([
      'From: Zoë <zoë@exämple.test>',
      'To: postmaster',
      'Subject: Ça va? 日本語',
      'In-Reply-To: <a@x>',
      'References: <z@x> <a@x>',
      'Date: not a date',
      '',
      'body',
    ]);
    const a = await analyze(raw);
    assert.equal(a.envelope.subject, 'Ça va? 日本語');
    assert.deepEqual(a.envelope.from, [['Zoë', null, 'zoë', 'exämple.test']]);
    // A NIL host would read as a group marker and an invented name as a real domain: "" it is.
    assert.deepEqual(a.envelope.to, [[null, null, 'postmaster', '']]);
    assert.equal(a.envelope.inReplyTo, '<a@x>');
    assert.equal(a.envelope.messageId, null);
    assert.equal(a.envelope.cc, null);
    assert.deepEqual(a.headers.references, ['<z@x>', '<a@x>']);
    assert.equal(a.headers.date, null);
    assert.equal(a.rawHeaders.date, 'not a date');
  });

  test('a header with no fields at all gives an all-NIL envelope', async () => {
    const a = await analyze(crlf(['', 'just a body']));
    assert.deepEqual(Object.values(a.envelope), Array(10).fill(null));
    assert.equal(a.headerSize, 2);
  });

  test('8-bit junk in a header is kept byte for byte as latin1', async () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: caf'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('\r\n\r\nx'),
    ]);
    const a = await analyze(raw);
    assert.equal(a.envelope.subject, 'caf\u00e9\u00ff');
  });

  test('parses the Date field', async () => {
    const a = await analyze(crlf(['Date: Thu, 26 Nov 2026 05:48:25 +0100 (CET)', '', '']));
    assert.equal(a.headers.date?.toISOString(), '2026-11-26T04:48:25.000Z');
  });
});

describe('address fields parsed once per analysis', () => {
  test('the same From in message after message: each analysis has its own, equal lists', async () => {
    const raw = crlf([
      'From: =?utf-8?q?Mar=C3=ADa?= <maria@example.test>, equipo: ana@example.test, luis@example.test;',
      'To: <a@b.test>',
      'Subject: x',
      '',
      'hola',
    ]);
    const first = await analyze(raw);
    // What one caller does to its copy must not reach the next analysis.
    first.envelope.from![0]![0] = 'changed';
    first.headers.from.pop();
    const second = await analyze(raw);
    assert.deepEqual(second.envelope.from, [
      ['=?utf-8?q?Mar=C3=ADa?=', null, 'maria', 'example.test'],
      [null, null, 'equipo', null],
      [null, null, 'ana', 'example.test'],
      [null, null, 'luis', 'example.test'],
      [null, null, null, null],
    ]);
    assert.equal(
      addressListText(second.headers.from),
      'María <maria@example.test>, equipo: ana@example.test, luis@example.test;',
    );
  });
});
