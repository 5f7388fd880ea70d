import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshDatabase, type FreshDatabase } from '@correo/testkit';
import { migrate } from '../src/migrate.js';
import { createPool, type Pool } from '../src/pool.js';
import {
  activateSieveScript,
  activeSieveScripts,
  deleteSieveScript,
  getSieveScript,
  listSieveScripts,
  putSieveScript,
  SieveScriptTooLargeError,
} from '../src/sieve-scripts.js';
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

test('sieve scripts: put, list, one active per account, the active one not deletable, gone with the account', async () => {
  const alice = await createAccount(pool);
  const bob = await createAccount(pool);
  await putSieveScript(pool, alice.accountId, 'work', 'keep;');
  await putSieveScript(pool, alice.accountId, 'home', 'discard;', { activate: true });
  await putSieveScript(pool, bob.accountId, 'work', 'stop;');
  assert.deepEqual(
    (await listSieveScripts(pool, alice.accountId)).map((s) => [s.name, s.active]),
    [
      ['home', true],
      ['work', false],
    ],
  );
  assert.equal((await getSieveScript(pool, bob.accountId, 'work'))?.content, 'stop;', "bob's own script");

  assert.equal(await activateSieveScript(pool, alice.accountId, 'work'), true);
  assert.equal(await activateSieveScript(pool, alice.accountId, 'nope'), false);
  const active = await activeSieveScripts(pool, [alice.accountId, bob.accountId]);
  assert.deepEqual(
    [...active].map(([id, s]) => [id, s.name]),
    [[alice.accountId, 'work']],
  );

  // Replacing keeps the active state; the database refuses a second active row whatever the caller.
  await putSieveScript(pool, alice.accountId, 'work', 'fileinto "x";');
  assert.equal((await getSieveScript(pool, alice.accountId, 'work'))?.active, true);
  await assert.rejects(
    pool.query(`UPDATE sieve_scripts SET active = true WHERE account_id = $1`, [alice.accountId]),
    /sieve_scripts_one_active/,
  );

  assert.equal(await deleteSieveScript(pool, alice.accountId, 'work'), 'active');
  assert.equal(await deleteSieveScript(pool, alice.accountId, 'home'), 'deleted');
  assert.equal(await deleteSieveScript(pool, alice.accountId, 'home'), 'missing');
  assert.equal(await activateSieveScript(pool, alice.accountId, null), true);
  assert.equal(await deleteSieveScript(pool, alice.accountId, 'work'), 'deleted');

  await pool.query('DELETE FROM accounts WHERE id = $1', [bob.accountId]);
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM sieve_scripts');
  assert.equal(Number(rows[0]!.n), 0);
});

test('sieve scripts: a script over the size limit is refused before it is stored', async () => {
  const { accountId } = await createAccount(pool);
  await assert.rejects(
    putSieveScript(pool, accountId, 'big', `# ${'x'.repeat(100)}`, { maxBytes: 64 }),
    SieveScriptTooLargeError,
  );
  await assert.rejects(
    putSieveScript(pool, accountId, 'huge', 'x'.repeat(1024 * 1024 + 1), { maxBytes: 10 * 1024 * 1024 }),
    SieveScriptTooLargeError,
    'the column ceiling caps a larger configured limit',
  );
  assert.deepEqual(await listSieveScripts(pool, accountId), []);
});
