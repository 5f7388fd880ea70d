import { redisCounterKey, type MemoryLimitsState } from '@correo/limits';
import { closeRedis, openRedis } from '@correo/redis';

// A limits counter's window (a login lockout, a rate) ends when the counter expires. Tests bring
// that expiry forward instead of waiting out a real window: a short real window would race the
// test's own steps on a busy machine. Both check first that the counter would have expired within
// `windowMs` by itself, so a counter that never expires (a lockout that never ends) fails the test.

/** The in-process limits (embedded): the counter's expiry time set to now; the next read forgets it. */
export function expireMemoryCounter(state: MemoryLimitsState, key: string, windowMs: number): void {
  const entry = state.counters.get(key);
  if (!entry || entry.expiresAt <= Date.now()) throw new Error(`no live counter ${key}`);
  if (entry.expiresAt > Date.now() + windowMs)
    throw new Error(`the counter ${key} outlives a window of ${windowMs} ms`);
  entry.expiresAt = Date.now();
}

/** Redis limits (distributed): the counter's ttl cut to 1 ms, so Redis itself expires it. */
export async function expireRedisCounter(
  redisUrl: string,
  keyPrefix: string,
  key: string,
  windowMs: number,
): Promise<void> {
  const { redis } = openRedis({ url: redisUrl, keyPrefix }, 'test-clock');
  try {
    const ttl = await redis.pttl(redisCounterKey(key));
    if (ttl === -2) throw new Error(`no live counter ${key}`);
    if (ttl === -1 || ttl > windowMs)
      throw new Error(`the counter ${key} outlives a window of ${windowMs} ms (pttl ${ttl})`);
    await redis.pexpire(redisCounterKey(key), 1);
  } finally {
    await closeRedis(redis);
  }
}
