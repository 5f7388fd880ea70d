import { setTimeout as sleep } from 'node:timers/promises';
import { classifyFailure } from './failure.js';
import { errorText } from './log.js';
import type { DeliveredMessage } from './port.js';
import type { StallTracker } from './stall.js';

export type HandlingOutcome =
  | { kind: 'handled' }
  /** Retries were cut short by stop(): leave the offset uncommitted so the group gets it again. */
  | { kind: 'abandoned' }
  | { kind: 'failed'; error: string; attempts: number };

export interface HandleOptions {
  message: Omit<DeliveredMessage, 'attempt'>;
  handler: (message: DeliveredMessage) => Promise<void>;
  /** Failures of the message itself before it is dead-lettered; backend failures do not count. */
  maxAttempts: number;
  /** Aborted by stop(): ends the backoff between attempts at once. */
  stopping: AbortSignal;
  /** Keeps group membership alive between attempts (Kafka heartbeat). */
  betweenAttempts?: () => Promise<void>;
  /** Told while a backend failure holds this message (and its partition) up. */
  stalls: StallTracker;
}

const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;
/** A backend outage can last minutes; past this the wait between tries stops growing. */
const MAX_BACKEND_BACKOFF_MS = 5_000;

/**
 * Runs the handler until it resolves, stop() is called, or the message itself failed
 * `maxAttempts` times. A failure classified as a backend one (failure.ts) is retried with capped
 * exponential backoff for as long as the backend stays down: the partition waits (pauses) and the
 * stall is reported, but the message is never dead-lettered for it.
 */
export async function handleWithRetries(options: HandleOptions): Promise<HandlingOutcome> {
  const maxAttempts = Math.max(1, options.maxAttempts);
  const { partition, offset } = options.message;
  let messageFailures = 0;
  let backendFailures = 0;
  let lastError = '';
  try {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        const backoff =
          backendFailures > 0
            ? Math.min(FIRST_BACKOFF_MS * 2 ** (backendFailures - 1), MAX_BACKEND_BACKOFF_MS)
            : Math.min(FIRST_BACKOFF_MS * 2 ** (messageFailures - 1), MAX_BACKOFF_MS);
        try {
          await sleep(backoff, undefined, { signal: options.stopping });
        } catch {
          return { kind: 'abandoned' };
        }
        await options.betweenAttempts?.();
      }
      try {
        await options.handler({ ...options.message, attempt });
        return { kind: 'handled' };
      } catch (error) {
        lastError = errorText(error);
        if (classifyFailure(error) === 'backend') {
          backendFailures++;
          options.stalls.backendFailed(partition, offset, lastError);
        } else {
          // The backend answered and the message still failed: count it and wait less next time.
          backendFailures = 0;
          options.stalls.cleared(partition);
          messageFailures++;
          if (messageFailures >= maxAttempts) return { kind: 'failed', error: lastError, attempts: attempt };
        }
      }
      if (options.stopping.aborted) return { kind: 'abandoned' };
    }
  } finally {
    options.stalls.cleared(partition);
  }
}

/** Tells the subscriber its message was dead-lettered; the message has moved whatever it does. */
export function reportDeadLetter(
  onDeadLetter: ((message: DeliveredMessage, error: string, attempts: number) => void) | undefined,
  message: Omit<DeliveredMessage, 'attempt'>,
  outcome: { error: string; attempts: number },
): void {
  try {
    onDeadLetter?.({ ...message, attempt: outcome.attempts }, outcome.error, outcome.attempts);
  } catch {
    // A failing observer must not turn a committed dead letter into a redelivery.
  }
}
