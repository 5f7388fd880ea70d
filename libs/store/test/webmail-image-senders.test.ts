import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createImageSenderList, MAX_IMAGE_SENDERS_PER_ACCOUNT } from '../src/webmail-image-senders.js';
import { createAccount, migratedDatabase } from './fixtures.js';

const database = migratedDatabase();

test('image senders: per account, any case, taken back, gone with the account', async () => {
  const list = createImageSenderList(database.pool);
  const alice = await createAccount(database.pool);
  const bob = await createAccount(database.pool);
  assert.equal(await list.allow(alice.address.toUpperCase(), 'News@Shop.Test'), true);
  assert.equal(await list.allow(alice.address, 'news@shop.test'), true, 'allowing twice is fine');
  assert.equal(await list.isAllowed(alice.address, 'NEWS@shop.test'), true);
  assert.equal(await list.isAllowed(bob.address, 'news@shop.test'), false, "another user's list is theirs");
  await list.forget(alice.address, 'news@SHOP.test');
  assert.equal(await list.isAllowed(alice.address, 'news@shop.test'), false);
  await list.allow(alice.address, 'news@shop.test');
  await database.pool.query('DELETE FROM accounts WHERE id = $1', [alice.accountId]);
  const { rows } = await database.pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM webmail_image_senders',
  );
  assert.equal(Number(rows[0]!.n), 0);
});

test('image senders: an account holds at most MAX_IMAGE_SENDERS_PER_ACCOUNT', async () => {
  const list = createImageSenderList(database.pool);
  const carol = await createAccount(database.pool);
  await database.pool.query(
    `INSERT INTO webmail_image_senders (account_id, sender)
     SELECT $1, 'sender' || n || '@bulk.test' FROM generate_series(1, $2::int) AS n`,
    [carol.accountId, MAX_IMAGE_SENDERS_PER_ACCOUNT - 1],
  );
  assert.equal(await list.allow(carol.address, 'last@room.test'), true);
  assert.equal(await list.allow(carol.address, 'one@too-many.test'), false);
  assert.equal(await list.isAllowed(carol.address, 'one@too-many.test'), false);
  assert.equal(
    await list.allow(carol.address, 'last@room.test'),
    true,
    'one already listed still answers yes',
  );
});
