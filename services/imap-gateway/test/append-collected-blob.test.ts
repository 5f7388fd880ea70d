import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { collectBlobs, expungeMessages } from '@correo/store';
import { writerFor } from '@correo/store/testing';
import { eventually } from '@correo/testkit';
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack, rawMessage } from './helpers/stack.js';

/*
 * A client APPENDs bytes it had before (a message it downloaded, deleted and now puts back) while the
 * blob collector is deleting those very bytes. Content addressing makes the APPEND's blob the one being
 * collected; the store's lock and fence (libs/store blob-collection.ts) refuse the APPEND's insert, the
 * gateway stores the bytes again and retries, and the message reads back whole.
 */
let stack: ImapTestStack;

before(async () => {
  stack = await ImapTestStack.create('embedded');
});
after(async () => {
  await stack.close();
});

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

test('an APPEND of bytes the collector is deleting stores them again and the message reads back', async () => {
  // A body the APPEND puts in the blob store (IMAP_DATABASE_BODY_BYTES 0).
  const gateway = await stack.gateway({ databaseBodyBytes: 0 });
  const stored = await appendWhileCollected(gateway, 'returning');
  assert.notEqual(await stack.blobs.stat(stored), null);
});

test('an APPEND whose small body the statement keeps in PostgreSQL, while the collector deletes those bytes, reads back', async () => {
  // The default: a body held in memory and this small goes into message_bodies with the APPEND's rows;
  // the retried statement writes it again.
  const gateway = await stack.gateway();
  const stored = await appendWhileCollected(gateway, 'returning-small');
  const { rowCount } = await stack.pool.query('SELECT 1 FROM message_bodies WHERE blob_key = $1', [stored]);
  assert.equal(rowCount, 1);
});

/** Runs the race above through `gateway`; resolves the blob key the APPEND stored again. */
async function appendWhileCollected(gateway: ImapGateway, name: string): Promise<string> {
  const account = await stack.account(name);
  const raw = rawMessage('Coming back', ['I was expunged once.']);
  const first = await stack.deliver(account.accountId, account.address, raw);
  const [{ blob_key: key }] = (
    await stack.pool.query<{ blob_key: string }>(
      `SELECT m.blob_key FROM messages m JOIN mailbox_messages mm ON mm.message_id = m.id
       WHERE mm.mailbox_id = $1 AND mm.uid = $2`,
      [first.mailboxId, first.uid],
    )
  ).rows as [{ blob_key: string }];
  await expungeMessages(writerFor(stack.pool), {
    accountId: account.accountId,
    mailboxId: first.mailboxId,
    uids: [first.uid],
  });

  // The collector holds the key's lock and has found it unreferenced; the bytes are still there.
  const found = gate();
  const proceed = gate();
  const collecting = collectBlobs(
    stack.pool,
    stack.blobs,
    { releasedGraceSeconds: 0, unclaimedGraceSeconds: 86_400, fenceSeconds: 3600 },
    {
      async beforeDelete(keys) {
        if (!keys.includes(key)) return;
        found.open();
        await proceed.wait;
      },
    },
  );
  await found.wait;

  const imap = new ImapFlow({
    host: '127.0.0.1',
    port: gateway.ports.imap,
    secure: false,
    doSTARTTLS: false,
    auth: { user: account.address, pass: stack.password },
    logger: false,
  });
  await imap.connect();
  try {
    const appending = imap.append('INBOX', Buffer.from(raw));
    // The APPEND stored its blob (the same key) and now waits for the collector's lock in its insert.
    await eventually('the APPEND waiting for the blob lock', async () => {
      const { rowCount } = await stack.pool.query(
        `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()`,
      );
      return (rowCount ?? 0) > 0;
    });
    proceed.open();
    assert.deepEqual((await collecting).collected, [key]);

    const appended = await appending;
    assert.ok(appended && typeof appended === 'object' && appended.uid, 'APPEND completed with APPENDUID');
    await imap.mailboxOpen('INBOX');
    const fetched = await imap.fetchOne(String(appended.uid), { source: true }, { uid: true });
    assert.ok(fetched);
    assert.equal(fetched.source?.toString('utf8'), raw);
    return key;
  } finally {
    await imap.logout().catch(() => undefined);
  }
}
