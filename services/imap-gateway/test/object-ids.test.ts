import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

function message(messageId: string, subject: string, extra: string[] = []): string {
  return [
    'From: Ana <ana@remote.test>',
    'To: someone@example.test',
    `Subject: ${subject}`,
    `Message-ID: <${messageId}>`,
    ...extra,
    'Date: Thu, 26 Nov 2026 06:00:00 +0000',
    '',
    'Body.',
    '',
  ].join('\r\n');
}

const idOf = (lines: string[], item: 'EMAILID' | 'THREADID'): string[] =>
  lines.map((line) => new RegExp(`${item} \\(([A-Za-z0-9_-]+)\\)`).exec(line)?.[1] ?? 'none');

/**
 * OBJECTID (RFC 8474), as its examples use it: MAILBOXID on CREATE, SELECT and STATUS, kept by
 * RENAME and new after DELETE + CREATE; EMAILID kept by COPY and MOVE; THREADID shared by a reply and
 * the message it answers; SEARCH EMAILID / THREADID.
 */
describe('OBJECTID', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  const open: LineClient[] = [];

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
  });
  after(async () => {
    for (const client of open) client.destroy();
    await stack.close();
  });

  async function login(address: string): Promise<LineClient> {
    const client = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
    open.push(client);
    return client;
  }

  test('MAILBOXID: CREATE, STATUS, SELECT agree; RENAME keeps it; DELETE + CREATE makes a new one', async () => {
    const { address } = await stack.account('mailboxid');
    const c = await login(address);
    assert.match((await c.command('CAPABILITY')).untagged[0]!, / OBJECTID( |$)/);
    const created = await c.command('CREATE foo');
    const id = /^OK \[MAILBOXID \((F[0-9]+)\)\] /.exec(created.status)?.[1];
    assert.ok(id, created.status);
    assert.deepEqual(await c.commandOk('STATUS foo (MAILBOXID)'), [`* STATUS foo (MAILBOXID (${id}))`]);
    const selected = await c.commandOk('SELECT foo');
    assert.ok(selected.includes(`* OK [MAILBOXID (${id})] Mailbox id`), selected.join('\n'));
    // LIST-STATUS carries it too.
    assert.deepEqual(await c.commandOk('LIST "" foo RETURN (STATUS (MAILBOXID))'), [
      '* LIST (\\HasNoChildren) "/" foo',
      `* STATUS foo (MAILBOXID (${id}))`,
    ]);
    await c.commandOk('UNSELECT');
    await c.commandOk('RENAME foo bar');
    assert.deepEqual(await c.commandOk('STATUS bar (MAILBOXID)'), [`* STATUS bar (MAILBOXID (${id}))`]);
    await c.commandOk('DELETE bar');
    const again = await c.command('CREATE bar');
    const other = /MAILBOXID \((F[0-9]+)\)/.exec(again.status)?.[1];
    assert.ok(other && other !== id, again.status);
    const inbox = (await c.commandOk('STATUS INBOX (MESSAGES MAILBOXID)'))[0]!;
    assert.match(inbox, /^\* STATUS INBOX \(MESSAGES 0 MAILBOXID \(F[0-9]+\)\)$/);
    assert.ok(!inbox.includes(other));
  });

  test('EMAILID stays with the message through COPY and MOVE; THREADID joins replies', async () => {
    const { accountId, address } = await stack.account('emailid');
    await stack.deliver(accountId, address, message('root@remote.test', 'Plans'));
    await stack.deliver(
      accountId,
      address,
      message('reply@remote.test', 'Re: Plans', [
        'In-Reply-To: <root@remote.test>',
        'References: <root@remote.test>',
      ]),
    );
    await stack.deliver(accountId, address, message('other@remote.test', 'Unrelated'));
    // A reply to the reply names only its parent: it joins the same thread all the same.
    await stack.deliver(
      accountId,
      address,
      message('reply2@remote.test', 'Re: Re: Plans', ['In-Reply-To: <reply@remote.test>']),
    );
    const c = await login(address);
    await c.commandOk('CREATE Archive/Plans');
    await c.commandOk('SELECT INBOX');
    const fetched = await c.commandOk('FETCH 1:4 (EMAILID THREADID)');
    assert.equal(fetched.length, 4);
    for (const line of fetched)
      assert.match(line, /^\* \d FETCH \(EMAILID \(M[0-9]+\) THREADID \(T[0-9]+\)\)$/);
    const emails = idOf(fetched, 'EMAILID');
    const threads = idOf(fetched, 'THREADID');
    assert.equal(new Set(emails).size, 4);
    assert.equal(threads[0], threads[1]);
    assert.equal(threads[0], threads[3]);
    assert.notEqual(threads[0], threads[2]);

    assert.deepEqual(await c.commandOk(`UID SEARCH EMAILID ${emails[1]}`), ['* SEARCH 2']);
    assert.deepEqual(await c.commandOk(`SEARCH THREADID ${threads[0]}`), ['* SEARCH 1 2 4']);
    assert.deepEqual(await c.commandOk('SEARCH EMAILID M99999999999'), ['* SEARCH']);
    assert.deepEqual(await c.commandOk('SEARCH EMAILID not-ours'), ['* SEARCH']);

    await c.commandOk('COPY 1 Archive/Plans');
    await c.commandOk('MOVE 3 Archive/Plans');
    await c.commandOk('SELECT Archive/Plans');
    const moved = await c.commandOk('FETCH 1:2 (EMAILID THREADID)');
    assert.deepEqual(idOf(moved, 'EMAILID'), [emails[0], emails[2]]);
    assert.deepEqual(idOf(moved, 'THREADID'), [threads[0], threads[2]]);
    assert.deepEqual(await c.commandOk(`SEARCH EMAILID ${emails[2]}`), ['* SEARCH 2']);
  });

  test('a reply to a message one sent joins the thread of the copy in Sent', async () => {
    const { accountId, address } = await stack.account('sentcopy');
    await stack.deliver(accountId, address, rawMessage('first'));
    const c = await login(address);
    const sent = message('mine@example.test', 'Mine');
    await c.commandOk(`APPEND Sent {${Buffer.byteLength(sent)}+}\r\n${sent}`);
    await stack.deliver(
      accountId,
      address,
      message('answer@remote.test', 'Re: Mine', ['In-Reply-To: <mine@example.test>']),
    );
    await c.commandOk('SELECT Sent');
    const [mine] = idOf(await c.commandOk('FETCH 1 THREADID'), 'THREADID');
    await c.commandOk('SELECT INBOX');
    const threads = idOf(await c.commandOk('FETCH 1:2 THREADID'), 'THREADID');
    assert.notEqual(threads[0], mine);
    assert.equal(threads[1], mine);
    assert.deepEqual(await c.commandOk(`SEARCH THREADID ${mine}`), ['* SEARCH 2']);
  });
});
