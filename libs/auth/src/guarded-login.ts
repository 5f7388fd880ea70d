import { setTimeout as sleep } from 'node:timers/promises';
import type { LoginLimiter } from './login-limiter.js';

export type GuardedLogin<A> =
  | { kind: 'ok'; account: A }
  /** Wrong login or password. The caller answers exactly as for 'locked': no oracle. */
  | { kind: 'failed' }
  /** Too many recent failures for this account or this client network, across every pod and protocol. */
  | { kind: 'locked'; by: 'login' | 'ip' };

/** What a password login needs from the directory. */
export interface LoginAccounts<A> {
  /**
   * The counter an attempt is charged to: the account the login resolves to however it is spelled
   * (quotes, case, IDNA-ignored characters), else the normalised address. Keying on the raw text would
   * give every spelling a fresh budget.
   */
  loginKey(login: string): Promise<string>;
  /** The account, when login and password are right; null otherwise. */
  authenticate(login: string, password: string): Promise<A | null>;
}

/**
 * The longest login name any protocol accepts, in octets: an address is at most 64 + 1 + 255 octets
 * (RFC 5321 4.5.3.1). Longer names are refused before the limiter or the directory see them, so a
 * login cannot be used to make either hash or store megabytes. Each protocol answers its own clear
 * error first (loginNameTooLong); guardedLogin refuses them too, as a backstop.
 */
export const MAX_LOGIN_NAME_BYTES = 320;

export function loginNameTooLong(login: string): boolean {
  return login.length > MAX_LOGIN_NAME_BYTES || Buffer.byteLength(login, 'utf8') > MAX_LOGIN_NAME_BYTES;
}

/**
 * A password login as SMTP AUTH, IMAP LOGIN/AUTHENTICATE and POP3 USER/PASS/AUTH all do it:
 * let the shared limiter admit and count the attempt (refuse when locked, wait the growing delay
 * otherwise), then verify, and on success take the count back. One limiter across protocols, so
 * guessing over IMAP and SMTP at once does not double an attacker's budget. Backend errors propagate
 * (the attempt stays counted: a guesser gains nothing from a failing backend).
 */
export async function guardedLogin<A>(
  limiter: LoginLimiter,
  accounts: LoginAccounts<A>,
  login: string,
  password: string,
  ip: string,
): Promise<GuardedLogin<A>> {
  if (loginNameTooLong(login)) return { kind: 'failed' };
  const loginKey = await accounts.loginKey(login);
  const verdict = await limiter.admit(loginKey, ip);
  if (verdict.kind === 'locked') return { kind: 'locked', by: verdict.by };
  if (verdict.delayMs > 0) await sleep(verdict.delayMs);
  const account = await accounts.authenticate(login, password);
  if (account === null) return { kind: 'failed' };
  await limiter.recordSuccess(loginKey, ip);
  return { kind: 'ok', account };
}
