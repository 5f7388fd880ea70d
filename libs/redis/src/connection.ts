import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  /** Bounds connecting and every command, so an unreachable Redis fails fast instead of hanging (default 2000). */
  timeoutMs?: number;
  /** ioredis keyPrefix: namespaces every key (and every script's KEYS) of this store. */
  keyPrefix?: string;
}

export interface RedisLink {
  redis: Redis;
  /** Wraps a failed command's error with where Redis is and the last connection error, which says why. */
  unreachable(err: unknown): Error;
  /**
   * Resolves once the connection is ready (opening it if nothing has yet), within the link's timeout.
   * A subscriber must wait for it: ioredis lets SUBSCRIBE through during the connection's handshake
   * (it may run while the server is loading), the handshake's own INFO is then refused in subscriber
   * mode, and ioredis drops the connection with every command in flight.
   */
  whenReady(): Promise<void>;
}

/**
 * ioredis retries forever and queues commands while offline by default. Every correo use of
 * Redis must instead fail fast: a rate-limit or lock check so that the caller answers a
 * temporary error (451 / NO), a notification because it is only a hint. So a command gets one
 * reconnect attempt and a timeout, and its error says where Redis is and why it failed.
 */
export function openRedis(options: RedisConnectionOptions, role: string): RedisLink {
  const timeoutMs = options.timeoutMs ?? 2000;
  const redis = new Redis(options.url, {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    keyPrefix: options.keyPrefix,
    connectionName: `correo-${role}`,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  let lastConnectionError: Error | undefined;
  // Without a listener ioredis prints every failed reconnect; callers see failures through their commands.
  redis.on('error', (err: Error) => {
    lastConnectionError = err;
  });
  redis.on('ready', () => {
    lastConnectionError = undefined;
  });
  const where = redactedUrl(options.url);
  let pendingReady: Promise<void> | undefined;
  return {
    redis,
    unreachable(err) {
      const why = lastConnectionError ? `${lastConnectionError.message}; ` : '';
      return new Error(`redis at ${where} is not reachable: ${why}${(err as Error).message}`, { cause: err });
    },
    whenReady() {
      if (redis.status === 'ready') return Promise.resolve();
      // One wait for all who ask meanwhile (a pod's first logins): one pair of listeners, however many.
      pendingReady ??= untilReady(redis, timeoutMs).finally(() => (pendingReady = undefined));
      return pendingReady;
    },
  };
}

function untilReady(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => settle();
    const onEnd = () => settle(new Error('connection closed'));
    const timer = setTimeout(() => settle(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', onReady);
    redis.once('end', onEnd);
    // lazyConnect: the first user opens the connection. Its failures reach this wait as the timeout.
    if (redis.status === 'wait') redis.connect().catch(() => {});
  });
}

function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis (unparsable url)';
  }
}

/** Ends a connection without waiting on a server that may be gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through: the socket is torn down below either way
    }
  }
  redis.disconnect();
}
