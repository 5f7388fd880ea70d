/**
 * The limits port: counters, locks and connection leases with expiry, shared by every pod (rate
 * limits, failed-login lockout, the one-POP3-session-per-mailbox lock, connections per address and
 * per user across pods). Adapters: Redis (ioredis) and in-process.
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
  /** Every counter had room: each went up by `by`; `values` are the new values, in order. */
  | { admitted: true; values: number[] }
  /** The counter at `index` would have passed its ceiling: nothing changed. */
  | { admitted: false; index: number };

/** A set of leases and how many holders it admits (see Limits.acquireLease). */
export interface LeaseCap {
  key: string;
  cap: number;
}

/** One holder's lease in one set. */
export interface LeaseRef {
  key: string;
  holder: string;
}

export type LeaseAcquireResult =
  /** The holder is in every set now. */
  | { admitted: true }
  /** The set at `index` was full: nothing changed. */
  | { admitted: false; index: number };

export interface Limits {
  readonly kind: 'redis' | 'memory';
  /** Adds `by` (default 1) to the counter and returns the new value; the first increment starts a window of ttlMs. */
  increment(key: string, ttlMs: number, by?: number): Promise<number>;
  /**
   * Check and count in one atomic step (one Redis script; one synchronous step in memory): when every
   * counter stays within its ceiling after adding `by` (default 1), adds `by` to each (a first
   * increment starts a window of ttlMs); otherwise changes nothing. Concurrent callers can therefore
   * never pass a ceiling together, as they could with get() then increment().
   */
  incrementBelow(
    counters: readonly CeilingCounter[],
    ttlMs: number,
    by?: number,
  ): Promise<IncrementBelowResult>;
  /** Current value, 0 when absent or expired. */
  get(key: string): Promise<number>;
  /**
   * Remembers `key` for ttlMs when it is new, and says how many milliseconds ago it was first
   * remembered (0: just now). A remembered key keeps its first time and its expiry. Time is the
   * backend's own clock (Redis TIME), so the clocks of the pods never matter (greylisting).
   */
  firstSeen(key: string, ttlMs: number): Promise<number>;
  /** Forgets a key remembered by firstSeen. */
  forgetSeen(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  /**
   * Connection leases: each key is a set of holders, each with its own expiry (a live connection
   * renews it, see ConnectionLeases), so a pod that dies without releasing loses its holders within
   * one ttl. Atomic like incrementBelow: when every set has fewer than `cap` live holders, `holder`
   * joins each (expiring ttlMs from now); otherwise nothing changes. A holder already in a set
   * counts once.
   */
  acquireLease(caps: readonly LeaseCap[], holder: string, ttlMs: number): Promise<LeaseAcquireResult>;
  /** Moves the expiry of each lease to ttlMs from now, putting it back when it was lost (Redis restarted). */
  renewLeases(leases: readonly LeaseRef[], ttlMs: number): Promise<void>;
  releaseLeases(leases: readonly LeaseRef[]): Promise<void>;
  /** Live holders of a set. */
  countLeases(key: string): Promise<number>;
  /** Takes the lock, or returns null when another holder has it. */
  tryLock(key: string, ttlMs: number): Promise<Lock | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
