import type pg from 'pg';

/**
 * Runs `work` in one transaction on one pooled connection: committed when `work` resolves,
 * rolled back on any error, the connection always released. `begin` picks the isolation level
 * (e.g. 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' for a consistent snapshot).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
