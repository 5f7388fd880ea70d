import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A secret the embedded default makes up once and keeps in its data directory (mode 0600),
 * so that a restart prints the same demo password and admin token instead of new ones.
 */
export async function readOrCreateSecret(file: string, bytes = 18): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(dirname(file), { recursive: true });
  const secret = newSecret(bytes);
  await writeFile(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/**
 * base64url of fresh random bytes, drawn again while it starts with '-': the demo password is
 * pasted into command lines (swaks, curl, mutt), where a leading '-' reads as an option.
 */
export function newSecret(bytes = 18): string {
  for (;;) {
    const secret = randomBytes(bytes).toString('base64url');
    if (!secret.startsWith('-')) return secret;
  }
}
