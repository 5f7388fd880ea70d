import pg from 'pg';

export type Pool = pg.Pool;

export interface PoolOptions {
  /** Most connections this pool opens; pg's default is 10. */
  max?: number;
  /** A connection idle this long is closed (pg's default: 10 s); 0: never. */
  idleTimeoutMs?: number;
  /** Called when an idle connection dies (server restart, network); the pool replaces it. */
  onIdleError?: (error: Error) => void;
}

export function createPool(connectionString: string, options: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max,
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMillis: options.idleTimeoutMs }),
  });
  // Without a listener, an idle client's error is an unhandled 'error' event and kills the process.
  pool.on('error', options.onIdleError ?? (() => {}));
  // pg-pool listens for errors only while a client is idle: a connection that dies while checked
  // out (a failover mid-transaction) emits 'error' with no listener and would kill the process.
  // The same error already fails the client's query, which is where the caller handles it.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}
