import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ImapGateway } from '../src/index.js';
import { LineClient, runProgram } from '@correo/testkit';
import { appendMessage, ImapTestStack } from './helpers/stack.js';
import { STACK_KINDS } from '@correo/testkit/stack';

const imaplibScript = fileURLToPath(new URL('./clients/imaplib_search_semantics.py', import.meta.url));

const message = (headers: string[], body: string[]): string =>
  ['From: Sender <sender@remote.test>', 'To: someone@example.test', ...headers, '', ...body, ''].join('\r\n');

/**
 * Dates around the EET -> EEST change of 25 Mar 2007 (as in Dovecot's imaptest): each message's Date
 * is on a different calendar day in its own zone than in UTC, and its APPEND date-time likewise.
 * Message 6 has no Date header.
 */
const DATED: Array<[date: string | null, internal: string]> = [
  ['Sat, 24 Mar 2007 23:30:00 +0200', '24-Mar-2007 23:30:00 +0200'],
  ['Sun, 25 Mar 2007 00:30:00 +0200', '25-Mar-2007 00:30:00 +0200'],
  ['Sun, 25 Mar 2007 23:30:00 +0300', '25-Mar-2007 23:30:00 +0300'],
  ['Sun, 25 Mar 2007 21:00:00 -0500 (EST)', '25-Mar-2007 21:00:00 -0500'],
  ['Mon, 26 Mar 2007 01:00:00 EDT', '26-Mar-2007 01:00:00 +0300'],
  [null, '27-Mar-2007 12:00:00 +0000'],
];

/** Text to find as substrings, decoded from the charset and transfer encoding it was sent in. */
const TEXTS = [
  message(['Subject: first'], ['asdfghjkl zxcvbnm']),
  message(['Subject: qwertyuiop'], ['asdfghjkl']),
  message(['Subject: third', 'X-Note: qwertyuiop'], ['zxcvbnm']),
  message(
    [
      'Subject: fourth',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: base64',
    ],
    [Buffer.from('Gr\u00fc\u00dfe QWERTYUIOP zxcvbnm', 'latin1').toString('base64')],
  ),
  message(
    [
      'Subject: =?utf-8?q?f=C3=BCnfte?=',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
    ],
    ['Die Stra=C3=9Fe ist lang=', 'weilig.'],
  ),
];

function searched(untagged: string[]): number[] {
  const line = untagged.find((l) => l === '* SEARCH' || l.startsWith('* SEARCH '));
  assert.ok(line, `no SEARCH response in ${JSON.stringify(untagged)}`);
  return line.split(' ').slice(2).map(Number);
}

for (const kind of STACK_KINDS) {
  describe(`SEARCH dates and text as RFC 3501 6.4.4 defines them (${kind})`, () => {
    let stack: ImapTestStack;
    let gateway: ImapGateway;
    let account: { accountId: string; address: string };
    let client: LineClient;

    before(async () => {
      stack = await ImapTestStack.create(kind);
      gateway = await stack.gateway();
      account = await stack.account('semantics');
      client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
      assert.match((await client.command('CREATE Dated')).status, /^OK /);
      assert.match((await client.command('CREATE Texts')).status, /^OK /);
      for (const [date, internal] of DATED) {
        await appendMessage(client, 'Dated', message(date ? [`Date: ${date}`] : [], ['dated']), internal);
      }
      for (const raw of TEXTS) await appendMessage(client, 'Texts', raw);
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

    test('SENTBEFORE/SENTON/SENTSINCE: the Date header day in its own zone', async () => {
      await client.command('SELECT Dated');
      assert.deepEqual(await search('SENTON 23-Mar-2007'), []);
      assert.deepEqual(await search('SENTON 24-Mar-2007'), [1]);
      assert.deepEqual(await search('SENTON 25-Mar-2007'), [2, 3, 4]);
      assert.deepEqual(await search('SENTON 26-Mar-2007'), [5]);
      assert.deepEqual(await search('SENTBEFORE 25-Mar-2007'), [1]);
      assert.deepEqual(await search('SENTBEFORE 26-Mar-2007'), [1, 2, 3, 4]);
      assert.deepEqual(await search('SENTSINCE 25-Mar-2007'), [2, 3, 4, 5]);
      assert.deepEqual(await search('SENTSINCE 27-Mar-2007'), []);
    });

    test('under NOT, OR and with sequence ranges; no Date header matches no sent-date key but does match its NOT', async () => {
      await client.command('SELECT Dated');
      assert.deepEqual(await search('NOT SENTON 25-Mar-2007'), [1, 5, 6]);
      assert.deepEqual(await search('2:* NOT SENTBEFORE 25-Mar-2007'), [2, 3, 4, 5, 6]);
      assert.deepEqual(await search('1:3 SENTSINCE 25-Mar-2007'), [2, 3]);
      assert.deepEqual(await search('4:* SENTBEFORE 26-Mar-2007'), [4]);
      assert.deepEqual(await search('OR SENTON 24-Mar-2007 SENTON 26-Mar-2007'), [1, 5]);
      assert.deepEqual(await search('NOT OR SENTBEFORE 25-Mar-2007 SENTSINCE 26-Mar-2007'), [2, 3, 4, 6]);
    });

    test('BEFORE/ON/SINCE: the internal date day in the zone APPEND gave it', async () => {
      await client.command('SELECT Dated');
      assert.deepEqual(await search('ON 24-Mar-2007'), [1]);
      assert.deepEqual(await search('ON 25-Mar-2007'), [2, 3, 4]);
      assert.deepEqual(await search('ON 26-Mar-2007'), [5]);
      assert.deepEqual(await search('BEFORE 25-Mar-2007'), [1]);
      assert.deepEqual(await search('SINCE 26-Mar-2007'), [5, 6]);
      assert.deepEqual(await search('2:5 NOT ON 25-Mar-2007'), [5]);
      assert.deepEqual(await search('NOT SINCE 25-Mar-2007'), [1]);
      // The Date header does not count for internal-date keys: 6 has none but is ON its internal day.
      assert.deepEqual(await search('ON 27-Mar-2007'), [6]);
    });

    const textCases = async (): Promise<void> => {
      await client.command('SELECT Texts');
      // Whole words, as imaptest's search-body asks first.
      assert.deepEqual(await search('TEXT asdfghjkl'), [1, 2]);
      assert.deepEqual(await search('TEXT qwertyuiop'), [2, 3, 4]);
      assert.deepEqual(await search('BODY qwertyuiop'), [4]);
      assert.deepEqual(await search('BODY zxcvbnm'), [1, 3, 4]);
      // Substrings inside words, in any case.
      assert.deepEqual(await search('BODY wertyuio'), [4]);
      assert.deepEqual(await search('TEXT WERTYUIO'), [2, 3, 4]);
      assert.deepEqual(await search('BODY sdfghjk'), [1, 2]);
      assert.deepEqual(await search('TEXT xcvbn'), [1, 3, 4]);
      assert.deepEqual(await search('NOT BODY xcvbn'), [2, 5]);
      assert.deepEqual(await search('2:4 BODY xcvbn'), [3, 4]);
      // Decoded: quoted-printable soft line breaks joined, base64 and ISO-8859-1 decoded, RFC 2047 words.
      assert.deepEqual(await search('BODY langweilig'), [5]);
      for (const [needle, expected] of [
        ['straße', [5]],
        ['GRÜSSE', []],
        ['grüße', [4]],
        ['fünfte', [5]],
      ] as const) {
        const bytes = Buffer.from(needle, 'utf8');
        const tag = client.allocateTag();
        client.write(
          Buffer.concat([
            Buffer.from(`${tag} SEARCH CHARSET UTF-8 TEXT {${bytes.length}+}\r\n`),
            bytes,
            Buffer.from('\r\n'),
          ]),
        );
        const done = await client.collect(tag);
        assert.match(done.status, /^OK /);
        assert.deepEqual(searched(done.untagged), expected, needle);
      }
      // The header alone is not the body.
      assert.deepEqual(await search('BODY fourth'), []);
      assert.deepEqual(await search('TEXT fourth'), [4]);
    };

    test('TEXT and BODY are case-insensitive substring tests over decoded text', textCases);

    test('messages stored before the text was kept are read from the blob store, same answers', async () => {
      await stack.pool.query(
        'UPDATE messages SET body_text = NULL, header_text = NULL WHERE account_id = $1',
        [account.accountId],
      );
      await textCases();
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
        senton: ['2', '3', '4'],
        not_sentbefore_range: ['2', '3', '4', '5', '6'],
        on: ['5'],
        body_substring: ['4'],
        text_substring: ['2', '3', '4'],
      });
    });
  });
}
