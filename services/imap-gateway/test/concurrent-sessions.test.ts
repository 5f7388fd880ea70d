import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/** Untagged responses an IDLE session receives until `done` says it has seen enough. */
async function idleUntil(client: LineClient, done: (lines: string[]) => boolean): Promise<string[]> {
  const lines: string[] = [];
  while (!done(lines)) lines.push(await client.readLine());
  return lines;
}

describe('two sessions on one mailbox (distributed backends)', () => {
  let stack: ImapTestStack;

  before(async () => {
    stack = await ImapTestStack.create('distributed');
  });

  /** An account of the test's own with messages 1-5 (UIDs 1-5) in INBOX: no test sees another's changes. */
  async function accountWithFive(name: string): Promise<{ accountId: string; address: string }> {
    const account = await stack.account(name);
    for (let i = 1; i <= 5; i++)
      await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
    return account;
  }
  after(async () => {
    await stack.close();
  });

  test('an expunge by one session reaches the other only where RFC 9051 allows it', async () => {
    const account = await accountWithFive('expunge');
    const gateway = await stack.gateway();
    const a = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const b = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      assert.ok((await a.command('SELECT INBOX')).untagged.includes('* 5 EXISTS'));
      await b.command('SELECT INBOX');
      await b.command('UID STORE 2 +FLAGS.SILENT (\\Deleted)');
      const expunged = await b.command('EXPUNGE');
      assert.deepEqual(expunged.untagged, ['* 2 EXPUNGE']);

      // A still numbers the messages as before: message 2 is gone but keeps its number until told.
      const fetched = await a.command('FETCH 3 (UID)');
      assert.ok(fetched.untagged.includes('* 3 FETCH (UID 3)'));
      assert.ok(!fetched.untagged.some((line) => line.endsWith('EXPUNGE')), 'no EXPUNGE during FETCH');
      const search = await a.command('SEARCH ALL');
      assert.ok(search.untagged.includes('* SEARCH 1 3 4 5'));
      assert.ok(!search.untagged.some((line) => line.endsWith('EXPUNGE')), 'no EXPUNGE during SEARCH');
      // NOOP may report it; after that, message 3 is UID 4.
      const noop = await a.command('NOOP');
      assert.deepEqual(noop.untagged, ['* 2 EXPUNGE']);
      assert.ok((await a.command('FETCH 3 (UID)')).untagged.includes('* 3 FETCH (UID 4)'));

      // A flag change by B shows up in A as an unsolicited FETCH.
      await b.command('STORE 1 +FLAGS.SILENT (\\Flagged)');
      const flags = await a.command('NOOP');
      assert.deepEqual(flags.untagged, ['* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))']);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test('MOVE by one session: the other, with QRESYNC, gets VANISHED; COPYUID pairs the UIDs', async () => {
    const account = await accountWithFive('move');
    const gateway = await stack.gateway();
    const a = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    const b = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      await a.command('ENABLE QRESYNC');
      const selected = await a.command('SELECT INBOX');
      const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(selected.untagged.join('\n'))![1]);
      await b.command('SELECT INBOX');
      const moved = await b.command('UID MOVE 4:5 Archive');
      assert.match(moved.untagged[0]!, /^\* OK \[COPYUID \d+ 4:5 1:2\]/);
      assert.deepEqual(moved.untagged.slice(1), ['* 5 EXPUNGE', '* 4 EXPUNGE']);
      const tag = a.allocateTag();
      a.write(`${tag} IDLE\r\n`);
      assert.match(await a.readLine(), /^\+ /);
      await b.command('UID STORE 1 +FLAGS.SILENT (\\Seen)');
      const heard = await idleUntil(a, (lines) => lines.some((line) => line.includes('FETCH')));
      assert.ok(heard.includes('* VANISHED 4:5'), heard.join('\n'));
      a.write('DONE\r\n');
      assert.match((await a.collect(tag)).status, /^OK/);
      assert.deepEqual(await stack.uids(account.accountId, 'Archive'), [1, 2]);

      // A client reconnecting with QRESYNC learns what vanished since its MODSEQ.
      const uidvalidity = /UIDVALIDITY (\d+)/.exec(selected.untagged.join('\n'))![1];
      const c = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
      try {
        await c.command('ENABLE QRESYNC');
        const resync = await c.command(`SELECT INBOX (QRESYNC (${uidvalidity} ${modseq} 1:5))`);
        assert.ok(resync.untagged.includes('* VANISHED (EARLIER) 4:5'), resync.untagged.join('\n'));
        assert.ok(
          resync.untagged.some((line) => /^\* 1 FETCH \(UID 1 FLAGS \(.*\\Seen.*\) MODSEQ/.test(line)),
        );
      } finally {
        c.destroy();
      }
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test('two gateways sharing Redis: IDLE on one hears an APPEND made through the other', async () => {
    const account = await accountWithFive('idle-append');
    const first = await stack.gateway();
    const second = await stack.gateway();
    const idler = await LineClient.imapLogin(first.ports.imap, account.address, stack.password);
    const writer = await LineClient.imapLogin(second.ports.imap, account.address, stack.password);
    try {
      const selected = await idler.command('SELECT INBOX');
      const exists = Number(/\* (\d+) EXISTS/.exec(selected.untagged.join('\n'))![1]);
      const tag = idler.allocateTag();
      idler.write(`${tag} IDLE\r\n`);
      assert.match(await idler.readLine(), /^\+ /);
      const message = rawMessage('Through the other pod');
      const appended = await writer.command(`APPEND INBOX {${Buffer.byteLength(message)}+}\r\n${message}`);
      assert.match(appended.status, /^OK \[APPENDUID/);
      const heard = await idleUntil(idler, (lines) => lines.some((line) => line.endsWith('EXISTS')));
      assert.ok(heard.includes(`* ${exists + 1} EXISTS`), heard.join('\n'));
      idler.write('DONE\r\n');
      assert.match((await idler.collect(tag)).status, /^OK IDLE terminated/);
    } finally {
      idler.destroy();
      writer.destroy();
    }
  });
});
