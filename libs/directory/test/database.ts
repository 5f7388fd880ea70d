import { after, before } from 'node:test';
import { createPool, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';

/** A migrated database of its own for one test file, dropped at the end. */
export function useMigratedDatabase(): { pool: () => Pool } {
  let database: FreshDatabase | undefined;
  let pool: Pool | undefined;
  before(async () => {
    database = await freshDatabase();
    await migrate(database.url);
    pool = createPool(database.url, { max: 5 });
  });
  after(async () => {
    await pool?.end();
    await database?.drop();
  });
  return {
    pool: () => {
      if (!pool) throw new Error('the database is not ready yet (use it inside a test)');
      return pool;
    },
  };
}
