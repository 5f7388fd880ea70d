import type { Limits, Lock } from './port.js';

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** The in-process stand-in for Redis: counters and locks with expiry timestamps. */
export class MemoryLimitsState {
  readonly counters = new Map<string, Expiring<number>>();
  readonly locks = new Map<string, Expiring<symbol>>();
  /** firstSeen: key -> when it was first seen. */
  readonly seen = new Map<string, Expiring<number>>();
  /** Lease sets: holder -> expiry. */
  readonly leases = new Map<string, Map<string, number>>();

  /** Forgets what expired, so keys seen once (one client IP) do not pile up. */
  sweep(now = Date.now()): void {
    for (const map of [this.counters, this.locks, this.seen] as Array<Map<string, Expiring<unknown>>>) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
    for (const key of this.leases.keys()) this.liveLeases(key, now);
  }

  /** The set's live holders, expired ones dropped (and the set when it is empty). */
  liveLeases(key: string, now = Date.now()): Map<string, number> | undefined {
    const set = this.leases.get(key);
    if (!set) return undefined;
    for (const [holder, expiresAt] of set) if (expiresAt <= now) set.delete(holder);
    if (set.size > 0) return set;
    this.leases.delete(key);
    return undefined;
  }
}

/** Shared by every memory limits instance in the process, as Redis is shared by every pod. */
const processState = new MemoryLimitsState();

export interface MemoryLimitsOptions {
  /** Defaults to the process-wide state, so all-in-one services that each create limits still agree. */
  state?: MemoryLimitsState;
}

export function createMemoryLimits(options: MemoryLimitsOptions = {}): Limits {
  const state = options.state ?? processState;
  const sweeper = setInterval(() => state.sweep(), 60_000);
  // A pending sweep must never keep a finished process (or test) alive.
  sweeper.unref();

  function live<T>(map: Map<string, Expiring<T>>, key: string): Expiring<T> | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  function holderSet(key: string): Map<string, number> {
    let set = state.leases.get(key);
    if (!set) state.leases.set(key, (set = new Map()));
    return set;
  }

  return {
    kind: 'memory',

    async increment(key, ttlMs, by = 1) {
      const entry = live(state.counters, key);
      if (entry) {
        entry.value += by;
        return entry.value;
      }
      state.counters.set(key, { value: by, expiresAt: Date.now() + ttlMs });
      return by;
    },

    async incrementBelow(counters, ttlMs, by = 1) {
      // No await between the check and the increments: nothing else in the process runs in between.
      const entries = counters.map(({ key }) => live(state.counters, key));
      const index = counters.findIndex(({ ceiling }, i) => (entries[i]?.value ?? 0) + by > ceiling);
      if (index >= 0) return { admitted: false, index };
      const values = counters.map(({ key }, i) => {
        const entry = entries[i];
        if (entry) return (entry.value += by);
        state.counters.set(key, { value: by, expiresAt: Date.now() + ttlMs });
        return by;
      });
      return { admitted: true, values };
    },

    async get(key) {
      return live(state.counters, key)?.value ?? 0;
    },

    async reset(key) {
      state.counters.delete(key);
    },

    async firstSeen(key, ttlMs) {
      const now = Date.now();
      const entry = live(state.seen, key);
      if (entry) return Math.max(0, now - entry.value);
      state.seen.set(key, { value: now, expiresAt: now + ttlMs });
      return 0;
    },

    async forgetSeen(key) {
      state.seen.delete(key);
    },

    async acquireLease(caps, holder, ttlMs) {
      // One synchronous step, as in incrementBelow.
      const index = caps.findIndex(({ key, cap }) => {
        const set = state.liveLeases(key);
        return !set?.has(holder) && (set?.size ?? 0) >= cap;
      });
      if (index >= 0) return { admitted: false, index };
      const expiresAt = Date.now() + ttlMs;
      for (const { key } of caps) holderSet(key).set(holder, expiresAt);
      return { admitted: true };
    },

    async renewLeases(leases, ttlMs) {
      const expiresAt = Date.now() + ttlMs;
      for (const { key, holder } of leases) holderSet(key).set(holder, expiresAt);
    },

    async releaseLeases(leases) {
      for (const { key, holder } of leases) {
        state.leases.get(key)?.delete(holder);
        state.liveLeases(key);
      }
    },

    async countLeases(key) {
      return state.liveLeases(key)?.size ?? 0;
    },

    async tryLock(key, ttlMs) {
      if (live(state.locks, key)) return null;
      // A fresh symbol per holder: an old holder can never match a newer lock on the same key.
      const token = Symbol(key);
      state.locks.set(key, { value: token, expiresAt: Date.now() + ttlMs });
      const lock: Lock = {
        key,
        async extend(nextTtlMs) {
          const entry = live(state.locks, key);
          if (entry?.value !== token) return false;
          entry.expiresAt = Date.now() + nextTtlMs;
          return true;
        },
        async release() {
          if (live(state.locks, key)?.value === token) state.locks.delete(key);
        },
      };
      return lock;
    },

    async ping() {},

    async close() {
      clearInterval(sweeper);
    },
  };
}
