import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `done` holds. The deadline only guards against a hang: it fails the test with
 * what it was waiting for (and the last error, if polling threw) instead of waiting forever.
 */
export async function eventually(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await done()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}
