import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, okCommand, rawMessage } from './helpers/stack.js';

/**
 * \Recent (RFC 3501 2.3.2) as IMAP4rev1 clients rely on it: the one session that first SELECTs a new
 * message sees it recent, whichever pod it is on (two gateways here share only the store); EXAMINE
 * and IMAP4rev2 sessions claim nothing. The expectations were compared with Dovecot 2.3.
 */
describe('\\Recent across sessions and gateways', () => {
  let stack: ImapTestStack;
  let podA: ImapGateway;
  let podB: ImapGateway;
  const open: LineClient[] = [];

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    podA = await stack.gateway();
    podB = await stack.gateway();
  });
  after(async () => {
    for (const client of open) client.destroy();
    await stack.close();
  });

  /** A fresh account with `count` messages in its INBOX. */
  async function accountWith(name: string, count: number): Promise<{ accountId: string; address: string }> {
    const account = await stack.account(name);
    for (let i = 1; i <= count; i++)
      await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
    return account;
  }

  async function login(pod: ImapGateway, address: string): Promise<LineClient> {
    const client = await LineClient.imapLogin(pod.ports.imap, address, stack.password);
    open.push(client);
    return client;
  }

  const ok = okCommand;

  test('only the first SELECT sees \\Recent; SEARCH RECENT/NEW/OLD follow it; STORE cannot change it', async () => {
    const account = await accountWith('first', 2);
    const a = await login(podA, account.address);
    const b = await login(podB, account.address);

    const selectedA = await ok(a, 'SELECT INBOX');
    assert.ok(selectedA.includes('* 2 EXISTS') && selectedA.includes('* 2 RECENT'), selectedA.join('\n'));
    assert.deepEqual(await ok(a, 'FETCH 1:* FLAGS'), [
      '* 1 FETCH (FLAGS (\\Recent))',
      '* 2 FETCH (FLAGS (\\Recent))',
    ]);
    assert.deepEqual(await ok(a, 'SEARCH RECENT'), ['* SEARCH 1 2']);
    assert.deepEqual(await ok(a, 'SEARCH NEW'), ['* SEARCH 1 2']);
    assert.deepEqual(await ok(a, 'SEARCH OLD'), ['* SEARCH']);
    assert.deepEqual(await ok(a, 'STORE 1 +FLAGS (\\Seen)'), ['* 1 FETCH (FLAGS (\\Seen \\Recent))']);
    assert.deepEqual(await ok(a, 'SEARCH NEW'), ['* SEARCH 2']);
    // \Recent is the session's, not stored: STORE neither clears nor sets it.
    await ok(a, 'STORE 1 -FLAGS.SILENT (\\Recent)');
    assert.deepEqual(await ok(a, 'FETCH 1 FLAGS'), ['* 1 FETCH (FLAGS (\\Seen \\Recent))']);

    // The other pod's session comes second: nothing is recent for it.
    const selectedB = await ok(b, 'SELECT INBOX');
    assert.ok(selectedB.includes('* 0 RECENT'), selectedB.join('\n'));
    assert.deepEqual(await ok(b, 'FETCH 1:* FLAGS'), ['* 1 FETCH (FLAGS (\\Seen))', '* 2 FETCH (FLAGS ())']);
    assert.deepEqual(await ok(b, 'SEARCH RECENT'), ['* SEARCH']);
    assert.deepEqual(await ok(b, 'SEARCH OLD'), ['* SEARCH 1 2']);
    assert.deepEqual(await ok(b, 'STORE 2 FLAGS (\\Recent \\Flagged)'), ['* 2 FETCH (FLAGS (\\Flagged))']);
  });

  test('EXAMINE shows the unclaimed messages as recent but claims nothing', async () => {
    const account = await accountWith('examine', 2);
    const x = await login(podA, account.address);
    const examined = await ok(x, 'EXAMINE INBOX');
    assert.ok(examined.includes('* 2 RECENT'), examined.join('\n'));
    assert.deepEqual(await ok(x, 'SEARCH RECENT'), ['* SEARCH 1 2']);
    assert.deepEqual(await ok(x, 'FETCH 1 FLAGS'), ['* 1 FETCH (FLAGS (\\Recent))']);

    const y = await login(podB, account.address);
    assert.ok((await ok(y, 'SELECT INBOX')).includes('* 2 RECENT'));
    const z = await login(podA, account.address);
    assert.ok((await ok(z, 'EXAMINE INBOX')).includes('* 0 RECENT'));
  });

  test('STATUS (RECENT) counts the messages no session has claimed', async () => {
    const account = await accountWith('status', 2);
    const s = await login(podA, account.address);
    assert.deepEqual(await ok(s, 'STATUS INBOX (MESSAGES RECENT)'), ['* STATUS INBOX (MESSAGES 2 RECENT 2)']);
    const t = await login(podB, account.address);
    await ok(t, 'SELECT INBOX');
    assert.deepEqual(await ok(s, 'STATUS INBOX (RECENT)'), ['* STATUS INBOX (RECENT 0)']);
    await stack.deliver(account.accountId, account.address, rawMessage('Third'), 'Junk');
    assert.deepEqual(await ok(s, 'STATUS Junk (MESSAGES RECENT)'), ['* STATUS Junk (MESSAGES 1 RECENT 1)']);
  });

  test('a delivery while selected is recent for the session that learns of it first only', async () => {
    const account = await accountWith('delivery', 2);
    const a = await login(podA, account.address);
    const b = await login(podB, account.address);
    await ok(a, 'SELECT INBOX');
    await ok(b, 'SELECT INBOX');

    const tag = a.allocateTag();
    a.write(`${tag} IDLE\r\n`);
    assert.match(await a.readLine(), /^\+ /);
    await stack.deliver(account.accountId, account.address, rawMessage('While selected'));
    assert.equal(await a.readLine(), '* 3 EXISTS');
    assert.equal(await a.readLine(), '* 3 RECENT');
    a.write('DONE\r\n');
    assert.match((await a.collect(tag)).status, /^OK/);
    assert.deepEqual(await ok(a, 'FETCH 3 FLAGS'), ['* 3 FETCH (FLAGS (\\Recent))']);
    assert.deepEqual(await ok(a, 'SEARCH RECENT'), ['* SEARCH 1 2 3']);

    // B learns of it after A claimed it (IDLE starts with a refresh): not recent for B.
    const idleB = b.allocateTag();
    b.write(`${idleB} IDLE\r\n`);
    assert.match(await b.readLine(), /^\+ /);
    assert.equal(await b.readLine(), '* 3 EXISTS');
    assert.equal(await b.readLine(), '* 0 RECENT');
    b.write('DONE\r\n');
    assert.match((await b.collect(idleB)).status, /^OK/);
    assert.deepEqual(await ok(b, 'FETCH 3 FLAGS'), ['* 3 FETCH (FLAGS ())']);
  });

  test('COPY, MOVE and APPEND make the new messages recent in the destination', async () => {
    const account = await accountWith('copy', 2);
    const a = await login(podA, account.address);
    await ok(a, 'SELECT INBOX');
    await ok(a, 'COPY 1 Archive');
    await ok(a, 'MOVE 2 Archive');
    assert.deepEqual(await ok(a, 'STATUS Archive (MESSAGES RECENT)'), [
      '* STATUS Archive (MESSAGES 2 RECENT 2)',
    ]);
    const next = await login(podB, account.address);
    assert.ok((await ok(next, 'SELECT Archive')).includes('* 2 RECENT'));
    assert.deepEqual(await ok(next, 'FETCH 1:* FLAGS'), [
      '* 1 FETCH (FLAGS (\\Recent))',
      '* 2 FETCH (FLAGS (\\Recent))',
    ]);
    // A copy into the mailbox this session has selected is recent for it (Dovecot does the same).
    const copied = await ok(next, 'COPY 1 Archive');
    assert.ok(copied.includes('* 3 EXISTS') && copied.includes('* 3 RECENT'), copied.join('\n'));
  });

  test('APPEND makes the message recent for the next SELECT', async () => {
    const account = await accountWith('append', 0);
    const a = await login(podA, account.address);
    const message = rawMessage('Appended');
    const tag = a.allocateTag();
    a.write(`${tag} APPEND Drafts {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
    assert.match((await a.collect(tag)).status, /^OK \[APPENDUID/);
    assert.deepEqual(await ok(a, 'STATUS Drafts (RECENT)'), ['* STATUS Drafts (RECENT 1)']);
    assert.ok((await ok(a, 'SELECT Drafts')).includes('* 1 RECENT'));
  });

  test('an IMAP4rev2 session sees no \\Recent, gets no RECENT response and claims nothing', async () => {
    const account = await accountWith('rev2', 1);
    const r = await login(podA, account.address);
    await ok(r, 'ENABLE IMAP4rev2');
    const selected = await ok(r, 'SELECT INBOX');
    assert.ok(!selected.some((line) => line.endsWith('RECENT')), selected.join('\n'));
    assert.deepEqual(await ok(r, 'FETCH 1 FLAGS'), ['* 1 FETCH (FLAGS ())']);
    const tag = r.allocateTag();
    r.write(`${tag} IDLE\r\n`);
    assert.match(await r.readLine(), /^\+ /);
    await stack.deliver(account.accountId, account.address, rawMessage('Under rev2'));
    assert.equal(await r.readLine(), '* 2 EXISTS');
    r.write('DONE\r\n');
    assert.deepEqual((await r.collect(tag)).untagged, []);

    const rev1 = await login(podB, account.address);
    assert.ok((await ok(rev1, 'SELECT INBOX')).includes('* 2 RECENT'));
  });
});
