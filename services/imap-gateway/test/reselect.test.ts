import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/**
 * SELECT of the mailbox a session has selected already is answered from its view (brought up to date
 * first) instead of a new read of every message: what the client is told must be what a fresh SELECT
 * tells, whatever changed meanwhile (arrivals, flags, keywords, expunges by other sessions).
 */
describe('SELECT of the selected mailbox again', () => {
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

  /** SELECT's untagged responses without the lines that differ between sessions by design. */
  const comparable = (lines: string[]) =>
    lines.filter((line) => !/ RECENT$|\[CLOSED\]/.test(line)).map((line) => line.replace(/\s+$/, ''));

  test("another session's changes are all in the second SELECT, as in a fresh session's first", async () => {
    const account = await stack.account('reselect');
    for (let i = 1; i <= 3; i++)
      await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
    const a = await login(account.address);
    const b = await login(account.address);

    const first = await ok(a, 'SELECT INBOX');
    assert.ok(first.includes('* 3 EXISTS') && first.includes('* 3 RECENT'), first.join('\n'));

    // Meanwhile, elsewhere: a keyword, \Seen, an expunge, an APPEND, and a delivery.
    await ok(b, 'SELECT INBOX');
    await ok(b, 'STORE 1 +FLAGS (\\Seen project-x)');
    await ok(b, 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    await ok(b, 'EXPUNGE');
    await ok(b, 'CLOSE');
    const tag = b.allocateTag();
    const appended = rawMessage('Appended');
    b.write(`${tag} APPEND INBOX {${Buffer.byteLength(appended)}+}\r\n${appended}\r\n`);
    assert.match((await b.collect(tag)).status, /^OK/);
    await stack.deliver(account.accountId, account.address, rawMessage('Delivered'));

    const second = await ok(a, 'SELECT INBOX');
    assert.ok(
      second.some((line) => line.includes('[CLOSED]')),
      second.join('\n'),
    );
    assert.ok(!second.some((line) => / EXPUNGE$/.test(line)), 'a new SELECT reports no EXPUNGE');
    // The two messages that arrived were claimed by nobody before: this SELECT's \Recent.
    assert.ok(second.includes('* 2 RECENT'), second.join('\n'));

    const c = await login(account.address);
    const fresh = await ok(c, 'SELECT INBOX');
    assert.ok(fresh.includes('* 0 RECENT'), fresh.join('\n'));
    assert.deepEqual(comparable(second), comparable(fresh));
    assert.ok(fresh.includes('* 4 EXISTS'), fresh.join('\n'));
    assert.ok(
      fresh.some((line) => line.startsWith('* FLAGS') && line.includes('project-x')),
      fresh.join('\n'),
    );

    // The messages and their flags as the re-selected session now sees them, against the fresh one.
    const flags = (lines: string[]) => lines.map((line) => line.replace(/ ?\\Recent/, ''));
    assert.deepEqual(
      flags(await ok(a, 'FETCH 1:* (UID FLAGS)')),
      flags(await ok(c, 'FETCH 1:* (UID FLAGS)')),
    );
    assert.deepEqual(await ok(a, 'SEARCH RECENT'), ['* SEARCH 3 4']);
  });

  test('its own expunge and APPEND, and EXAMINE after SELECT, read as a fresh session reads', async () => {
    const account = await stack.account('reselect-own');
    for (let i = 1; i <= 2; i++)
      await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
    const a = await login(account.address);
    await ok(a, 'SELECT INBOX');
    await ok(a, 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await ok(a, 'EXPUNGE');
    const tag = a.allocateTag();
    const appended = rawMessage('Own');
    a.write(`${tag} APPEND INBOX (\\Flagged) {${Buffer.byteLength(appended)}+}\r\n${appended}\r\n`);
    assert.match((await a.collect(tag)).status, /^OK/);
    const again = await ok(a, 'SELECT INBOX');
    const examined = await ok(a, 'EXAMINE INBOX');
    const c = await login(account.address);
    const fresh = await ok(c, 'SELECT INBOX');
    assert.deepEqual(comparable(again), comparable(fresh));
    assert.ok(fresh.includes('* 2 EXISTS'), fresh.join('\n'));
    // EXAMINE reads the store (read-only: PERMANENTFLAGS empty) and agrees on the rest.
    const withoutAccess = (lines: string[]) =>
      comparable(lines).filter((line) => !line.includes('PERMANENTFLAGS'));
    assert.deepEqual(withoutAccess(examined), withoutAccess(fresh));
  });
});
