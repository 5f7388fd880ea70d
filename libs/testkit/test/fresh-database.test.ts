import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freshDatabase } from '../src/index.js';

// A pool's end() resolves before its sessions have left the server. drop() used to force them
// out at once, and the server's "terminating connection" reached a pool without an error listener
// as an uncaught error in whichever test file had just ended its pool correctly (a CI run failed
// on it). Twenty rounds: the old drop() failed this on its first one on this machine.
test('a database dropped right after its pool ended: no session of that pool is terminated', async () => {
  for (let round = 0; round < 20; round++) {
    const database = await freshDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 3 });
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1'), pool.query('SELECT 1')]);
    await pool.end();
    await database.drop();
  }
});

test('a session that stays open does not keep its database: drop() still forces it', async () => {
  const database = await freshDatabase();
  const client = new pg.Client({ connectionString: database.url });
  const errors: string[] = [];
  client.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? error.message));
  await client.connect();
  await database.drop();
  const admin = new pg.Client({ connectionString: database.url.replace(`/${database.name}`, '/postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database.name]);
    assert.equal(rows.length, 0, 'the database is gone');
  } finally {
    await admin.end();
  }
  await client.end().catch(() => {});
  const forced = new Set(['57P01', 'Connection terminated unexpectedly']);
  assert.ok(
    errors.every((code) => forced.has(code)),
    `only the forced termination reached the open session: ${errors.join(', ')}`,
  );
});
