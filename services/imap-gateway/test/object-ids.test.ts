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

  async function ok(client: LineClient, line: string): Promise<{ untagged: string[]; status: string }> {
    const done = await client.command(line);
    assert.match(done.status, /^OK/, `${line}: ${done.status}`);
    return done;
  }

  test('MAILBOXID: CREATE, STATUS, SELECT agree; RENAME keeps it; DELETE + CREATE makes a new one', async () => {
    const { address } = await stack.account('mailboxid');
    const c = await login(address);
    assert.match((await c.command('CAPABILITY')).untagged[0]!, / OBJECTID( |$)/);
    const created = await ok(c, 'CREATE foo');
    const id = /^OK \[MAILBOXID \((F[0-9]+)\)\] /.exec(created.status)?.[1];
    assert.ok(id, created.status);
    assert.deepEqual((await ok(c, 'STATUS foo (MAILBOXID)')).untagged, [`* STATUS foo (MAILBOXID (${id}))`]);
    const selected = await ok(c, 'SELECT foo');
    assert.ok(
      selected.untagged.includes(`* OK [MAILBOXID (${id})] Mailbox id`),
      selected.untagged.join('\n'),
    );
    await ok(c, 'UNSELECT');
    await ok(c, 'RENAME foo bar');
    assert.deepEqual((await ok(c, 'STATUS bar (MAILBOXID)')).untagged, [`* STATUS bar (MAILBOXID (${id}))`]);
    await ok(c, 'DELETE bar');
    const again = await ok(c, 'CREATE bar');
    const other = /MAILBOXID \((F[0-9]+)\)/.exec(again.status)?.[1];
    assert.ok(other && other !== id, again.status);
    const inbox = (await ok(c, 'STATUS INBOX (MESSAGES MAILBOXID)')).untagged[0]!;
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
    await ok(c, 'CREATE Archive/Plans');
    await ok(c, 'SELECT INBOX');
    const fetched = (await ok(c, 'FETCH 1:4 (EMAILID THREADID)')).untagged;
    assert.equal(fetched.length, 4);
    for (const line of fetched)
      assert.match(line, /^\* \d FETCH \(EMAILID \(M[0-9]+\) THREADID \(T[0-9]+\)\)$/);
    const emails = idOf(fetched, 'EMAILID');
    const threads = idOf(fetched, 'THREADID');
    assert.equal(new Set(emails).size, 4);
    assert.equal(threads[0], threads[1]);
    assert.equal(threads[0], threads[3]);
    assert.notEqual(threads[0], threads[2]);

    assert.deepEqual((await ok(c, `UID SEARCH EMAILID ${emails[1]}`)).untagged, ['* SEARCH 2']);
    assert.deepEqual((await ok(c, `SEARCH THREADID ${threads[0]}`)).untagged, ['* SEARCH 1 2 4']);
    assert.deepEqual((await ok(c, 'SEARCH EMAILID M99999999999')).untagged, ['* SEARCH']);
    assert.deepEqual((await ok(c, 'SEARCH EMAILID not-ours')).untagged, ['* SEARCH']);

    await ok(c, 'COPY 1 Archive/Plans');
    await ok(c, 'MOVE 3 Archive/Plans');
    await ok(c, 'SELECT Archive/Plans');
    const moved = (await ok(c, 'FETCH 1:2 (EMAILID THREADID)')).untagged;
    assert.deepEqual(idOf(moved, 'EMAILID'), [emails[0], emails[2]]);
    assert.deepEqual(idOf(moved, 'THREADID'), [threads[0], threads[2]]);
    assert.deepEqual((await ok(c, `SEARCH EMAILID ${emails[2]}`)).untagged, ['* SEARCH 2']);
  });

  test('an APPENDed copy of a message one also received (the Sent copy) is in its thread', async () => {
    const { accountId, address } = await stack.account('sentcopy');
    await stack.deliver(accountId, address, rawMessage('first'));
    const c = await login(address);
    const sent = message('mine@example.test', 'Mine');
    await ok(c, `APPEND INBOX {${Buffer.byteLength(sent)}+}\r\n${sent}`);
    await stack.deliver(accountId, address, sent);
    await ok(c, 'SELECT INBOX');
    const threads = idOf((await ok(c, 'FETCH 2:3 THREADID')).untagged, 'THREADID');
    assert.equal(threads[0], threads[1]);
  });
});
