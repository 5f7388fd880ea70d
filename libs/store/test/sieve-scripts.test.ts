import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  activateSieveScript,
  activeSieveScripts,
  deleteSieveScript,
  getSieveScript,
  listSieveScriptNames,
  listSieveScripts,
  putSieveScript,
  renameSieveScript,
  SieveScriptTooLargeError,
} from '../src/sieve-scripts.js';
import { createAccount, migratedDatabase } from './fixtures.js';

const database = migratedDatabase();

test('sieve scripts: put, list, one active per account, the active one not deletable, gone with the account', async () => {
  const alice = await createAccount(database.pool);
  const bob = await createAccount(database.pool);
  await putSieveScript(database.pool, alice.accountId, 'work', 'keep;');
  await putSieveScript(database.pool, alice.accountId, 'home', 'discard;', { activate: true });
  await putSieveScript(database.pool, bob.accountId, 'work', 'stop;');
  assert.deepEqual(
    (await listSieveScripts(database.pool, alice.accountId)).map((s) => [s.name, s.active]),
    [
      ['home', true],
      ['work', false],
    ],
  );
  assert.equal(
    (await getSieveScript(database.pool, bob.accountId, 'work'))?.content,
    'stop;',
    "bob's own script",
  );

  assert.equal(await activateSieveScript(database.pool, alice.accountId, 'work'), true);
  assert.equal(await activateSieveScript(database.pool, alice.accountId, 'nope'), false);
  const active = await activeSieveScripts(database.pool, [alice.accountId, bob.accountId]);
  assert.deepEqual(
    [...active].map(([id, s]) => [id, s.name]),
    [[alice.accountId, 'work']],
  );

  // Replacing keeps the active state; the database refuses a second active row whatever the caller.
  await putSieveScript(database.pool, alice.accountId, 'work', 'fileinto "x";');
  assert.equal((await getSieveScript(database.pool, alice.accountId, 'work'))?.active, true);
  await assert.rejects(
    database.pool.query(`UPDATE sieve_scripts SET active = true WHERE account_id = $1`, [alice.accountId]),
    /sieve_scripts_one_active/,
  );

  assert.equal(await deleteSieveScript(database.pool, alice.accountId, 'work'), 'active');
  assert.equal(await deleteSieveScript(database.pool, alice.accountId, 'home'), 'deleted');
  assert.equal(await deleteSieveScript(database.pool, alice.accountId, 'home'), 'missing');
  assert.equal(await activateSieveScript(database.pool, alice.accountId, null), true);
  assert.equal(await deleteSieveScript(database.pool, alice.accountId, 'work'), 'deleted');

  await database.pool.query('DELETE FROM accounts WHERE id = $1', [bob.accountId]);
  const { rows } = await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM sieve_scripts');
  assert.equal(Number(rows[0]!.n), 0);
});

test('sieve scripts: a script over the size limit is refused before it is stored', async () => {
  const { accountId } = await createAccount(database.pool);
  await assert.rejects(
    putSieveScript(database.pool, accountId, 'big', `# ${'x'.repeat(100)}`, { maxBytes: 64 }),
    SieveScriptTooLargeError,
  );
  await assert.rejects(
    putSieveScript(database.pool, accountId, 'huge', 'x'.repeat(1024 * 1024 + 1), {
      maxBytes: 10 * 1024 * 1024,
    }),
    SieveScriptTooLargeError,
    'the column ceiling caps a larger configured limit',
  );
  assert.deepEqual(await listSieveScripts(database.pool, accountId), []);
});

test('sieve scripts: rename keeps content and active state; at most maxScripts names, even when sessions race', async () => {
  const { accountId } = await createAccount(database.pool);
  await putSieveScript(database.pool, accountId, 'a', 'keep;', { activate: true });
  await putSieveScript(database.pool, accountId, 'b', 'stop;');
  assert.equal(await renameSieveScript(database.pool, accountId, 'a', 'b'), 'exists');
  assert.equal(await renameSieveScript(database.pool, accountId, 'zz', 'c'), 'missing');
  assert.equal(await renameSieveScript(database.pool, accountId, 'a', 'c'), 'renamed');
  assert.deepEqual(await listSieveScriptNames(database.pool, accountId), [
    { name: 'b', active: false },
    { name: 'c', active: true },
  ]);
  assert.equal((await getSieveScript(database.pool, accountId, 'c'))?.content, 'keep;');

  // Two scripts stored, a cap of 3: of five new names put at once exactly one gets the last slot.
  const outcomes = await Promise.all(
    ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) =>
      putSieveScript(database.pool, accountId, name, 'keep;', { maxScripts: 3 }),
    ),
  );
  assert.deepEqual(outcomes.filter((o) => o === 'stored').length, 1);
  assert.equal((await listSieveScriptNames(database.pool, accountId)).length, 3);
  // Replacing an existing script is not a new one.
  assert.equal(await putSieveScript(database.pool, accountId, 'b', 'discard;', { maxScripts: 3 }), 'stored');
});
