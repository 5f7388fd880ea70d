import { createHash, randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { BlobNotFoundError, createFsBlobStore, createS3BlobStore } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import { makeDataDir, testBackends, uniqueName } from '@correo/testkit';
import { collectBlobs } from '../src/blob-collection.js';
import type { BlobCollectionPolicy } from '../src/blob-collection.js';
import { deliverManyToMailboxes } from '../src/delivery.js';
import type { DeliveryOutcome, LocalDelivery } from '../src/delivery.js';
import { expungeMessages } from '../src/expunge.js';
import { withStoredBodies } from '../src/message-bodies.js';
import { createAccount, messageFacts, migratedDatabase, writerFor } from './fixtures.js';

/*
 * Small bodies kept in PostgreSQL by the filing (message_bodies, MDA_DATABASE_BODY_BYTES): read through
 * the blob store like any blob, and governed by the same references and collector (erasure included).
 */

const database = migratedDatabase();
let dir: string;
let files: BlobStore;
/** What every service reads through (libs/backends openBackends wraps the configured store the same way). */
let wrapped: BlobStore | undefined;
const blobs = () => (wrapped ??= withStoredBodies(files, database.pool));

const NOW: BlobCollectionPolicy = { releasedGraceSeconds: 0, unclaimedGraceSeconds: 0, fenceSeconds: 3600 };

before(async () => {
  dir = await makeDataDir('correo-bodies-');
  files = createFsBlobStore({ dir });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function newBody(): { key: string; bytes: Buffer } {
  const bytes = Buffer.from(`Subject: ${randomUUID()}\r\n\r\nkept in the database\r\n`);
  return { key: createHash('sha256').update(bytes).digest('hex'), bytes };
}

/** Files `body` for each recipient in one filing, with its bytes handed to the filing (as the mda does). */
async function file(
  body: { key: string; bytes: Buffer },
  recipients: { accountId: string; address: string }[],
  eventId = randomUUID(),
): Promise<DeliveryOutcome[]> {
  const deliveries: LocalDelivery[] = recipients.map((r) => ({
    eventId,
    recipient: r.address,
    accountId: r.accountId,
    message: messageFacts(body.key, body.bytes.length),
    body: body.bytes,
  }));
  return deliverManyToMailboxes(writerFor(database.pool), deliveries);
}

async function keptRows(key: string): Promise<number> {
  const { rowCount } = await database.pool.query('SELECT 1 FROM message_bodies WHERE blob_key = $1', [key]);
  return rowCount ?? 0;
}

function delivered(outcome: DeliveryOutcome | undefined): Extract<DeliveryOutcome, { kind: 'delivered' }> {
  assert.equal(outcome?.kind, 'delivered');
  return outcome as Extract<DeliveryOutcome, { kind: 'delivered' }>;
}

test('a body kept by the filing is read through the blob store, whole and by range; no file is written', async () => {
  const account = await createAccount(database.pool);
  const body = newBody();
  delivered((await file(body, [account]))[0]);

  assert.equal(await keptRows(body.key), 1);
  assert.equal(await files.stat(body.key), null, 'no blob file');
  assert.deepEqual(await buffer(await blobs().get(body.key)), body.bytes);
  assert.deepEqual(
    await buffer(await blobs().get(body.key, { start: 0, end: 8 })),
    body.bytes.subarray(0, 9),
  );
  assert.deepEqual(await buffer(await blobs().get(body.key, { start: 10 })), body.bytes.subarray(10));
  assert.deepEqual(await blobs().stat(body.key), { size: body.bytes.length });
  await assert.rejects(blobs().get('0'.repeat(64)), BlobNotFoundError, 'a key in neither place is not found');
});

test('the collector leaves a kept body alone while a message names it, and removes it with the last one', async () => {
  const first = await createAccount(database.pool);
  const second = await createAccount(database.pool);
  const body = newBody();
  const [a, b] = (await file(body, [first, second])).map(delivered);

  await expungeMessages(writerFor(database.pool), {
    accountId: first.accountId,
    mailboxId: a!.mailboxId,
    uids: [a!.uid],
  });
  assert.deepEqual((await collectBlobs(database.pool, files, NOW)).collected, []);
  assert.equal(await keptRows(body.key), 1, 'the second account still holds it');
  assert.deepEqual(await buffer(await blobs().get(body.key)), body.bytes);

  await expungeMessages(writerFor(database.pool), {
    accountId: second.accountId,
    mailboxId: b!.mailboxId,
    uids: [b!.uid],
  });
  assert.deepEqual((await collectBlobs(database.pool, files, NOW)).collected, [body.key]);
  assert.equal(await keptRows(body.key), 0);
  await assert.rejects(blobs().get(body.key), BlobNotFoundError);
});

test('deleting an account erases its kept bodies; a body another account holds stays', async () => {
  const leaving = await createAccount(database.pool);
  const staying = await createAccount(database.pool);
  const own = newBody();
  const shared = newBody();
  await file(own, [leaving]);
  await file(shared, [leaving, staying]);

  await database.pool.query('DELETE FROM accounts WHERE id = $1', [leaving.accountId]);
  const { collected } = await collectBlobs(database.pool, files, NOW);
  assert.ok(collected.includes(own.key));
  assert.equal(await keptRows(own.key), 0, 'erased with the account');
  await assert.rejects(blobs().get(own.key), BlobNotFoundError);
  assert.equal(await keptRows(shared.key), 1, 'still in the other account');
});

test('a redelivered event that files nothing keeps no body: a collected body stays gone', async () => {
  const account = await createAccount(database.pool);
  const body = newBody();
  const eventId = randomUUID();
  const filed = delivered((await file(body, [account], eventId))[0]);
  await expungeMessages(writerFor(database.pool), {
    accountId: account.accountId,
    mailboxId: filed.mailboxId,
    uids: [filed.uid],
  });
  assert.deepEqual((await collectBlobs(database.pool, files, NOW)).collected, [body.key]);

  assert.deepEqual(await file(body, [account], eventId), [{ kind: 'duplicate' }]);
  assert.equal(await keptRows(body.key), 0, 'no row that nothing names (the collector would never see it)');
});

test('through an S3 store the table is asked first (a miss there costs a request), with the same answers', async () => {
  const s3 = createS3BlobStore({ ...testBackends().s3, keyPrefix: `${uniqueName('bodies')}/` });
  await s3.ensureBucket();
  try {
    const account = await createAccount(database.pool);
    const body = newBody();
    delivered((await file(body, [account]))[0]);
    const reader = withStoredBodies(s3, database.pool);
    assert.equal(await s3.stat(body.key), null, 'no object written');
    assert.deepEqual(await buffer(await reader.get(body.key)), body.bytes);
    assert.deepEqual(
      await buffer(await reader.get(body.key, { start: 5, end: 9 })),
      body.bytes.subarray(5, 10),
    );
    assert.deepEqual(await reader.stat(body.key), { size: body.bytes.length });

    const object = Buffer.from(`Subject: ${randomUUID()}\r\n\r\nan object\r\n`);
    const stored = await reader.put(Readable.from([object]));
    assert.deepEqual(await buffer(await reader.get(stored.key)), object, 'an object is read from S3');
    await reader.delete(stored.key);
    await assert.rejects(reader.get(stored.key), BlobNotFoundError);
  } finally {
    await s3.close();
  }
});
