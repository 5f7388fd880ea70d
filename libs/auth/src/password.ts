import argon2 from 'argon2';
import { availableParallelism } from 'node:os';

/**
 * argon2 runs on libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default), which file reads and writes
 * share: a burst of logins holding every thread stalls every session's blob reads behind the hashes
 * (measured: FETCH body p50 0.5 s during LOGIN bursts, docs/performance.md). Hashes are CPU-bound, so
 * more at once than there are cores adds no throughput; at most that many run, and never the last two
 * threads of the pool. The others wait their turn in order.
 */
const HASH_SLOTS = Math.max(
  1,
  Math.min(availableParallelism(), Number(process.env.UV_THREADPOOL_SIZE ?? 4) - 2),
);
let hashesRunning = 0;
const waitingForHash: (() => void)[] = [];

/** Runs `work` when a hashing slot is free (a FIFO queue; by hand as it is ten lines with no dependency). */
async function inHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashesRunning >= HASH_SLOTS) await new Promise<void>((resolve) => waitingForHash.push(resolve));
  else hashesRunning++;
  try {
    return await work();
  } finally {
    const next = waitingForHash.shift();
    // The slot passes straight to the next waiter, so the count stays right.
    if (next) next();
    else hashesRunning--;
  }
}

/**
 * argon2id with the OWASP Password Storage Cheat Sheet's first recommended setting (19 MiB, t=2, p=1):
 * expensive enough to slow offline guessing, cheap enough that a burst of IMAP/SMTP logins does not
 * exhaust a pod's memory.
 */
export const passwordHashParameters = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** Returns an argon2id PHC string (`$argon2id$v=19$m=...`), salt included. */
export async function hashPassword(password: string): Promise<string> {
  return inHashSlot(() => argon2.hash(password, passwordHashParameters));
}

/** False for a wrong password and for anything that is not a valid argon2 PHC string. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await inHashSlot(() => argon2.verify(hash, password));
  } catch {
    return false;
  }
}

/** True when a stored hash was made with weaker (older) parameters and should be replaced after a login. */
export function passwordNeedsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, passwordHashParameters);
  } catch {
    return true;
  }
}

// A real hash of a throwaway password, so that a login for an unknown user costs as much as a wrong
// password for a known one and response times do not reveal which accounts exist.
let decoyHash: Promise<string> | undefined;

/** Spends the time of one verification without any account; always false. */
export async function verifyAgainstDecoy(password: string): Promise<false> {
  decoyHash ??= hashPassword('correo-decoy-password');
  await verifyPassword(await decoyHash, password);
  return false;
}
