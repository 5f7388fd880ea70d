import pg from 'pg';

export type Pool = pg.Pool;

export interface PoolOptions {
  /** Most connections this pool opens; pg's default is 10. */
  max?: number;
  /** Called when an idle connection dies (server restart, network); the pool replaces it. */
  onIdleError?: (error: Error) => void;
}

export function createPool(connectionString: string, options: PoolOptions = {}): Pool {
  const pool = new pg.Pool({ connectionString, max: options.max });
  // Without a listener, an idle client's error is an unhandled 'error' event and kills the process.
  pool.on('error', options.onIdleError ?? (() => {}));
  return pool;
}
