import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresDirectory, ensureDemoAccount } from '../src/index.js';
import { useMigratedDatabase } from './database.js';

const db = useMigratedDatabase();

test('the demo account is created once; later starts keep it and its password', async () => {
  const first = await ensureDemoAccount(db.pool(), {
    address: 'demo@example.test',
    password: 'demo-password-1',
  });
  assert.deepEqual(first, { created: true });
  const second = await ensureDemoAccount(db.pool(), { address: 'demo@example.test', password: 'other' });
  assert.deepEqual(second, { created: false });
  const directory = createPostgresDirectory(db.pool());
  assert.ok(await directory.authenticate('demo@example.test', 'demo-password-1'));
  assert.equal(await directory.isLocalDomain('example.test'), true);
  const { rows } = await db.pool().query('SELECT count(*)::int AS n FROM mailboxes');
  assert.equal(rows[0].n, 6);
});
