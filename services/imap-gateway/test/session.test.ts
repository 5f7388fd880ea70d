import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImapGateway } from '../src/index.js';
import { LineClient } from '@correo/testkit';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

describe('IMAP session over a raw socket (embedded backends)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let account: { accountId: string; address: string };

  before(async () => {
    stack = await ImapTestStack.create('embedded');
    gateway = await stack.gateway();
    account = await stack.account('raw');
    for (let i = 1; i <= 3; i++)
      await stack.deliver(account.accountId, account.address, rawMessage(`Message ${i}`));
  });
  after(async () => {
    await stack.close();
  });

  test('greeting, CAPABILITY before and after login, bad syntax and wrong state', async () => {
    const client = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      const greeting = await client.readLine();
      assert.match(greeting, /^\* OK \[CAPABILITY [^\]]*IMAP4rev2[^\]]*STARTTLS[^\]]*AUTH=PLAIN/);
      const garbage = await client.command('FROB');
      assert.match(garbage.status, /^BAD Unknown command FROB/);
      const early = await client.command('SELECT INBOX');
      assert.match(early.status, /^BAD SELECT is not allowed in the not-authenticated state/);
      const wrong = await client.command(`LOGIN ${account.address} wrong`);
      assert.match(wrong.status, /^NO \[AUTHENTICATIONFAILED\]/);
      const login = await client.command(`LOGIN ${account.address} "${stack.password}"`);
      assert.match(login.status, /^OK \[CAPABILITY [^\]]*UIDPLUS[^\]]*\] Logged in/);
      const caps = await client.command('CAPABILITY');
      assert.match(caps.untagged[0]!, /QRESYNC/);
      assert.doesNotMatch(caps.untagged[0]!, /STARTTLS/);
    } finally {
      client.destroy();
    }
  });

  test('SELECT reports counts, UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ', async () => {
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      const selected = await client.command('SELECT INBOX');
      assert.match(selected.status, /^OK \[READ-WRITE\]/);
      assert.ok(selected.untagged.includes('* 3 EXISTS'));
      assert.ok(selected.untagged.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l)));
      assert.ok(selected.untagged.some((l) => l.startsWith('* OK [UIDNEXT 4]')));
      assert.ok(selected.untagged.some((l) => /^\* OK \[HIGHESTMODSEQ \d+\]/.test(l)));
      const fetched = await client.command('FETCH 1:* (UID FLAGS RFC822.SIZE)');
      assert.equal(fetched.untagged.length, 3);
      assert.match(fetched.untagged[0]!, /^\* 1 FETCH \(UID 1 FLAGS \(\) RFC822\.SIZE \d+\)$/);
      const body = await client.command('UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.match(
        body.untagged[0]!,
        /^\* 2 FETCH \(UID 2 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: Message 2\r\n\r\n\)$/,
      );
      const partial = await client.command('FETCH 3 (BODY[TEXT]<0.3>)');
      // Body data is always a literal, however short (imapflow reads it from literals only).
      assert.match(partial.untagged[0]!, /^\* 3 FETCH \(BODY\[TEXT\]<0> \{3\}\r\nHel FLAGS \(\\Seen\)\)$/);
      const search = await client.command('SEARCH SUBJECT "message 2"');
      assert.deepEqual(search.untagged, ['* SEARCH 2']);
      const charset = await client.command('SEARCH CHARSET KOI8-R SUBJECT x');
      assert.match(charset.status, /^NO \[BADCHARSET \(US-ASCII UTF-8\)\]/);
      const unseen = await client.command('UID SEARCH RETURN (MIN COUNT) UNSEEN');
      assert.match(unseen.untagged[0]!, /^\* ESEARCH \(TAG "a\d+"\) UID MIN 1 COUNT 2$/);
      const stored = await client.command('STORE 1 +FLAGS (\\Deleted)');
      assert.deepEqual(stored.untagged, ['* 1 FETCH (FLAGS (\\Deleted))']);
      const expunged = await client.command('EXPUNGE');
      assert.deepEqual(expunged.untagged, ['* 1 EXPUNGE']);
      assert.deepEqual(await stack.uids(account.accountId), [2, 3]);
    } finally {
      client.destroy();
    }
  });

  test('APPEND with a synchronizing literal gets APPENDUID; LITERAL+ needs no continuation', async () => {
    const client = await LineClient.imapLogin(gateway.ports.imap, account.address, stack.password);
    try {
      const message = rawMessage('Appended');
      const tag = client.allocateTag();
      client.write(`${tag} APPEND Drafts (\\Draft) {${Buffer.byteLength(message)}}\r\n`);
      assert.match(await client.readLine(), /^\+ /);
      client.write(`${message}\r\n`);
      const done = await client.collect(tag);
      assert.match(done.status, /^OK \[APPENDUID \d+ 1\] APPEND completed/);
      const plus = await client.command(`APPEND Drafts {${Buffer.byteLength(message)}+}\r\n${message}`);
      assert.match(plus.status, /^OK \[APPENDUID \d+ 2\]/);
      const missing = await client.command(`APPEND Nowhere {5+}\r\nHello`);
      assert.match(missing.status, /^NO \[TRYCREATE\]/);
      const status = await client.command('STATUS Drafts (MESSAGES UIDNEXT UNSEEN SIZE)');
      assert.match(status.untagged[0]!, /^\* STATUS Drafts \(MESSAGES 2 UIDNEXT 3 UNSEEN 2 SIZE \d+\)$/);
    } finally {
      client.destroy();
    }
  });
});
