import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../src/cli/migrate.ts', import.meta.url));
const databases: FreshDatabase[] = [];

after(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

const migrateCli = (env: Record<string, string | undefined>) =>
  run(process.execPath, ['--import', 'tsx', cli], { env: { ...process.env, ...env }, timeout: 60_000 });

test('the migrate CLI applies the schema once, then reports it up to date', async () => {
  const db = await freshDatabase();
  databases.push(db);

  const first = await migrateCli({ DATABASE_URL: db.url });
  assert.match(first.stdout, /^applied 0001_initial$/m);

  const second = await migrateCli({ DATABASE_URL: db.url });
  assert.equal(second.stdout.trim(), 'schema is up to date');
});

test('the migrate CLI exits non-zero without DATABASE_URL', async () => {
  await assert.rejects(migrateCli({ DATABASE_URL: '' }), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr ?? '', /DATABASE_URL is not set/);
    return true;
  });
});
