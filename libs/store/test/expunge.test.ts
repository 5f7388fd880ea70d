import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { expungeMessages } from '../src/expunge.js';
import { migrate } from '../src/migrate.js';
import { createPool } from '../src/pool.js';
import type { Pool } from '../src/pool.js';
import { readPop3Maildrop, recordPop3Octets } from '../src/pop3-maildrop.js';
import { createAccount, deliverMessage, writerFor } from './fixtures.js';

let db: FreshDatabase;
let pool: Pool;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url, { max: 12 });
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

function deliver(accountId: string, address: string, size = 100) {
  return deliverMessage(pool, { accountId, address }, size);
}

async function usedBytes(accountId: string): Promise<number> {
  const { rows } = await pool.query<{ used_bytes: string }>('SELECT used_bytes FROM accounts WHERE id = $1', [
    accountId,
  ]);
  return Number(rows[0]!.used_bytes);
}

test('expunge removes rows, records one new MODSEQ per call and frees the bytes', async () => {
  const { accountId, address } = await createAccount(pool);
  const delivered = [await deliver(accountId, address, 100), await deliver(accountId, address, 200)];
  await deliver(accountId, address, 300);
  const mailboxId = delivered[0]!.mailboxId;
  assert.equal(await usedBytes(accountId), 600);

  const result = await expungeMessages(writerFor(pool), {
    accountId,
    mailboxId,
    uids: [delivered[1]!.uid, delivered[0]!.uid, delivered[0]!.uid, 999],
  });
  assert.deepEqual(result.expunged, [delivered[0]!.uid, delivered[1]!.uid]);
  const { rows } = await pool.query<{ highestmodseq: string }>(
    'SELECT highestmodseq FROM mailboxes WHERE id = $1',
    [mailboxId],
  );
  assert.equal(result.modseq, Number(rows[0]!.highestmodseq));
  const expunged = await pool.query<{ uid: string; modseq: string }>(
    'SELECT uid, modseq FROM expunged WHERE mailbox_id = $1 ORDER BY uid',
    [mailboxId],
  );
  assert.deepEqual(
    expunged.rows.map((row) => [Number(row.uid), Number(row.modseq)]),
    delivered.map((d) => [d.uid, result.modseq]),
  );
  assert.equal(await usedBytes(accountId), 300);

  const again = await expungeMessages(writerFor(pool), { accountId, mailboxId, uids: [delivered[0]!.uid] });
  assert.deepEqual(again, { expunged: [], modseq: null });
});

test("expunge never touches another account's mailbox", async () => {
  const owner = await createAccount(pool);
  const intruder = await createAccount(pool);
  const delivered = await deliver(owner.accountId, owner.address);
  const result = await expungeMessages(writerFor(pool), {
    accountId: intruder.accountId,
    mailboxId: delivered.mailboxId,
    uids: [delivered.uid],
  });
  assert.deepEqual(result, { expunged: [], modseq: null });
  assert.equal((await readPop3Maildrop(pool, owner.accountId)).messages.length, 1);
});

test('a message row still held by another mailbox survives the expunge', async () => {
  const { accountId, address } = await createAccount(pool);
  const delivered = await deliver(accountId, address, 50);
  // An IMAP COPY keeps the same message row under another mailbox.
  const archive = await pool.query<{ id: string }>(
    `INSERT INTO mailboxes (account_id, name) VALUES ($1, 'Archive') RETURNING id`,
    [accountId],
  );
  await pool.query(
    `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq) VALUES ($1, $2, 1, $3, 1)`,
    [accountId, archive.rows[0]!.id, delivered.messageId],
  );
  await expungeMessages(writerFor(pool), {
    accountId,
    mailboxId: delivered.mailboxId,
    uids: [delivered.uid],
  });
  const { rows } = await pool.query('SELECT 1 FROM messages WHERE id = $1', [delivered.messageId]);
  assert.equal(rows.length, 1);
  assert.equal(await usedBytes(accountId), 50);
});

test('expunges and deliveries to one account run concurrently without deadlock or lost MODSEQ', async () => {
  const { accountId, address } = await createAccount(pool);
  const first = await Promise.all(Array.from({ length: 10 }, () => deliver(accountId, address)));
  const mailboxId = first[0]!.mailboxId;
  const work = [
    ...first.map((d) => expungeMessages(writerFor(pool), { accountId, mailboxId, uids: [d.uid] })),
    ...Array.from({ length: 10 }, () => deliver(accountId, address)),
  ];
  const results = await Promise.all(work);
  const modseqs = results.map((r) => r.modseq);
  assert.equal(new Set(modseqs).size, 20, 'every change got its own MODSEQ');
  const maildrop = await readPop3Maildrop(pool, accountId);
  assert.equal(maildrop.messages.length, 10);
});

test('POP3 sizes are kept per blob and read back with the maildrop', async () => {
  const { accountId, address } = await createAccount(pool);
  const delivered = await deliver(accountId, address, 100);
  const before = await readPop3Maildrop(pool, accountId);
  assert.equal(before.messages[0]!.octets, null);
  const blobKey = before.messages[0]!.blobKey;
  await recordPop3Octets(pool, [{ blobKey, octets: 102 }]);
  await recordPop3Octets(pool, [{ blobKey, octets: 102 }]);
  const after = await readPop3Maildrop(pool, accountId);
  assert.deepEqual(after.messages, [
    { uid: delivered.uid, messageId: delivered.messageId, blobKey, size: 100, octets: 102 },
  ]);
  assert.equal(after.mailboxId, delivered.mailboxId);
});
