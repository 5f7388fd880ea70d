import { setTimeout as sleep } from 'node:timers/promises';
import { metrics, type Logger } from '@correo/telemetry';
import type { LoginLimiter } from './login-limiter.js';
import { isLoopbackAddress } from './loopback.js';

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
 * error first (loginNameTooLong); the policy refuses them too, as a backstop.
 */
export const MAX_LOGIN_NAME_BYTES = 320;

export function loginNameTooLong(login: string): boolean {
  return login.length > MAX_LOGIN_NAME_BYTES || Buffer.byteLength(login, 'utf8') > MAX_LOGIN_NAME_BYTES;
}

export type LoginProtocol = 'smtp' | 'imap' | 'pop3' | 'managesieve';

/**
 * The `outcome` label of correo_logins_total, the same for every protocol:
 * success; failure (wrong login or password); locked_out (refused by the limiter, answered as a
 * failure); refused (before the credentials were looked at: no TLS, a name past the limit, a
 * malformed SASL exchange; or right credentials with another authorization identity); error (a
 * backend failed). What a protocol refuses after a success (POP3 maildrop in use, a per-user
 * connection cap) is the session's business and not counted here: one attempt, one outcome.
 */
export type LoginOutcome = 'success' | 'failure' | 'locked_out' | 'refused' | 'error';

/** Why a login was `refused`, as logged (`reason`): one vocabulary for every protocol. */
export type LoginRefusal =
  'no TLS' | 'login name too long' | 'unsupported mechanism' | 'malformed SASL' | 'authorization identity';

export const loginMetrics = {
  logins: metrics.counter<'protocol' | 'outcome'>({
    name: 'correo_logins_total',
    help: 'Login attempts over SMTP AUTH, IMAP, POP3 and ManageSieve, by protocol and outcome.',
    labelNames: ['protocol', 'outcome'],
  }),
};

export interface LoginAttempt {
  protocol: LoginProtocol;
  login: string;
  password: string;
  /** The SASL authorization identity; empty or absent when the client asked for none. */
  authorizationId?: string;
  /** The client's address, as the connection layer reports it. */
  ip: string;
}

export type LoginResult<A> =
  | { kind: 'ok'; account: A }
  /**
   * Wrong login or password, or locked out: one kind, so no caller can answer the two differently.
   * The policy has already waited the failure delay; answer at once with the protocol's failure reply.
   */
  | { kind: 'rejected' }
  /** Right credentials, but the authorization identity names someone else (IMAP AUTHORIZATIONFAILED). */
  | { kind: 'unauthorized' };

export interface LoginPolicyOptions {
  /**
   * Every rejected answer (wrong password or locked out) leaves this long after the limiter's
   * progressive delay, measured from the start of the attempt (default 1 s). It hides the cost of the
   * password check, which a locked-out answer skips, so the two take the same time.
   */
  failureDelayMs?: number;
  /** Injected by tests, which assert the waits without measuring time. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  logger?: Logger;
}

export const DEFAULT_FAILURE_DELAY_MS = 1000;

/**
 * The one login policy of every protocol that takes a password (SMTP AUTH, IMAP LOGIN/AUTHENTICATE,
 * POP3 USER/PASS/AUTH, ManageSieve AUTHENTICATE): TLS first, the shared limiter (progressive delay
 * before the password check, lockout per login and per network, across pods and protocols), the
 * same wait before any rejected answer, one metric (correo_logins_total{protocol,outcome}) and one log
 * line with the same fields. Protocols only turn the result into their own reply.
 */
export class LoginPolicy {
  private readonly failureDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly limiter: LoginLimiter,
    private readonly options: LoginPolicyOptions = {},
  ) {
    this.failureDelayMs = options.failureDelayMs ?? DEFAULT_FAILURE_DELAY_MS;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
    // Monotonic: a wall-clock step must not stretch or cut the failure delay.
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Plaintext credentials only over TLS; the embedded default may allow them from loopback clients.
   * smtp-ingress enforces the same rule through smtp-server's allowInsecureAuth and its hooks.
   */
  credentialsAllowed(
    connection: { secure: boolean; remoteAddress: string },
    allowOnLoopback: boolean,
  ): boolean {
    return connection.secure || (allowOnLoopback && isLoopbackAddress(connection.remoteAddress));
  }

  /**
   * Admit and count the attempt (refuse when locked, else wait the growing delay), verify, and on
   * success take the count back. One limiter across protocols, so guessing over IMAP and SMTP at
   * once does not double an attacker's budget. Backend errors are counted and propagate (the
   * attempt stays counted: a guesser gains nothing from a failing backend).
   */
  async attempt<A>(accounts: LoginAccounts<A>, attempt: LoginAttempt): Promise<LoginResult<A>> {
    const started = this.now();
    const { protocol, login, password, ip } = attempt;
    if (loginNameTooLong(login)) {
      this.refused(protocol, ip, 'login name too long');
      return { kind: 'rejected' };
    }
    try {
      const loginKey = await accounts.loginKey(login);
      const verdict = await this.limiter.admit(loginKey, ip);
      if (verdict.kind === 'locked') {
        await this.waitUntil(started + verdict.delayMs + this.failureDelayMs);
        this.record(protocol, 'locked_out', { ip, account: loginKey, lockedBy: verdict.by });
        return { kind: 'rejected' };
      }
      if (verdict.delayMs > 0) await this.sleep(verdict.delayMs);
      const account = await accounts.authenticate(login, password);
      if (account === null) {
        await this.waitUntil(started + verdict.delayMs + this.failureDelayMs);
        this.record(protocol, 'failure', { ip, account: loginKey });
        return { kind: 'rejected' };
      }
      const authorizationId = attempt.authorizationId ?? '';
      if (authorizationId !== '' && (await accounts.loginKey(authorizationId)) !== loginKey) {
        // Acting as another account is not offered; the attempt stays counted.
        const reason: LoginRefusal = 'authorization identity';
        this.record(protocol, 'refused', { ip, account: loginKey, reason });
        return { kind: 'unauthorized' };
      }
      await this.limiter.recordSuccess(loginKey, ip);
      this.record(protocol, 'success', { ip, account: loginKey });
      return { kind: 'ok', account };
    } catch (error) {
      this.record(protocol, 'error', { ip, err: error });
      throw error;
    }
  }

  /**
   * A login refused before its credentials were looked at, for a reason the client may be told: no
   * TLS, a name past MAX_LOGIN_NAME_BYTES, an unknown mechanism, a malformed SASL exchange.
   */
  refused(protocol: LoginProtocol, ip: string, reason: LoginRefusal): void {
    this.record(protocol, 'refused', { ip, reason });
  }

  private async waitUntil(deadline: number): Promise<void> {
    const remaining = deadline - this.now();
    if (remaining > 0) await this.sleep(remaining);
  }

  private record(protocol: LoginProtocol, outcome: LoginOutcome, fields: Record<string, unknown>): void {
    loginMetrics.logins.inc({ protocol, outcome });
    const logger = this.options.logger;
    if (!logger) return;
    const line = { protocol, outcome, ...fields };
    if (outcome === 'error') logger.error(line, 'login failed on a backend');
    else if (outcome === 'locked_out') logger.warn(line, 'login refused: too many failures');
    else logger.info(line, `login ${outcome}`);
  }
}
