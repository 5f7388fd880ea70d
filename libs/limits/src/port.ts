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

export interface Limits {
  readonly kind: 'redis' | 'memory';
  /** Adds `by` (default 1) to the counter and returns the new value; the first increment starts a window of ttlMs. */
  increment(key: string, ttlMs: number, by?: number): Promise<number>;
  /** Current value, 0 when absent or expired. */
  get(key: string): Promise<number>;
  reset(key: string): Promise<void>;
  /** Takes the lock, or returns null when another holder has it. */
  tryLock(key: string, ttlMs: number): Promise<Lock | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
