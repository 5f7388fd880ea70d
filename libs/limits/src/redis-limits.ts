import { createHash, randomBytes } from 'node:crypto';
import type { Limits, Lock } from './port.js';
import { closeRedis, openRedis } from '@correo/redis';
import type { RedisConnectionOptions } from '@correo/redis';

/** Starts the window on the first increment only; also heals a counter that somehow lost its expiry. */
const INCREMENT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value`;

/**
 * incrementBelow: KEYS are the counters, ARGV[1] the window, ARGV[2] the amount, ARGV[2 + i] the
 * ceiling of KEYS[i]. Returns {0, i} when KEYS[i] would pass its ceiling (nothing changed), else
 * {1, value1, value2, ...}.
 */
const INCREMENT_BELOW = `
local by = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') + by > tonumber(ARGV[i + 2]) then
    return {0, i}
  end
end
local result = {1}
for i, key in ipairs(KEYS) do
  result[i + 1] = redis.call('INCRBY', key, by)
  if redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
  end
end
return result`;

/** Compare-and-delete: only the holder's token may release the lock. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Compare-and-pexpire: only the holder's token may extend the lock. */
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/**
 * Lease sets are sorted sets: member = holder, score = its expiry in Redis's own clock (TIME), so the
 * clocks of the pods never matter. The set itself expires with its newest lease, so a client address
 * seen once leaves nothing behind.
 */
const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/** acquireLease: KEYS the sets, ARGV[1] the holder, ARGV[2] the ttl, ARGV[2 + i] the cap of KEYS[i]. Returns 0 or the full set's index. */
const ACQUIRE_LEASE = `${NOW}
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, ARGV[1]) and redis.call('ZCARD', key) >= tonumber(ARGV[i + 2]) then
    return i
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('PEXPIRE', key, ttl)
end
return 0`;

/** renewLeases: KEYS[i] holds ARGV[i + 1]; ARGV[1] the ttl. */
const RENEW_LEASES = `${NOW}
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', key, ttl)
end
return 0`;

/** firstSeen: KEYS[1] holds the Redis time it was first seen; ARGV[1] the ttl. Returns the age. */
const FIRST_SEEN = `${NOW}
local first = redis.call('GET', KEYS[1])
if not first then
  redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
  return 0
end
return math.max(0, now - tonumber(first))`;

/** countLeases: live members of KEYS[1]. */
const COUNT_LEASES = `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`;

export interface RedisLimitsOptions extends RedisConnectionOptions {
  /** Namespaces every key; default `correo:limits:`. */
  keyPrefix?: string;
}

/** The Redis key (under the store's prefix) of a counter: tests read its expiry through it. */
export function redisCounterKey(key: string): string {
  return `count:${key}`;
}

/** Counters and locks shared by every pod through one Redis. */
export function createRedisLimits(options: RedisLimitsOptions): Limits {
  const { redis, unreachable } = openRedis(
    { ...options, keyPrefix: options.keyPrefix ?? 'correo:limits:' },
    'limits',
  );
  // Counters and locks live apart, so a lock and a counter may share a caller's name.
  const counterKey = redisCounterKey;
  const lockKey = (key: string) => `lock:${key}`;
  const leaseKey = (key: string) => `lease:${key}`;
  const seenKey = (key: string) => `seen:${key}`;

  async function run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw unreachable(err);
    }
  }

  // EVALSHA first: these run on every rate-limited connection, so send the body only when Redis lacks it.
  async function script(
    body: string,
    keys: string | string[],
    ...args: Array<string | number>
  ): Promise<unknown> {
    const sha = createHash('sha1').update(body).digest('hex');
    const names = typeof keys === 'string' ? [keys] : keys;
    return run(async () => {
      try {
        return await redis.evalsha(sha, names.length, ...names, ...args);
      } catch (err) {
        if (!(err as Error).message.startsWith('NOSCRIPT')) throw err;
        return redis.eval(body, names.length, ...names, ...args);
      }
    });
  }

  return {
    kind: 'redis',

    async increment(key, ttlMs, by = 1) {
      return Number(await script(INCREMENT, counterKey(key), by, Math.max(1, Math.ceil(ttlMs))));
    },

    async incrementBelow(counters, ttlMs, by = 1) {
      // The keys of one call must live on one node if this ever runs on Redis Cluster (hash tags).
      const reply = (await script(
        INCREMENT_BELOW,
        counters.map(({ key }) => counterKey(key)),
        Math.max(1, Math.ceil(ttlMs)),
        by,
        ...counters.map(({ ceiling }) => ceiling),
      )) as number[];
      if (Number(reply[0]) === 0) return { admitted: false, index: Number(reply[1]) - 1 };
      return { admitted: true, values: reply.slice(1).map(Number) };
    },

    async get(key) {
      const value = await run(() => redis.get(counterKey(key)));
      return value === null ? 0 : Number(value);
    },

    async reset(key) {
      await run(() => redis.del(counterKey(key)));
    },

    async firstSeen(key, ttlMs) {
      return Number(await script(FIRST_SEEN, seenKey(key), Math.max(1, Math.ceil(ttlMs))));
    },

    async forgetSeen(key) {
      await run(() => redis.del(seenKey(key)));
    },

    async acquireLease(caps, holder, ttlMs) {
      // Like incrementBelow: on Redis Cluster the keys of one call would need one hash tag.
      const full = Number(
        await script(
          ACQUIRE_LEASE,
          caps.map(({ key }) => leaseKey(key)),
          holder,
          Math.max(1, Math.ceil(ttlMs)),
          ...caps.map(({ cap }) => cap),
        ),
      );
      return full === 0 ? { admitted: true } : { admitted: false, index: full - 1 };
    },

    async renewLeases(leases, ttlMs) {
      if (leases.length === 0) return;
      await script(
        RENEW_LEASES,
        leases.map(({ key }) => leaseKey(key)),
        Math.max(1, Math.ceil(ttlMs)),
        ...leases.map(({ holder }) => holder),
      );
    },

    async releaseLeases(leases) {
      if (leases.length === 0) return;
      const batch = redis.pipeline();
      for (const { key, holder } of leases) batch.zrem(leaseKey(key), holder);
      const replies = (await run(() => batch.exec())) ?? [];
      const failed = replies.find(([error]) => error);
      if (failed?.[0]) throw unreachable(failed[0]);
    },

    async countLeases(key) {
      return Number(await script(COUNT_LEASES, leaseKey(key)));
    },

    async tryLock(key, ttlMs) {
      const token = randomBytes(16).toString('hex');
      const name = lockKey(key);
      const taken = await run(() => redis.set(name, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
      if (taken !== 'OK') return null;
      const lock: Lock = {
        key,
        async extend(nextTtlMs) {
          return Number(await script(EXTEND, name, token, Math.max(1, Math.ceil(nextTtlMs)))) === 1;
        },
        async release() {
          await script(RELEASE, name, token);
        },
      };
      return lock;
    },

    async ping() {
      await run(() => redis.ping());
    },

    async close() {
      await closeRedis(redis);
    },
  };
}
