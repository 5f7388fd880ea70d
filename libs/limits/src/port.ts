/**
 * The limits port: counters and locks with expiry, shared by every pod (rate limits,
 * failed-login lockout, the one-POP3-session-per-mailbox lock). Adapters: Redis (ioredis)
 * and in-process.
 */
export interface Lock {
  readonly key: string;
  /** Extends the expiry if this holder still owns the lock; false when it was lost. */
  extend(ttlMs: number): Promise<boolean>;
  /** Releases only if still owned by this holder (never someone else's lock). */
  release(): Promise<void>;
}

/** A counter and the value at which it stops admitting (see Limits.incrementBelow). */
export interface CeilingCounter {
  key: string;
  ceiling: number;
}

export type IncrementBelowResult =
  /** Every counter was below its ceiling: each went up by 1; `values` are the new values, in order. */
  | { admitted: true; values: number[] }
  /** The counter at `index` had reached its ceiling: nothing changed. */
  | { admitted: false; index: number };

export interface Limits {
  readonly kind: 'redis' | 'memory';
  /** Adds `by` (default 1) to the counter and returns the new value; the first increment starts a window of ttlMs. */
  increment(key: string, ttlMs: number, by?: number): Promise<number>;
  /**
   * Check and count in one atomic step (one Redis script; one synchronous step in memory): when every
   * counter is below its ceiling, adds 1 to each (a first increment starts a window of ttlMs);
   * otherwise changes nothing. Concurrent callers can therefore never pass a ceiling together, as they
   * could with get() then increment().
   */
  incrementBelow(counters: readonly CeilingCounter[], ttlMs: number): Promise<IncrementBelowResult>;
  /** Current value, 0 when absent or expired. */
  get(key: string): Promise<number>;
  reset(key: string): Promise<void>;
  /** Takes the lock, or returns null when another holder has it. */
  tryLock(key: string, ttlMs: number): Promise<Lock | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
