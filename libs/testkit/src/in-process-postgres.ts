import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import pg from 'pg';

export interface InProcessPostgres {
  /**
   * For pg.Client / pg.Pool (and libs/store migrate()): the real `pg` driver, talking the wire protocol
   * to PGlite inside this process instead of over a socket, so rows are parsed exactly as in production.
   */
  config: pg.ClientConfig;
  /** One connection (PGlite is a single session): transactions queue on it as they would on a lock. */
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * A real PostgreSQL (PGlite: the server compiled to WebAssembly) in this process, in memory, for
 * behaviour tests that run the store's own SQL without a server, a socket or the shared backends.
 * Not a mock: the same SQL, constraints, locks and type parsing as the shared PostgreSQL. Each call is
 * an empty database; migrate it with libs/store migrate(config) before creating the pool's first
 * connection (both would share the one session).
 */
export async function startInProcessPostgres(): Promise<InProcessPostgres> {
  const db = await PGlite.create();
  const config = createPgConfig(db);
  const pool = new pg.Pool(config);
  // As libs/store createPool: an idle connection's error must not kill the test process.
  pool.on('error', () => {});
  return {
    config,
    pool,
    async close() {
      await pool.end();
      await db.close();
    },
  };
}
