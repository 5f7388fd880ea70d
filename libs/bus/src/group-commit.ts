/**
 * Group commit: publishes that arrive while a commit is in flight wait and go together in the
 * next one, so N concurrent SMTP sessions pay one durable write (one WAL flush, one produce
 * request) instead of N, and nobody waits for a timer: an idle bus commits a lone publish at
 * once. Each caller's promise settles with the commit that holds its messages, so a 250 still
 * follows the durability of its own event.
 *
 * A failed batch is retried entry by entry (in parallel, so a backend that is down costs one more
 * timeout, not one per entry) before anyone is told: a publish that cannot commit on its own (a
 * bad message) fails alone and does not take its neighbours down.
 */
export interface GroupCommitOptions<T> {
  /** Makes `entries` durable together, all or nothing. */
  commit(entries: T[]): Promise<void>;
  /** Runs after a batch is durable (wake-ups, metrics); a throw here is ignored. */
  committed?(entries: T[]): void;
  /** Upper bound on one batch, so one transaction or request stays a sane size. */
  maxBatch?: number;
}

interface Waiting<T> {
  entry: T;
  resolve(): void;
  reject(error: unknown): void;
}

export class GroupCommit<T> {
  private readonly queue: Waiting<T>[] = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly options: GroupCommitOptions<T>) {}

  /** Resolves once the batch holding `entry` is durable. */
  submit(entry: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // Something queued between the loop's last look and here must not wait for the next submit.
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    const max = this.options.maxBatch ?? 500;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, max);
      try {
        await this.options.commit(batch.map((w) => w.entry));
        this.settle(batch);
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        await Promise.all(
          batch.map(async (waiting) => {
            try {
              await this.options.commit([waiting.entry]);
              this.settle([waiting]);
            } catch (alone) {
              waiting.reject(alone);
            }
          }),
        );
      }
    }
  }

  private settle(batch: Waiting<T>[]): void {
    for (const waiting of batch) waiting.resolve();
    try {
      this.options.committed?.(batch.map((w) => w.entry));
    } catch {
      // A wake-up hint failing must not turn a durable publish into an error.
    }
  }
}
