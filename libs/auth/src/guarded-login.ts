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
  const loginKey = await accounts.loginKey(login);
  const verdict = await limiter.admit(loginKey, ip);
  if (verdict.kind === 'locked') return { kind: 'locked', by: verdict.by };
  if (verdict.delayMs > 0) await sleep(verdict.delayMs);
  const account = await accounts.authenticate(login, password);
  if (account === null) return { kind: 'failed' };
  await limiter.recordSuccess(loginKey, ip);
  return { kind: 'ok', account };
}
