import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/**
 * APPEND into the mailbox the session has selected: the session claims \Recent for what it appends in
 * the APPEND's own statement and its view takes the new messages without a re-read, unless something
 * else changed the mailbox meanwhile (then it re-reads, as before). Either way the client is told the
 * same: EXISTS, RECENT, a new keyword in FLAGS, and \Recent on exactly the messages no one claimed.
 */
describe('APPEND into the selected mailbox', () => {
  let stack: ImapTestStack;
  let pod: ImapGateway;
  const open: LineClient[] = [];

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    pod = await stack.gateway();
  });
  after(async () => {
    for (const client of open) client.destroy();
    await stack.close();
  });

  async function login(address: string): Promise<LineClient> {
    const client = await LineClient.imapLogin(pod.ports.imap, address, stack.password);
    open.push(client);
    return client;
  }

  async function ok(client: LineClient, line: string): Promise<string[]> {
    const done = await client.command(line);
    assert.match(done.status, /^OK/, `${line}: ${done.status}`);
    return done.untagged;
  }

  async function append(client: LineClient, flags: string, subject: string): Promise<string[]> {
    const message = rawMessage(subject);
    const tag = client.allocateTag();
    client.write(`${tag} APPEND INBOX ${flags} {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
    const done = await client.collect(tag);
    assert.match(done.status, /^OK \[APPENDUID /, done.status);
    return done.untagged;
  }

  async function accountWith(name: string, count: number) {
    const account = await stack.account(name);
    for (let i = 1; i <= count; i++)
      await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
    return account;
  }

  test('nothing else changed: EXISTS, RECENT and the new keyword at once; the message is \\Recent to the appender only', async () => {
    const account = await accountWith('append-quiet', 1);
    const a = await login(account.address);
    assert.ok((await ok(a, 'SELECT INBOX')).includes('* 1 RECENT'));
    const untagged = await append(a, '(\\Flagged tag1)', 'Own');
    assert.ok(
      untagged.some((line) => line.startsWith('* FLAGS') && line.includes('tag1')),
      untagged.join('\n'),
    );
    assert.ok(untagged.includes('* 2 EXISTS') && untagged.includes('* 2 RECENT'), untagged.join('\n'));
    assert.deepEqual(await ok(a, 'FETCH 2 (FLAGS)'), ['* 2 FETCH (FLAGS (\\Flagged tag1 \\Recent))']);
    // It is in the store as the view holds it: a second session reads the same flags, nothing recent.
    const b = await login(account.address);
    assert.ok((await ok(b, 'SELECT INBOX')).includes('* 0 RECENT'));
    assert.deepEqual(await ok(b, 'FETCH 2 (FLAGS)'), ['* 2 FETCH (FLAGS (\\Flagged tag1))']);
    // The next change is heard and read as usual.
    await ok(b, 'STORE 2 +FLAGS (\\Seen)');
    assert.ok(
      (await ok(a, 'FETCH 2 (FLAGS)')).includes('* 2 FETCH (FLAGS (\\Flagged \\Seen tag1 \\Recent))'),
    );
  });

  test('a delivery the session has not read yet: the APPEND claims nothing itself, the re-read claims both', async () => {
    const account = await accountWith('append-delivery', 1);
    const a = await login(account.address);
    await ok(a, 'SELECT INBOX');
    // A delivery arrives while A is between commands: unclaimed until A reads it.
    await stack.deliver(account.accountId, account.address, rawMessage('Delivered'));
    const untagged = await append(a, '()', 'Own');
    // Message 1 was this session's from its SELECT; 2 and 3 are claimed by the re-read.
    assert.ok(untagged.includes('* 3 EXISTS') && untagged.includes('* 3 RECENT'), untagged.join('\n'));
    assert.deepEqual(await ok(a, 'SEARCH RECENT'), ['* SEARCH 1 2 3']);
    const b = await login(account.address);
    assert.ok((await ok(b, 'SELECT INBOX')).includes('* 0 RECENT'));
  });

  test("another session's flag change first: the view re-reads, and still shows its APPEND as \\Recent", async () => {
    const account = await accountWith('append-flags', 1);
    const a = await login(account.address);
    const b = await login(account.address);
    await ok(a, 'SELECT INBOX');
    await ok(b, 'SELECT INBOX');
    await ok(b, 'STORE 1 +FLAGS (\\Answered)');
    const untagged = await append(a, '(\\Draft)', 'Own');
    assert.ok(untagged.includes('* 2 EXISTS') && untagged.includes('* 2 RECENT'), untagged.join('\n'));
    assert.deepEqual(await ok(a, 'FETCH 1:2 (FLAGS)'), [
      '* 1 FETCH (FLAGS (\\Answered \\Recent))',
      '* 2 FETCH (FLAGS (\\Draft \\Recent))',
    ]);
    assert.deepEqual(await ok(b, 'NOOP'), ['* 2 EXISTS', '* 0 RECENT']);
  });
});
