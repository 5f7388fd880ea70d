import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack } from './helpers/stack.js';

function mail(subject: string, headers: string[], body: string[]): string {
  return [
    'From: Ana <ana@remote.test>',
    'To: someone@example.test',
    `Subject: ${subject}`,
    'Date: Thu, 26 Nov 2026 06:00:00 +0000',
    'MIME-Version: 1.0',
    ...headers,
    '',
    ...body,
    '',
  ].join('\r\n');
}

/** The PREVIEW of a FETCH line, quoted or a literal (LineClient reads octets as latin1). */
function previewOf(line: string): string {
  const literal = /PREVIEW \{(\d+)\}\r\n/.exec(line);
  if (literal) {
    const start = literal.index + literal[0].length;
    return Buffer.from(line.slice(start, start + Number(literal[1])), 'latin1').toString('utf8');
  }
  return /PREVIEW "([^"]*)"/.exec(line)![1]!;
}

const WORDS = Array.from({ length: 120 }, (_, i) => `word${i}`);

const PLAIN = mail(
  'Plain',
  ['Content-Type: text/plain; charset=utf-8'],
  ['Hello   Bob,', '', `\t${WORDS.join(' ')}`],
);
// Only HTML, in latin1 and quoted-printable: the preview is its text, decoded.
const HTML = mail(
  'Html',
  ['Content-Type: text/html; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable'],
  ['<html><head><style>p { color: red; }</style></head><body><p>Caf=E9 at <b>noon</b>?</p></body></html>'],
);
// The text part comes after an image: the preview skips to it; the attachment's text is never used.
const MIXED = mail(
  'Mixed',
  ['Content-Type: multipart/mixed; boundary="b"'],
  [
    '--b',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    '',
    'iVBORw0KGgo=',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('Grüße aus Köln').toString('base64'),
    '--b',
    'Content-Type: text/plain',
    'Content-Disposition: attachment; filename="notes.txt"',
    '',
    'attached notes',
    '--b--',
  ],
);
const NO_TEXT = mail(
  'No text',
  ['Content-Type: application/pdf', 'Content-Transfer-Encoding: base64'],
  ['JVBERi0xLjQK'],
);

/**
 * PREVIEW (RFC 8970): up to 256 characters of the first text a reader would see, whitespace made single
 * spaces, decoded (transfer encoding, charset, HTML); "" for a message without text; computed from a
 * few KiB of the part on first asking and kept, and PREVIEW (LAZY) gives NIL until then.
 */
describe('PREVIEW', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let client: LineClient;
  let accountId: string;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    const account = await stack.account('preview');
    accountId = account.accountId;
    for (const raw of [PLAIN, HTML, MIXED, NO_TEXT]) await stack.deliver(accountId, account.address, raw);
    client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    assert.match((await client.command('SELECT INBOX')).status, /^OK/);
  });
  after(async () => {
    client.destroy();
    await stack.close();
  });

  async function kept(): Promise<(string | null)[]> {
    const { rows } = await stack.pool.query<{ preview: string | null }>(
      `SELECT m.preview FROM messages m JOIN mailbox_messages mm ON mm.message_id = m.id
       WHERE m.account_id = $1 ORDER BY mm.uid`,
      [accountId],
    );
    return rows.map((row) => row.preview);
  }

  test('LAZY gives NIL before a preview is made; PREVIEW makes and keeps it; LAZY then has it', async () => {
    assert.match((await client.command('CAPABILITY')).untagged[0]!, / PREVIEW( |$)/);
    assert.deepEqual(await client.commandOk('FETCH 1 (PREVIEW (LAZY))'), ['* 1 FETCH (PREVIEW NIL)']);
    assert.deepEqual(await kept(), [null, null, null, null]);

    const expected = `Hello Bob, ${WORDS.join(' ')}`.slice(0, 256);
    assert.equal(expected.length, 256);
    const lines = await client.commandOk('FETCH 1:4 (UID PREVIEW)');
    assert.equal(lines[0], `* 1 FETCH (UID 1 PREVIEW "${expected}")`);
    // 8-bit text goes out as a literal (no UTF8=ACCEPT); the HTML's inline tags leave a space.
    assert.deepEqual(lines.slice(1).map(previewOf), ['Café at noon ?', 'Grüße aus Köln', '']);
    assert.deepEqual(await kept(), [expected, 'Café at noon ?', 'Grüße aus Köln', '']);
    assert.deepEqual(await client.commandOk('FETCH 2 (PREVIEW (LAZY))'), [lines[1]!.replace('UID 2 ', '')]);
  });

  test('a FETCH of a kept preview does not read the message again', async () => {
    // Whatever the store keeps is the answer: the message is not made into a preview again.
    await stack.pool.query(
      `UPDATE messages SET preview = 'kept text' WHERE account_id = $1 AND preview = ''`,
      [accountId],
    );
    assert.deepEqual(await client.commandOk('FETCH 4 PREVIEW'), ['* 4 FETCH (PREVIEW "kept text")']);
  });
});
