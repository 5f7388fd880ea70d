import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshDatabase, type FreshDatabase } from '@correo/testkit';
import { migrate } from '../src/migrate.js';
import { createPool, type Pool } from '../src/pool.js';
import { createImageSenderList, MAX_IMAGE_SENDERS_PER_ACCOUNT } from '../src/webmail-image-senders.js';
import { createAccount } from './fixtures.js';

let db: FreshDatabase;
let pool: Pool;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url);
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

test('image senders: per account, any case, taken back, gone with the account', async () => {
  const list = createImageSenderList(pool);
  const alice = await createAccount(pool);
  const bob = await createAccount(pool);
  assert.equal(await list.allow(alice.address.toUpperCase(), 'News@Shop.Test'), true);
  assert.equal(await list.allow(alice.address, 'news@shop.test'), true, 'allowing twice is fine');
  assert.equal(await list.isAllowed(alice.address, 'NEWS@shop.test'), true);
  assert.equal(await list.isAllowed(bob.address, 'news@shop.test'), false, "another user's list is theirs");
  await list.forget(alice.address, 'news@SHOP.test');
  assert.equal(await list.isAllowed(alice.address, 'news@shop.test'), false);
  await list.allow(alice.address, 'news@shop.test');
  await pool.query('DELETE FROM accounts WHERE id = $1', [alice.accountId]);
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM webmail_image_senders');
  assert.equal(Number(rows[0]!.n), 0);
});

test('image senders: an account holds at most MAX_IMAGE_SENDERS_PER_ACCOUNT', async () => {
  const list = createImageSenderList(pool);
  const carol = await createAccount(pool);
  await pool.query(
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
