import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '@correo/testkit';
import { startEmbeddedPostgres } from '../src/embedded-postgres.js';

test('the embedded PostgreSQL serves its URL over a Unix socket in a directory only its owner writes', async () => {
  const root = await mkdtemp(join(tmpdir(), 'correo-pg-socket-'));
  await chmod(root, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: root, port: await freePort() });
  try {
    const socketDir = join(root, 'postgres', 'run');
    assert.equal(new URL(server.url).searchParams.get('host'), socketDir);
    const mode = (await stat(socketDir)).mode & 0o777;
    assert.equal(mode & 0o022, 0, `socket directory mode ${mode.toString(8)} lets others write`);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ unix: boolean }>(
        'SELECT client_addr IS NULL AS unix FROM pg_stat_activity WHERE pid = pg_backend_pid()',
      );
      assert.equal(rows[0]?.unix, true, 'connected over TCP, not the Unix socket');
    } finally {
      await client.end();
    }
  } finally {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test("EMBEDDED_POSTGRES_SETTINGS reach the server, after correo's own", async () => {
  const root = await mkdtemp(join(tmpdir(), 'correo-pg-settings-'));
  await chmod(root, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: root,
    port: await freePort(),
    settings: [
      { name: 'commit_delay', value: '17' },
      { name: 'shared_preload_libraries', value: 'pg_stat_statements' },
    ],
  });
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const setting = async (name: string) =>
        (await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name])).rows[0]?.value;
      assert.equal(await setting('commit_delay'), '17');
      assert.equal(await setting('shared_preload_libraries'), 'pg_stat_statements');
      // correo's own stay as they are.
      assert.equal(await setting('track_commit_timestamp'), 'on');
      assert.equal(await setting('fsync'), 'on');
    } finally {
      await client.end();
    }
  } finally {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  }
});
