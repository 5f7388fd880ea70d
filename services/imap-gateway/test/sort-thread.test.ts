import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ImapGateway } from '../src/index.js';
import { compressInOrder } from '@correo/imap-proto';
import { LineClient, runProgram } from '@correo/testkit';
import { ImapTestStack } from './helpers/stack.js';

const imaplibScript = fileURLToPath(new URL('./clients/imaplib_sort_thread.py', import.meta.url));

interface Spec {
  id: string | null;
  refs?: string[];
  subject: string;
  date: string;
  from: string | null;
  to?: string | null;
  cc?: string;
  body: string;
}

/**
 * Eight messages (numbers 1-8; UIDs 2-9) whose every sort key orders them differently. Threads: 1 <- 2
 * <- 4 by References; 5 and 6 reply to a message that is not in the mailbox; 7 has no References but
 * shares 3's base subject; 8 has no Message-ID.
 */
const SPECS: Spec[] = [
  {
    id: 'a',
    subject: 'Meeting',
    date: 'Mon, 1 Jan 2024 10:00:00 +0000',
    from: 'Zed Last <aaa@x.test>',
    body: 'x'.repeat(50),
  },
  {
    id: 'b',
    refs: ['a'],
    subject: 'Re: Meeting',
    date: 'Wed, 3 Jan 2024 10:00:00 +0000',
    from: 'bob@x.test',
    cc: 'cc@x.test',
    body: 'x'.repeat(10),
  },
  {
    id: 'c',
    subject: 'Lunch',
    date: 'Tue, 2 Jan 2024 10:00:00 +0000',
    from: '=?utf-8?q?=C3=89mile?= <emile@x.test>',
    body: 'x'.repeat(80),
  },
  {
    id: 'd',
    refs: ['a', 'b'],
    subject: 'RE: [list] Meeting (fwd)',
    date: 'Thu, 4 Jan 2024 10:00:00 +0000',
    from: 'Carl <zzz@x.test>',
    to: 'Able <able@x.test>',
    body: 'x'.repeat(20),
  },
  {
    id: 'e',
    refs: ['gone'],
    subject: 'Budget',
    date: 'Fri, 5 Jan 2024 10:00:00 +0000',
    from: '"alice" <yyy@x.test>',
    body: 'x'.repeat(70),
  },
  {
    id: 'f',
    refs: ['gone'],
    subject: 'Re: Budget',
    date: 'Sat, 6 Jan 2024 10:00:00 +0000',
    from: 'Dora <ddd@x.test>',
    to: null,
    body: 'x'.repeat(30),
  },
  {
    id: 'g',
    subject: 'Re: Lunch',
    date: 'Sun, 7 Jan 2024 10:00:00 +0000',
    from: 'group: eve@x.test;',
    body: 'x'.repeat(60),
  },
  { id: null, subject: 'Hello', date: 'Sun, 31 Dec 2023 23:00:00 -0500', from: null, body: 'x'.repeat(40) },
];

function raw(spec: Spec): string {
  const lines: string[] = [];
  if (spec.from) lines.push(`From: ${spec.from}`);
  if (spec.to !== null) lines.push(`To: ${spec.to ?? 'someone@example.test'}`);
  if (spec.cc) lines.push(`Cc: ${spec.cc}`);
  lines.push(`Subject: ${spec.subject}`, `Date: ${spec.date}`);
  if (spec.id) lines.push(`Message-ID: <${spec.id}@thread.test>`);
  if (spec.refs) {
    lines.push(`References: ${spec.refs.map((r) => `<${r}@thread.test>`).join(' ')}`);
    lines.push(`In-Reply-To: <${spec.refs[spec.refs.length - 1]}@thread.test>`);
  }
  return [...lines, '', spec.body, ''].join('\r\n');
}

/** Message numbers by octet size (RFC822.SIZE), ties in number order. */
const bySize = SPECS.map((spec, i) => ({ n: i + 1, size: Buffer.byteLength(raw(spec)) }))
  .sort((a, b) => a.size - b.size || a.n - b.n)
  .map((m) => m.n);

function numbersOf(untagged: string[], name: string): number[] {
  const line = untagged.find((l) => l === `* ${name}` || l.startsWith(`* ${name} `));
  assert.ok(line, `no ${name} response in ${JSON.stringify(untagged)}`);
  return line.split(' ').slice(2).map(Number);
}

describe('SORT, ESORT and THREAD over stored keys (RFC 5256, 5267, 5957)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let client: LineClient;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    account = await stack.account('sorting');
    client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    await stack.deliver(account.accountId, account.address, raw({ ...SPECS[0]!, id: 'expunged' }));
    // Arrival runs backwards against the message numbers: 1 arrived last.
    for (const [i, spec] of SPECS.entries()) {
      const bytes = Buffer.from(raw(spec), 'utf8');
      const internal = `${String(20 - i).padStart(2, '0')}-Feb-2024 12:00:00 +0000`;
      const tag = client.allocateTag();
      client.write(
        Buffer.concat([
          Buffer.from(`${tag} APPEND INBOX "${internal}" {${bytes.length}+}\r\n`),
          bytes,
          Buffer.from('\r\n'),
        ]),
      );
      assert.match((await client.collect(tag)).status, /^OK /);
    }
    await client.command('SELECT INBOX');
    await client.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await client.command('EXPUNGE');
  });
  after(async () => {
    client?.destroy();
    await stack.close();
  });

  const sort = async (args: string): Promise<number[]> => {
    const done = await client.command(`SORT ${args}`);
    assert.match(done.status, /^OK /, `SORT ${args}`);
    return numbersOf(done.untagged, 'SORT');
  };
  const thread = async (algorithm: string, criteria = 'ALL'): Promise<string> => {
    const done = await client.command(`THREAD ${algorithm} UTF-8 ${criteria}`);
    assert.match(done.status, /^OK /);
    assert.equal(done.untagged.length, 1);
    return done.untagged[0]!;
  };

  test('SORT and THREAD are advertised', async () => {
    const caps = await client.command('CAPABILITY');
    for (const cap of ['SORT', 'SORT=DISPLAY', 'ESORT', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES']) {
      assert.ok(caps.untagged[0]!.split(' ').includes(cap), cap);
    }
  });

  const sortCases = async (): Promise<void> => {
    assert.deepEqual(await sort('(SUBJECT) UTF-8 ALL'), [5, 6, 8, 3, 7, 1, 2, 4]);
    assert.deepEqual(await sort('(DATE) UTF-8 ALL'), [8, 1, 3, 2, 4, 5, 6, 7]);
    assert.deepEqual(await sort('(REVERSE DATE) UTF-8 ALL'), [7, 6, 5, 4, 2, 3, 1, 8]);
    assert.deepEqual(await sort('(ARRIVAL) UTF-8 ALL'), [8, 7, 6, 5, 4, 3, 2, 1]);
    assert.deepEqual(await sort('(SIZE) UTF-8 ALL'), bySize);
    assert.deepEqual(await sort('(FROM) UTF-8 ALL'), [8, 1, 2, 6, 3, 7, 5, 4]);
    assert.deepEqual(await sort('(DISPLAYFROM) UTF-8 ALL'), [8, 5, 2, 4, 6, 7, 1, 3]);
    assert.deepEqual(await sort('(TO) UTF-8 ALL'), [6, 4, 1, 2, 3, 5, 7, 8]);
    assert.deepEqual(await sort('(DISPLAYTO) UTF-8 ALL'), [6, 4, 1, 2, 3, 5, 7, 8]);
    assert.deepEqual(await sort('(CC) UTF-8 ALL'), [1, 3, 4, 5, 6, 7, 8, 2]);
    assert.deepEqual(await sort('(REVERSE CC) UTF-8 ALL'), [2, 1, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(await sort('(SUBJECT REVERSE DATE) UTF-8 ALL'), [6, 5, 8, 7, 3, 4, 2, 1]);
    assert.deepEqual(await sort('(DATE) UTF-8 SUBJECT meeting'), [1, 2, 4]);
    assert.deepEqual(await sort('(SUBJECT) UTF-8 2:5 NOT FROM bob'), [5, 3, 4]);
    const uids = await client.command('UID SORT (DATE) US-ASCII ALL');
    assert.deepEqual(numbersOf(uids.untagged, 'SORT'), [9, 2, 4, 3, 5, 6, 7, 8]);
  };

  test('every sort key, REVERSE, several keys, search criteria and UID SORT', sortCases);

  test('ESORT: MIN/MAX in sort order, ALL keeping it, COUNT', async () => {
    const done = await client.command('SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL');
    assert.match(done.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) MIN 8 MAX 7 ALL 8,1,3,2,4:7 COUNT 8$/);
    const uid = await client.command('UID SORT RETURN () (REVERSE SIZE) UTF-8 ALL');
    const reversed = [...bySize].reverse().map((n) => n + 1);
    assert.equal(uid.untagged[0]!.split(' ALL ')[1], compressInOrder(reversed));
    const none = await client.command('SORT RETURN (COUNT MIN) (DATE) UTF-8 SUBJECT nothing');
    assert.match(none.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) COUNT 0$/);
  });

  const threadCases = async (): Promise<void> => {
    assert.equal(await thread('REFERENCES'), '* THREAD (8)(1 2 4)(3 7)((5)(6))');
    assert.equal(await thread('ORDEREDSUBJECT'), '* THREAD (8)(1 (2)(4))(3 7)(5 6)');
    // Without 1, 2 stands at the top of its thread, and its date (3 Jan) now follows 3's (2 Jan).
    assert.equal(await thread('REFERENCES', '2:*'), '* THREAD (8)(3 7)(2 4)((5)(6))');
    const uid = await client.command('UID THREAD REFERENCES UTF-8 ALL');
    assert.deepEqual(uid.untagged, ['* THREAD (9)(2 3 5)(4 8)((6)(7))']);
  };

  test('THREAD=REFERENCES and THREAD=ORDEREDSUBJECT', threadCases);

  test('bad SORT and THREAD get BAD or NO with a code', async () => {
    assert.match((await client.command('SORT (NAME) UTF-8 ALL')).status, /^BAD /);
    assert.match((await client.command('THREAD X UTF-8 ALL')).status, /^BAD /);
    assert.match((await client.command('SORT (DATE) KOI8-R ALL')).status, /^NO \[BADCHARSET/);
  });

  test('rows stored before the keys were kept: derived from the stored envelope, written back', async () => {
    await stack.pool.query(
      `UPDATE messages SET sort_keys_filled = FALSE, sort_subject = NULL, sort_from = NULL, sort_to = NULL,
         sort_cc = NULL, sort_display_from = NULL, sort_display_to = NULL, thread_message_id = NULL,
         thread_references = NULL WHERE account_id = $1`,
      [account.accountId],
    );
    await sortCases();
    await threadCases();
    const { rows } = await stack.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM messages WHERE account_id = $1 AND NOT sort_keys_filled',
      [account.accountId],
    );
    assert.equal(rows[0]!.n, '0');
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
      sort_date: ['8', '1', '3', '2', '4', '5', '6', '7'],
      sort_display_from: ['8', '5', '2', '4', '6', '7', '1', '3'],
      uid_sort_subject: ['6', '7', '9', '4', '8', '2', '3', '5'],
      thread_references: '(8)(1 2 4)(3 7)((5)(6))',
      thread_orderedsubject: '(8)(1 (2)(4))(3 7)(5 6)',
    });
  });
});
