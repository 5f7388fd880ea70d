import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { createPool } from '../src/pool.js';

let db: FreshDatabase;

before(async () => {
  db = await freshDatabase();
});

after(async () => {
  await db?.drop();
});

test('a pooled connection idle for idleTimeoutMs is closed, and the next query opens a new backend', async () => {
  const pool = createPool(db.url, { max: 2, idleTimeoutMs: 50 });
  try {
    const first = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await once(pool, 'remove');
    assert.equal(pool.totalCount, 0);
    const second = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    assert.notEqual(second, first);
  } finally {
    await pool.end();
  }
});

test('idleTimeoutMs reaches pg-pool (0: idle connections stay), and without it pg keeps its default', async () => {
  const kept = createPool(db.url, { max: 1, idleTimeoutMs: 0 });
  const defaulted = createPool(db.url, { max: 1 });
  const long = createPool(db.url, { max: 1, idleTimeoutMs: 300_000 });
  try {
    assert.equal(kept.options.idleTimeoutMillis, 0);
    assert.equal(long.options.idleTimeoutMillis, 300_000);
    assert.equal(defaulted.options.idleTimeoutMillis, 10_000);
    await kept.query('SELECT 1');
    assert.equal(kept.idleCount, 1);
  } finally {
    await Promise.all([kept.end(), defaulted.end(), long.end()]);
  }
});
