import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@correo/telemetry';

/**
 * Retries a startup step against a backend that is not there yet (a pod often starts before
 * Kafka or PostgreSQL does). Each failure is logged with its reason, so an operator reads
 * "bus topic creation failed: Kafka brokers ... unreachable" rather than watching a silent
 * hang, while /readyz reports the same backend as failing. Ends when `signal` aborts.
 */
export async function retryUntilDone<T>(
  what: string,
  step: () => Promise<T>,
  logger: Logger,
  signal: AbortSignal,
): Promise<T> {
  let delayMs = 500;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      logger.error(
        { err: error, retryInMs: delayMs },
        `${what} failed: ${error instanceof Error ? error.message : String(error)}; retrying`,
      );
      await sleep(delayMs, undefined, { signal });
      delayMs = Math.min(delayMs * 2, 10_000);
    }
  }
}
