import type pg from 'pg';
import type { Pool } from './pool.js';

export const StoreHealth = {
  /** Resolves when PostgreSQL answers a query within timeoutMs; rejects otherwise (for /readyz). */
  async ping(pool: Pool, timeoutMs = 2_000): Promise<void> {
    // pg honours a per-query query_timeout, which @types/pg only declares on the client config.
    const query: pg.QueryConfig & { query_timeout: number } = {
      text: 'SELECT 1 AS ok',
      query_timeout: timeoutMs,
    };
    const { rows } = await pool.query<{ ok: number }>(query);
    if (rows[0]?.ok !== 1) throw new Error('PostgreSQL answered the health check with an unexpected row');
  },
};
