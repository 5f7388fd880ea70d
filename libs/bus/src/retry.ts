import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from './log.js';
import type { DeliveredMessage } from './port.js';

export type HandlingOutcome =
  | { kind: 'handled' }
  /** Retries were cut short by stop(): leave the offset uncommitted so the group gets it again. */
  | { kind: 'abandoned' }
  | { kind: 'failed'; error: string; attempts: number };

export interface HandleOptions {
  message: Omit<DeliveredMessage, 'attempt'>;
  handler: (message: DeliveredMessage) => Promise<void>;
  maxAttempts: number;
  /** Aborted by stop(): ends the backoff between attempts at once. */
  stopping: AbortSignal;
  /** Keeps group membership alive between attempts (Kafka heartbeat). */
  betweenAttempts?: () => Promise<void>;
}

const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

/** Runs the handler until it resolves, stop() is called, or it failed `maxAttempts` times. */
export async function handleWithRetries(options: HandleOptions): Promise<HandlingOutcome> {
  const maxAttempts = Math.max(1, options.maxAttempts);
  let lastError = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) {
      const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (attempt - 2), MAX_BACKOFF_MS);
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
    }
    if (options.stopping.aborted && attempt < maxAttempts) return { kind: 'abandoned' };
  }
  return { kind: 'failed', error: lastError, attempts: maxAttempts };
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
