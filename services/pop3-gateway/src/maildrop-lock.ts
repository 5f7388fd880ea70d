import type { Limits, Lock } from '@correo/limits';

/** RFC 1939 8: one session per maildrop. Held across pods through the limits port. */
export interface HeldMaildropLock {
  /** Extends the lock now; false when it expired and someone else may hold it. */
  confirm(): Promise<boolean>;
  release(): Promise<void>;
}

export interface MaildropLocks {
  /** null when another session holds the account's maildrop. `onLost` fires if a renewal fails. */
  acquire(accountId: string, onLost: () => void): Promise<HeldMaildropLock | null>;
}

/**
 * Locks with an expiry, renewed at a third of it while the session lives, so a pod that dies frees the
 * maildrop within one ttl while a live session never loses it to a slow renewal.
 */
export function createMaildropLocks(limits: Limits, ttlMs: number): MaildropLocks {
  return {
    async acquire(accountId, onLost) {
      const lock = await limits.tryLock(`pop3-maildrop:${accountId}`, ttlMs);
      if (!lock) return null;
      return new RenewedLock(lock, ttlMs, onLost);
    },
  };
}

class RenewedLock implements HeldMaildropLock {
  private readonly timer: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly lock: Lock,
    private readonly ttlMs: number,
    onLost: () => void,
  ) {
    this.timer = setInterval(
      () => {
        this.confirm().then(
          (held) => {
            if (!held && !this.released) onLost();
          },
          () => {
            // A failed renewal is retried at the next tick; the lock is only lost once its ttl passes.
          },
        );
      },
      Math.floor(ttlMs / 3),
    );
    this.timer.unref();
  }

  confirm(): Promise<boolean> {
    return this.lock.extend(this.ttlMs);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.lock.release();
  }
}
