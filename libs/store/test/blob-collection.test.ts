import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createFsBlobStore } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import { eventually, freshDatabase, makeDataDir } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import {
  BlobCollectedError,
  collectBlobs,
  recordUnclaimedBlobs,
  writeReferencingStoredBlobs,
} from '../src/blob-collection.js';
import type { BlobCollectionPolicy } from '../src/blob-collection.js';
import { archiveDeadLetter, recordDeadLetterReplay } from '../src/dead-letters.js';
import { deliverToMailbox, insertMessage, insertMessages } from '../src/delivery.js';
import { expungeMessages } from '../src/expunge.js';
import { deleteImapMailbox, createImapMailbox } from '../src/imap/mailbox-tree.js';
import { migrate } from '../src/migrate.js';
import { recordPop3Octets } from '../src/pop3-maildrop.js';
import { createPool } from '../src/pool.js';
import type { Pool } from '../src/pool.js';
import { deferRelayJob, deleteRelayJob } from '../src/relay-queue.js';
import { inTransaction } from '../src/transaction.js';
import { createAccount, deliverMessage, messageFacts, writerFor } from './fixtures.js';

let db: FreshDatabase;
let pool: Pool;
let dir: string;
let blobs: BlobStore;

/** Everything due at once: the tests decide what is old by moving `since` back, never by waiting. */
const NOW: BlobCollectionPolicy = { releasedGraceSeconds: 0, unclaimedGraceSeconds: 0, fenceSeconds: 3600 };
/** The shipped defaults' shape: an hour for released blobs, a week for unclaimed ones. */
const DEFAULTS: BlobCollectionPolicy = {
  releasedGraceSeconds: 3600,
  unclaimedGraceSeconds: 7 * 86400,
  fenceSeconds: 3600,
};

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url, { max: 12 });
  dir = await makeDataDir('correo-blobs-');
  blobs = createFsBlobStore({ dir });
});

after(async () => {
  await pool?.end();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function storeBody(
  text = `Subject: ${randomUUID()}\r\n\r\nbody\r\n`,
): Promise<{ key: string; size: number; body: Buffer }> {
  const body = Buffer.from(text);
  const { key, size } = await blobs.put(Readable.from([body]));
  return { key, size, body };
}

function deliver(address: string, accountId: string, key: string, size: number) {
  return deliverMessage(pool, { accountId, address }, size, key);
}

async function exists(key: string): Promise<boolean> {
  return (await blobs.stat(key)) !== null;
}

/** Makes every pending candidate look `seconds` older than it is. */
async function age(seconds: number): Promise<void> {
  await pool.query(
    `UPDATE blob_candidates SET since = since - make_interval(secs => $1) WHERE collected_at IS NULL`,
    [seconds],
  );
}

test('an expunged message loses its bytes (and its POP3 octet count) once the collector runs', async () => {
  const { accountId, address } = await createAccount(pool);
  const { key, size } = await storeBody();
  const stored = await deliver(address, accountId, key, size);
  await recordPop3Octets(pool, [{ blobKey: key, octets: size }]);

  assert.deepEqual(
    (await collectBlobs(pool, blobs, NOW)).collected,
    [],
    'a referenced blob is never collected',
  );
  assert.ok(await exists(key));

  await expungeMessages(writerFor(pool), { accountId, mailboxId: stored.mailboxId, uids: [stored.uid] });
  assert.ok(await exists(key), 'expunge itself leaves the bytes to the collector');
  assert.deepEqual((await collectBlobs(pool, blobs, NOW)).collected, [key]);
  assert.equal(await exists(key), false);
  const octets = await pool.query('SELECT 1 FROM pop3_octets WHERE blob_key = $1', [key]);
  assert.equal(octets.rowCount, 0);
});

test('a released blob waits out its grace period, then goes', async () => {
  const { accountId, address } = await createAccount(pool);
  const { key, size } = await storeBody();
  const stored = await deliver(address, accountId, key, size);
  await expungeMessages(writerFor(pool), { accountId, mailboxId: stored.mailboxId, uids: [stored.uid] });

  assert.deepEqual((await collectBlobs(pool, blobs, DEFAULTS)).collected, []);
  assert.ok(await exists(key), 'younger than the grace period');
  await age(3601);
  assert.ok((await collectBlobs(pool, blobs, DEFAULTS)).collected.includes(key));
  assert.equal(await exists(key), false);
});

test('deleting an account releases every blob of its mail; a blob another account holds stays', async () => {
  const owner = await createAccount(pool);
  const other = await createAccount(pool);
  const own = await storeBody();
  const shared = await storeBody();
  await deliver(owner.address, owner.accountId, own.key, own.size);
  await deliver(owner.address, owner.accountId, shared.key, shared.size);
  await deliver(other.address, other.accountId, shared.key, shared.size);
  const archive = await createImapMailbox(pool, owner.accountId, 'Archive');
  assert.equal(archive.kind, 'created');

  // The directory deletes an account with this statement; mailboxes and messages go by cascade.
  await pool.query('DELETE FROM accounts WHERE id = $1', [owner.accountId]);
  const { collected, revived } = await collectBlobs(pool, blobs, NOW);
  assert.ok(collected.includes(own.key));
  assert.ok(revived >= 1, 'the shared blob was a candidate and was found referenced');
  assert.ok(!collected.includes(shared.key), 'still in the other account');
  assert.equal(await exists(own.key), false);
  assert.ok(await exists(shared.key));
});

test('deleting a mailbox releases the blobs of the messages only it held', async () => {
  const { accountId, address } = await createAccount(pool);
  await createImapMailbox(pool, accountId, 'Old');
  const { key, size } = await storeBody();
  const outcome = await deliverToMailbox(writerFor(pool), {
    eventId: randomUUID(),
    recipient: address,
    accountId,
    mailboxName: 'Old',
    message: messageFacts(key, size),
  });
  assert.equal(outcome.kind, 'delivered');
  assert.equal(await deleteImapMailbox(pool, accountId, 'Old'), 'deleted');
  assert.ok((await collectBlobs(pool, blobs, NOW)).collected.includes(key));
  assert.equal(await exists(key), false);
});

test('a blob a deferred relay job needs stays until the job leaves the queue', async () => {
  const { accountId, address } = await createAccount(pool);
  const { key, size } = await storeBody();
  const stored = await deliver(address, accountId, key, size);
  const jobId = randomUUID();
  await deferRelayJob(pool, {
    jobId,
    originalEventId: randomUUID(),
    mailFrom: address,
    destinationDomain: 'remote.test',
    job: new Uint8Array([1]),
    blobKey: key,
    attempts: 1,
    queuedAt: new Date(),
    nextAttemptAt: new Date(Date.now() + 3_600_000),
    expiresAt: new Date(Date.now() + 86_400_000),
    lastError: '451 4.3.0 later',
    recipients: [{ recipient: 'x@remote.test', reply: '451 4.3.0 later' }],
  });
  await expungeMessages(writerFor(pool), { accountId, mailboxId: stored.mailboxId, uids: [stored.uid] });
  assert.ok(!(await collectBlobs(pool, blobs, NOW)).collected.includes(key));
  assert.ok(await exists(key), 'the relay still reads it');

  const row = await pool.query<{ id: string }>('SELECT id FROM relay_queue WHERE job_id = $1', [jobId]);
  assert.deepEqual(await deleteRelayJob(pool, { tenantId: null }, row.rows[0]!.id), {
    kind: 'done',
    value: true,
  });
  assert.ok((await collectBlobs(pool, blobs, NOW)).collected.includes(key));
  assert.equal(await exists(key), false);
});

test('a dead letter keeps its body until it is replayed', async () => {
  const { key } = await storeBody();
  const letter = {
    group: 'mda',
    topic: 'mail.accepted',
    partition: 0,
    offset: String(Date.now()),
    key: undefined,
    headers: {},
    value: Buffer.from('the encoded event'),
    error: 'a bug',
    attempts: 5,
    failedAt: new Date(),
    blobKey: key,
  };
  assert.equal(await archiveDeadLetter(pool, letter), true);
  await recordUnclaimedBlobs(pool, blobs);
  await age(7 * 86400 + 1);
  assert.ok(!(await collectBlobs(pool, blobs, DEFAULTS)).collected.includes(key), 'kept for the replay');
  assert.ok(await exists(key));

  const { rows } = await pool.query<{ id: string }>('SELECT id FROM dead_letters WHERE blob_key = $1', [key]);
  await recordDeadLetterReplay(pool, rows[0]!.id);
  // Replayed: the event is back in the bus; the body is released like any other.
  assert.ok(!(await collectBlobs(pool, blobs, DEFAULTS)).collected.includes(key), 'released grace first');
  await age(3601);
  assert.ok((await collectBlobs(pool, blobs, DEFAULTS)).collected.includes(key));
  assert.equal(await exists(key), false);

  // A letter whose body was already collected is still archived, without the body.
  assert.equal(await archiveDeadLetter(pool, { ...letter, offset: `${letter.offset}1` }), true);
  const late = await pool.query('SELECT blob_key FROM dead_letters WHERE "offset" = $1', [
    `${letter.offset}1`,
  ]);
  assert.equal(late.rows[0]?.blob_key, null);
});

test('a stored blob no row names (refused intake) is collected only after the unclaimed grace period', async () => {
  const orphan = await storeBody();
  const { accountId, address } = await createAccount(pool);
  const kept = await storeBody();
  await deliver(address, accountId, kept.key, kept.size);

  assert.ok((await recordUnclaimedBlobs(pool, blobs)) >= 1);
  const reason = await pool.query<{ reason: string }>(
    'SELECT reason FROM blob_candidates WHERE blob_key = $1',
    [orphan.key],
  );
  assert.equal(reason.rows[0]?.reason, 'unclaimed');
  assert.equal(
    (await pool.query('SELECT 1 FROM blob_candidates WHERE blob_key = $1', [kept.key])).rowCount,
    0,
  );

  // A released blob's hour is not enough for an unclaimed one: an accepted event may still be in the bus.
  await age(3601);
  assert.ok(!(await collectBlobs(pool, blobs, DEFAULTS)).collected.includes(orphan.key));
  assert.ok(await exists(orphan.key));
  // A second listing keeps the first sighting's date.
  await recordUnclaimedBlobs(pool, blobs);
  await age(7 * 86400);
  assert.ok((await collectBlobs(pool, blobs, DEFAULTS)).collected.includes(orphan.key));
  assert.equal(await exists(orphan.key), false);
  assert.ok(await exists(kept.key));
});

test('an unclaimed blob that a late delivery references is kept', async () => {
  const pending = await storeBody();
  await recordUnclaimedBlobs(pool, blobs);
  await age(7 * 86400 + 1);
  const { accountId, address } = await createAccount(pool);
  await deliver(address, accountId, pending.key, pending.size);
  assert.ok(!(await collectBlobs(pool, blobs, DEFAULTS)).collected.includes(pending.key));
  assert.ok(await exists(pending.key));
});

/** Resolves once some backend of this database waits for an advisory lock (the interleaving point). */
async function someoneWaitsForABlobLock(): Promise<void> {
  await eventually('a transaction waiting for a blob lock', async () => {
    const { rowCount } = await pool.query(
      `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()`,
    );
    return (rowCount ?? 0) > 0;
  });
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

test('race: a delivery re-using the bytes while the collector deletes them stores them again and keeps them', async () => {
  const { accountId, address } = await createAccount(pool);
  const first = await storeBody();
  const stored = await deliver(address, accountId, first.key, first.size);
  await expungeMessages(writerFor(pool), { accountId, mailboxId: stored.mailboxId, uids: [stored.uid] });

  // The collector has locked the key and found it unreferenced; it has not deleted the bytes yet.
  const found = gate();
  const proceed = gate();
  const collecting = collectBlobs(pool, blobs, NOW, {
    async beforeDelete(keys) {
      if (!keys.includes(first.key)) return;
      found.open();
      await proceed.wait;
    },
  });
  await found.wait;

  // Meanwhile a writer stores the same bytes (a no-op for content-addressed storage: they are there)
  // and delivers a message naming them.
  const again = await blobs.put(Readable.from([first.body]));
  assert.equal(again.key, first.key);
  let restored = 0;
  const delivering = writeReferencingStoredBlobs(
    pool,
    async (key) => {
      // The writer learns its bytes went, and only after the deletion: they must be gone by now.
      assert.equal(key, first.key);
      assert.equal(await exists(key), false, 'refused only once the bytes were gone');
      const { rows } = await pool.query('SELECT 1 FROM messages WHERE blob_key = $1', [key]);
      assert.equal(rows.length, 0, 'the refused insert left no row pointing at nothing');
      restored++;
      await blobs.put(Readable.from([first.body]));
    },
    () => deliver(address, accountId, first.key, first.size),
    1,
  );
  await someoneWaitsForABlobLock();
  proceed.open();
  assert.deepEqual(
    (await collecting).collected,
    [first.key],
    'the collector deleted what it found unreferenced',
  );

  // The writer's insert waited for the collection, was refused, stored the bytes again and retried.
  await delivering;
  assert.equal(restored, 1);
  const referencing = await pool.query('SELECT 1 FROM messages WHERE blob_key = $1', [first.key]);
  assert.equal(referencing.rowCount, 1);
  assert.ok(await exists(first.key));
  assert.equal((await collectBlobs(pool, blobs, NOW)).collected.includes(first.key), false);
  assert.ok(await exists(first.key));
});

test('race: a delivery that references the blob first makes the collector keep it', async () => {
  const { accountId, address } = await createAccount(pool);
  const first = await storeBody();
  const stored = await deliver(address, accountId, first.key, first.size);
  await expungeMessages(writerFor(pool), { accountId, mailboxId: stored.mailboxId, uids: [stored.uid] });

  // A writer's transaction has inserted its reference but not committed yet.
  const inserted = gate();
  const commit = gate();
  const writing = inTransaction(pool, async (client) => {
    await insertMessage(client, accountId, messageFacts(first.key, first.size), null);
    inserted.open();
    await commit.wait;
  });
  await inserted.wait;

  // The collector cannot take the key's lock while the writer's reference is uncommitted: it leaves the
  // key alone (it never waits, so it can never deadlock with a writer) and it is still a candidate.
  let deleting: readonly string[] | undefined;
  const result = await collectBlobs(pool, blobs, NOW, {
    async beforeDelete(keys) {
      deleting = keys;
    },
  });
  assert.ok(!result.collected.includes(first.key));
  assert.ok(!deleting?.includes(first.key), 'not even considered for deletion');
  assert.ok(await exists(first.key));

  commit.open();
  await writing;
  assert.ok(!(await collectBlobs(pool, blobs, NOW)).collected.includes(first.key), 'referenced now');
  assert.ok(await exists(first.key));
  const candidate = await pool.query('SELECT 1 FROM blob_candidates WHERE blob_key = $1', [first.key]);
  assert.equal(candidate.rowCount, 0, 'no longer a candidate');
});

test('fences of collected blobs are lifted after fenceSeconds', async () => {
  const { accountId, address } = await createAccount(pool);
  const { key, size } = await storeBody();
  const stored = await deliver(address, accountId, key, size);
  await expungeMessages(writerFor(pool), { accountId, mailboxId: stored.mailboxId, uids: [stored.uid] });
  await collectBlobs(pool, blobs, NOW);
  const fence = await pool.query(
    'SELECT 1 FROM blob_candidates WHERE blob_key = $1 AND collected_at IS NOT NULL',
    [key],
  );
  assert.equal(fence.rowCount, 1);
  await pool.query(
    `UPDATE blob_candidates SET collected_at = collected_at - interval '2 hours' WHERE blob_key = $1`,
    [key],
  );
  assert.ok((await collectBlobs(pool, blobs, NOW)).fencesLifted >= 1);
  assert.equal((await pool.query('SELECT 1 FROM blob_candidates WHERE blob_key = $1', [key])).rowCount, 0);
});

test('the insert trigger, for several keys in one statement: candidates taken off the list, a fenced key refuses the whole statement', async () => {
  const { accountId } = await createAccount(pool);
  const [a, b, fenced] = [await storeBody(), await storeBody(), await storeBody()];
  await pool.query(
    `INSERT INTO blob_candidates (blob_key, reason) VALUES ($1, 'released'), ($2, 'released'), ($3, 'released')`,
    [a.key, b.key, fenced.key],
  );
  await pool.query(`UPDATE blob_candidates SET collected_at = now() WHERE blob_key = $1`, [fenced.key]);
  const candidates = async () =>
    (
      await pool.query<{ blob_key: string }>(
        `SELECT blob_key FROM blob_candidates WHERE blob_key = ANY($1::text[]) ORDER BY blob_key`,
        [[a.key, b.key, fenced.key]],
      )
    ).rows.map((row) => row.blob_key);
  const insert = (keys: { key: string; size: number }[]) =>
    inTransaction(pool, (client) =>
      insertMessages(
        client,
        keys.map(({ key, size }) => ({ accountId, message: messageFacts(key, size), receivedEventId: null })),
      ),
    );

  // One statement naming a fenced (collected) blob fails as a whole: no row, every candidate stays.
  await assert.rejects(
    insert([a, fenced, b]),
    (error) => error instanceof BlobCollectedError && error.message.includes(fenced.key),
  );
  assert.deepEqual(await candidates(), [a.key, b.key, fenced.key].sort());
  const { rows: none } = await pool.query(`SELECT 1 FROM messages WHERE account_id = $1`, [accountId]);
  assert.equal(none.length, 0);

  // Without it, both rows go in (the same key twice too) and their candidates are gone; the fence stays.
  const ids = await insert([a, b, a]);
  assert.equal(ids.length, 3);
  assert.deepEqual(await candidates(), [fenced.key]);
});
