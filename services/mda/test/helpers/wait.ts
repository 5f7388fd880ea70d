import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `check` resolves true. The deadline only keeps a broken build from hanging the run; it
 * asserts nothing about speed.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await sleep(100);
  }
}
