import argon2 from 'argon2';

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
  return argon2.hash(password, passwordHashParameters);
}

/** False for a wrong password and for anything that is not a valid argon2 PHC string. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
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
