import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BodyStructure, MessageBody, MultipartBody } from '../src/index.js';
import { allParts, analyze, assertOffsetsSane, crlf } from './fixtures.js';

function multipart(node: BodyStructure): MultipartBody {
  assert.equal(node.kind, 'multipart');
  return node as MultipartBody;
}

/** The JSON without offsets and sections, for comparing against hand-written IMAP structures. */
function shape(node: BodyStructure): unknown {
  if (node.kind === 'multipart') {
    return { subtype: node.subtype, params: node.params, parts: node.parts.map(shape) };
  }
  const base = [node.type, node.subtype, node.params, node.id, node.description, node.encoding, node.size];
  if (node.kind === 'text') return [...base, node.lines];
  if (node.kind === 'message') return [...base, node.lines, shape(node.body)];
  return base;
}

describe('BODYSTRUCTURE', () => {
  test('RFC 3501 section 8 example: two text parts of known sizes', async () => {
    // Bodies built to the sizes in the RFC's FETCH response: 1152 octets / 23 lines, 4554 / 73.
    const text = Array(23).fill('a'.repeat(48)).join('\r\n') + '\r\nab';
    const b64 = Array(73).fill('Q'.repeat(60)).join('\r\n') + '\r\n' + 'Q'.repeat(28);
    const raw = crlf([
      'From: Terry Gray <gray@cac.washington.edu>',
      'MIME-Version: 1.0',
      'Content-Type: MULTIPART/MIXED; BOUNDARY="xyz"',
      '',
      '--xyz',
      'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
      '',
      text,
      '--xyz',
      'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff',
      'Content-ID: <960723163407.20117h@cac.washington.edu>',
      'Content-Description: Compiler diff',
      'Content-Transfer-Encoding: BASE64',
      '',
      b64,
      '--xyz--',
      '',
    ]);
    const a = await analyze(raw);
    assert.deepEqual(shape(a.bodystructure), {
      subtype: 'mixed',
      params: { boundary: 'xyz' },
      parts: [
        ['text', 'plain', { charset: 'US-ASCII' }, null, null, '7BIT', 1152, 23],
        [
          'text',
          'plain',
          { charset: 'US-ASCII', name: 'cc.diff' },
          '<960723163407.20117h@cac.washington.edu>',
          'Compiler diff',
          'BASE64',
          4554,
          73,
        ],
      ],
    });
    assert.equal(a.malformed, false);
    assertOffsetsSane(a);
  });

  test('a plain message without MIME headers is one text/plain part "1"', async () => {
    const raw = crlf(['Subject: hi', '', 'line one', 'line two', '']);
    const a = await analyze(raw);
    assert.deepEqual(a.bodystructure, {
      kind: 'text',
      type: 'text',
      subtype: 'plain',
      params: { charset: 'us-ascii' },
      id: null,
      description: null,
      encoding: '7BIT',
      size: 20,
      md5: null,
      lines: 2,
      section: '1',
      offsets: { headerStart: 0, bodyStart: 15, bodyEnd: 35 },
      disposition: null,
      language: null,
      location: null,
    });
    assert.equal(a.size, 35);
    assert.equal(a.lines, 4);
    assert.equal(a.searchText, 'line one\r\nline two');
  });

  test('multipart/mixed with alternative text and attachments', async () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=C3=A9',
      '--inner',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Caf&eacute;</p>',
      '--inner--',
      '',
      '--outer',
      'Content-Type: image/png; name="dot.png"',
      'Content-Disposition: attachment; filename="dot.png"; size=4',
      'Content-Transfer-Encoding: base64',
      'Content-Language: en, de',
      'Content-Location: http://example.test/dot.png',
      'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
      '',
      'iVBO',
      '--outer--',
      '',
    ]);
    const a = await analyze(raw);
    const root = multipart(a.bodystructure);
    assert.equal(root.section, '');
    const alt = multipart(root.parts[0]!);
    assert.equal(alt.subtype, 'alternative');
    assert.deepEqual(
      alt.parts.map((p) => [
        p.section,
        p.type,
        p.subtype,
        p.kind === 'text' ? p.lines : -1,
        p.kind === 'text' && p.size,
      ]),
      [
        ['1.1', 'text', 'plain', 0, 9],
        ['1.2', 'text', 'html', 0, 18],
      ],
    );
    const png = root.parts[1]!;
    assert.equal(png.kind, 'basic');
    assert.deepEqual(
      {
        section: png.section,
        disposition: png.disposition,
        language: png.language,
        location: png.location,
        md5: png.kind === 'basic' ? png.md5 : undefined,
        encoding: png.kind === 'basic' ? png.encoding : undefined,
      },
      {
        section: '2',
        disposition: { type: 'attachment', params: { filename: 'dot.png', size: '4' } },
        language: ['en', 'de'],
        location: 'http://example.test/dot.png',
        md5: 'Q2hlY2sgSW50ZWdyaXR5IQ==',
        encoding: 'BASE64',
      },
    );
    assert.equal(a.hasAttachments, true);
    assert.deepEqual(a.attachments, [
      { section: '2', filename: 'dot.png', contentType: 'image/png', disposition: 'attachment', size: 4 },
    ]);
    assert.equal(a.searchText, 'dot.png\nCafé');
    assertOffsetsSane(a);
  });

  test('nested message/rfc822 carries an envelope and its own structure', async () => {
    const raw = crlf([
      'Subject: fwd',
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment',
      '',
      'From: Inner <inner@example.test>',
      'Subject: =?utf-8?Q?inn=C3=A9r?=',
      'Content-Type: multipart/alternative; boundary=c',
      '',
      '--c',
      '',
      'inner text',
      '--c',
      'Content-Type: text/html',
      '',
      '<b>inner</b>',
      '--c--',
      '--b--',
      '',
    ]);
    const a = await analyze(raw);
    const root = multipart(a.bodystructure);
    const msg = root.parts[1] as MessageBody;
    assert.equal(msg.kind, 'message');
    assert.equal(msg.section, '2');
    assert.equal(msg.envelope.subject, '=?utf-8?Q?inn=C3=A9r?=');
    assert.deepEqual(msg.envelope.from, [['Inner', null, 'inner', 'example.test']]);
    assert.equal(msg.lines, 11);
    const inner = multipart(msg.body);
    assert.equal(inner.section, '2');
    assert.deepEqual(
      inner.parts.map((p) => [p.section, p.type, p.subtype]),
      [
        ['2.1', 'text', 'plain'],
        ['2.2', 'text', 'html'],
      ],
    );
    assert.deepEqual(
      a.attachments.map((x) => x.section),
      ['2'],
    );
    assertOffsetsSane(a);
  });

  test('multipart/digest parts default to message/rfc822', async () => {
    const raw = crlf([
      'Content-Type: multipart/digest; boundary=d',
      '',
      '--d',
      '',
      'Subject: one',
      '',
      'first',
      '--d',
      'Content-Type: text/plain',
      '',
      'not a message',
      '--d--',
    ]);
    const a = await analyze(raw);
    const root = multipart(a.bodystructure);
    assert.deepEqual(
      root.parts.map((p) => [p.kind, p.type, p.subtype]),
      [
        ['message', 'message', 'rfc822'],
        ['text', 'text', 'plain'],
      ],
    );
    assert.equal((root.parts[0] as MessageBody).envelope.subject, 'one');
    assert.equal((root.parts[0] as MessageBody).body.section, '1.1');
  });

  test('base64-encoded message/rfc822 is reported as a basic part', async () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: message/rfc822',
      'Content-Transfer-Encoding: base64',
      '',
      'U3ViamVjdDogeA0KDQp5',
      '--b--',
    ]);
    const a = await analyze(raw);
    const part = multipart(a.bodystructure).parts[0]!;
    assert.deepEqual([part.kind, part.type, part.subtype], ['basic', 'message', 'rfc822']);
  });

  test('LF-only line endings split the same way', async () => {
    const lines = [
      'Content-Type: multipart/alternative; boundary=x',
      '',
      '--x',
      'Content-Type: text/plain',
      '',
      'one',
      'two',
      '--x--',
      '',
    ];
    const raw = Buffer.from(lines.join('\n'));
    const withLf = await analyze(raw);
    const part = multipart(withLf.bodystructure).parts[0]!;
    const headerStart = raw.indexOf('Content-Type: text/plain');
    const bodyStart = raw.indexOf('one');
    assert.deepEqual(part.offsets, { headerStart, bodyStart, bodyEnd: bodyStart + 'one\ntwo'.length });
    assert.equal(part.kind === 'text' && part.lines, 1);
    assert.equal(withLf.malformed, false);
    assertOffsetsSane(withLf);
  });

  test('no trailing CRLF: the last line still counts toward size', async () => {
    const single = await analyze(Buffer.from('Subject: x\r\n\r\nno newline'));
    assert.equal(single.bodystructure.kind === 'text' && single.bodystructure.lines, 0);
    assert.equal(single.bodystructure.kind === 'text' && single.bodystructure.size, 10);
    const multi = await analyze(
      crlf(['Content-Type: multipart/mixed; boundary=q', '', '--q', '', 'body', '--q--']),
    );
    assert.equal(multi.size, multi.bodystructure.offsets.bodyEnd);
    assert.equal(multipart(multi.bodystructure).parts[0]!.kind === 'text' && multi.malformed, false);
  });
});

describe('BODYSTRUCTURE of malformed messages (best effort, never throws)', () => {
  test('missing closing delimiter: the last part runs to the end', async () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      '',
      'one',
      '--b',
      '',
      'two',
      '',
    ]);
    const a = await analyze(raw);
    const root = multipart(a.bodystructure);
    assert.equal(root.parts.length, 2);
    assert.equal(root.parts[1]!.offsets.bodyEnd, raw.length);
    assertOffsetsSane(a);
  });

  test('an inner multipart that never closes ends at the outer delimiter', async () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      '',
      'a',
      '--outer',
      'Content-Type: application/octet-stream',
      '',
      'b',
      '--outer--',
    ]);
    const a = await analyze(raw);
    const root = multipart(a.bodystructure);
    assert.deepEqual(
      root.parts.map((p) => [p.section, p.type]),
      [
        ['1', 'multipart'],
        ['2', 'application'],
      ],
    );
    assert.equal(a.malformed, true);
    assertOffsetsSane(a);
  });

  test('multipart without a boundary gets one part over its body, like Dovecot', async () => {
    const raw = crlf(['Content-Type: multipart/mixed', '', 'opaque', '']);
    const a = await analyze(raw);
    const root = multipart(a.bodystructure);
    assert.equal(root.parts.length, 1);
    assert.deepEqual(root.parts[0]!.offsets, { headerStart: 33, bodyStart: 33, bodyEnd: 41 });
    assert.equal(a.malformed, true);
  });

  test('a part whose header has no blank line ends at the delimiter', async () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '--b',
      'Content-Type: text/html',
      '',
      '<i>x</i>',
      '--b--',
    ]);
    const a = await analyze(raw);
    const [first, second] = multipart(a.bodystructure).parts;
    assert.equal(first!.type === 'text' && first!.kind === 'text' && first!.size, 0);
    assert.equal(
      raw.subarray(first!.offsets.headerStart, first!.offsets.bodyStart).toString(),
      'Content-Type: text/plain',
    );
    assert.equal(second!.kind === 'text' && second!.subtype, 'html');
  });

  test('garbage header lines, invalid Content-Type and a delimiter with trailing junk', async () => {
    const raw = crlf([
      'this is not a header',
      ': no name',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b   ',
      'Content-Type: ///',
      '',
      'x',
      '--b--trailing',
    ]);
    const a = await analyze(raw);
    const part = multipart(a.bodystructure).parts[0]!;
    assert.deepEqual(
      [part.type, part.subtype, part.kind === 'text' && part.params],
      ['text', 'plain', { charset: 'us-ascii' }],
    );
    assertOffsetsSane(a);
  });

  test('a huge header line is counted, not kept', async () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: '),
      Buffer.alloc(3 * 1024 * 1024, 'a'),
      Buffer.from('\r\nFrom: x@example.test\r\n\r\nbody'),
    ]);
    const a = await analyze(raw, [65536], { maxHeaderBytes: 64 * 1024 });
    assert.equal(a.size, raw.length);
    assert.equal(a.malformed, true);
    assert.ok(a.envelope.subject!.length <= 64 * 1024);
    assert.deepEqual(a.envelope.from, [[null, null, 'x', 'example.test']]);
    assert.equal(slice(raw, a.bodystructure.offsets.bodyStart, a.size), 'body');
  });

  test('parts past maxParts and nesting past maxDepth do not split further', async () => {
    const many = ['Content-Type: multipart/mixed; boundary=b', ''];
    for (let i = 0; i < 20; i++) many.push('--b', '', `part ${i}`);
    many.push('--b--');
    const a = await analyze(crlf(many), undefined, { maxParts: 5 });
    assert.equal(multipart(a.bodystructure).parts.length, 4);
    assertOffsetsSane(a);

    const deep: string[] = [];
    for (let i = 0; i < 10; i++) deep.push(`Content-Type: multipart/mixed; boundary=b${i}`, '', `--b${i}`);
    deep.push('', 'leaf');
    const d = await analyze(crlf(deep), undefined, { maxDepth: 3 });
    assert.ok([...allParts(d.bodystructure)].length <= 5);
    assertOffsetsSane(d);
  });
});

function slice(raw: Buffer, start: number, end: number): string {
  return raw.subarray(start, end).toString('utf8');
}
