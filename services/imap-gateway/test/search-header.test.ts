import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ImapGateway } from '../src/index.js';
import { LineClient, runProgram } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';
import { STACK_KINDS } from '@correo/testkit/stack';

const imaplibScript = fileURLToPath(new URL('./clients/imaplib_search_header.py', import.meta.url));

const message = (headers: string[], body: string[] = ['Hello.']): string =>
  [
    'From: Sender <sender@remote.test>',
    'To: Someone <someone@example.test>',
    'Date: Thu, 26 Nov 2026 06:00:00 +0000',
    'MIME-Version: 1.0',
    ...headers,
    '',
    ...body,
    '',
  ].join('\r\n');

/**
 * Message numbers 1-5 (UIDs 2-6: UID 1 is expunged first, so numbers and UIDs differ). Header fields
 * the store has no column for, and text that looks like them where a header scan must not look: the
 * body (3) and an attached message's header (5).
 */
const MAILBOX = [
  message(['Subject: one', 'Content-Type: text/plain', 'X-Custom: Alpha-Value', 'X-Mailer: Thunderbird 128']),
  message([
    'Subject: two',
    'x-custom: Beta',
    'X-Folded: first part',
    '\tsecond PART',
    'Bcc: Bob Hidden <bob@hidden.test>',
  ]),
  message(['Subject: three', 'X-Encoded: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?='], ['X-Custom: body-fake']),
  message(['Subject: four', 'X-Custom:', 'Reply-To: replies@list.test', 'Sender: bot@list.test']),
  message(
    ['Subject: five', 'Content-Type: multipart/mixed; boundary="b1"'],
    [
      '--b1',
      'Content-Type: text/plain',
      '',
      'See attached.',
      '--b1',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      'X-Custom: inner-only',
      '',
      'Inner body.',
      '--b1--',
    ],
  ),
];

/** The numbers of the `* SEARCH` answer. */
function searched(untagged: string[]): number[] {
  const line = untagged.find((l) => l === '* SEARCH' || l.startsWith('* SEARCH '));
  assert.ok(line, `no SEARCH response in ${JSON.stringify(untagged)}`);
  return line.split(' ').slice(2).map(Number);
}

for (const kind of STACK_KINDS) {
  describe(`SEARCH HEADER on any field, read from the header block (${kind})`, () => {
    let stack: ImapTestStack;
    let gateway: ImapGateway;
    let account: { accountId: string; address: string };
    let client: LineClient;

    before(async () => {
      stack = await ImapTestStack.create(kind);
      gateway = await stack.gateway();
      account = await stack.account('headers');
      await stack.deliver(account.accountId, account.address, rawMessage('expunged first'));
      for (const raw of MAILBOX) await stack.deliver(account.accountId, account.address, raw);
      client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
      await client.command('SELECT INBOX');
      await client.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
      const expunged = await client.command('EXPUNGE');
      assert.deepEqual(expunged.untagged, ['* 1 EXPUNGE']);
    });
    after(async () => {
      client?.destroy();
      await stack.close();
    });

    const search = async (criteria: string): Promise<number[]> => {
      const done = await client.command(`SEARCH ${criteria}`);
      assert.match(done.status, /^OK /, `SEARCH ${criteria}`);
      return searched(done.untagged);
    };

    test('substring of the value, field name and value case-insensitive', async () => {
      assert.deepEqual(await search('HEADER X-Custom alpha'), [1]);
      assert.deepEqual(await search('HEADER X-CUSTOM "ALPHA-value"'), [1]);
      assert.deepEqual(await search('HEADER x-custom BETA'), [2]);
      assert.deepEqual(await search('HEADER X-Mailer "bird 12"'), [1]);
      assert.deepEqual(await search('HEADER X-Custom gamma'), []);
      assert.deepEqual(await search('HEADER X-Absent ""'), []);
    });

    test('an empty string matches every message that has the field, even with an empty value', async () => {
      assert.deepEqual(await search('HEADER X-Custom ""'), [1, 2, 4]);
      assert.deepEqual(await search('HEADER Reply-To ""'), [4]);
      assert.deepEqual(await search('HEADER Content-Type ""'), [1, 5]);
    });

    test('only the top-level header block: not the body, not an attached message', async () => {
      assert.deepEqual(await search('HEADER X-Custom body-fake'), []);
      assert.deepEqual(await search('HEADER X-Custom inner-only'), []);
      assert.deepEqual(await search('HEADER Subject inner'), []);
    });

    test('folded values are unfolded and RFC 2047 words decoded', async () => {
      assert.deepEqual(await search('HEADER X-Folded "part second part"'), [2]);
      const needle = Buffer.from('jörg müller', 'utf8');
      const tag = client.allocateTag();
      client.write(
        Buffer.concat([
          Buffer.from(`${tag} SEARCH CHARSET UTF-8 HEADER X-Encoded {${needle.length}+}\r\n`),
          needle,
          Buffer.from('\r\n'),
        ]),
      );
      const done = await client.collect(tag);
      assert.match(done.status, /^OK /);
      assert.deepEqual(searched(done.untagged), [3]);
    });

    test('Bcc, Sender and Reply-To are searched as written, not as ENVELOPE tuples', async () => {
      assert.deepEqual(await search('BCC bob@hidden.test'), [2]);
      assert.deepEqual(await search('HEADER Bcc "bob hidden"'), [2]);
      assert.deepEqual(await search('HEADER Sender bot@list'), [4]);
      // Reply-To is absent from 1: ENVELOPE's default to From must not make it match.
      assert.deepEqual(await search('HEADER Reply-To sender@remote.test'), []);
    });

    test('combined with OR, NOT and keys the SQL answers', async () => {
      assert.deepEqual(await search('NOT HEADER X-Custom ""'), [3, 5]);
      assert.deepEqual(await search('OR HEADER X-Custom beta SUBJECT three'), [2, 3]);
      assert.deepEqual(await search('HEADER X-Custom "" NOT HEADER X-Custom alpha'), [2, 4]);
      assert.deepEqual(await search('NOT OR HEADER X-Custom alpha HEADER X-Mailer ""'), [2, 3, 4, 5]);
      assert.deepEqual(await search('SUBJECT one HEADER X-Custom ""'), [1]);
      assert.deepEqual(await search('2:5 NOT HEADER x-custom ""'), [3, 5]);
      assert.deepEqual(await search('HEADER Subject FOUR'), [4]);
    });

    test('UID SEARCH and ESEARCH return options', async () => {
      const uids = await client.command('UID SEARCH HEADER X-Custom ""');
      assert.deepEqual(searched(uids.untagged), [2, 3, 5]);
      const counted = await client.command('SEARCH RETURN (MIN COUNT) HEADER X-Custom ""');
      assert.match(counted.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) MIN 1 COUNT 3$/);
      const uidMax = await client.command('UID SEARCH RETURN (MAX) NOT HEADER X-Custom ""');
      assert.match(uidMax.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) UID MAX 6$/);
    });

    test("Python's imaplib", async () => {
      const result = await runProgram('python3', [
        imaplibScript,
        String(gateway.ports.imap),
        account.address,
        stack.password,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        custom_alpha: ['1'],
        custom_any: ['1', '2', '4'],
        not_custom: ['3', '5'],
        or_custom_subject: ['2', '3'],
        folded: ['2'],
        encoded: ['3'],
        uid_mailer: ['2'],
        bcc: ['2'],
      });
    });
  });
}
