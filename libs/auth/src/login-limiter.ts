import type { Limits } from '@correo/limits';

export interface LoginLimiterOptions {
  /** How long failures are remembered, from the first failure of a window (default 15 minutes). */
  windowMs?: number;
  /** Failures of one login allowed without delay (default 3). */
  freeFailures?: number;
  /** Failures of one login after which it is locked for the rest of the window (default 10). */
  loginLockAfter?: number;
  /** Failures from one client IP, across logins, after which the IP is locked (default 50). */
  ipLockAfter?: number;
  /** Delay after the first failure past the free ones; doubles with each further failure (default 500 ms). */
  baseDelayMs?: number;
  /** Ceiling of that delay (default 8 s). */
  maxDelayMs?: number;
}

export type LoginVerdict =
  | { kind: 'allowed'; delayMs: number }
  /** `by` says which counter tripped, for logs and metrics; clients get the same generic answer. */
  | { kind: 'locked'; by: 'login' | 'ip' };

export interface LoginLimiter {
  /** Before checking credentials: how long to wait before answering, or refuse outright. */
  checkAllowed(login: string, ip: string): Promise<LoginVerdict>;
  recordFailure(login: string, ip: string): Promise<void>;
  /**
   * Clears the login's counter only: the IP's counter keeps counting so that an attacker who owns one
   * account cannot reset their budget for guessing the others.
   */
  recordSuccess(login: string, ip: string): Promise<void>;
}

/**
 * Failed-login throttling over the shared Limits port, so every pod of smtp-ingress, imap-gateway and
 * pop3-gateway sees the same counters: a progressive delay per login, then a lockout per login and per IP.
 */
export function createLoginLimiter(limits: Limits, options: LoginLimiterOptions = {}): LoginLimiter {
  const windowMs = options.windowMs ?? 15 * 60_000;
  const freeFailures = options.freeFailures ?? 3;
  const loginLockAfter = options.loginLockAfter ?? 10;
  const ipLockAfter = options.ipLockAfter ?? 50;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 8_000;

  // Logins differ only in case for the same account (lookups ignore case), so they share a counter.
  const loginKey = (login: string) => `auth-fail:login:${login.trim().toLowerCase()}`;
  const ipKey = (ip: string) => `auth-fail:ip:${ip}`;

  return {
    async checkAllowed(login, ip) {
      const [byLogin, byIp] = await Promise.all([limits.get(loginKey(login)), limits.get(ipKey(ip))]);
      if (byIp >= ipLockAfter) return { kind: 'locked', by: 'ip' };
      if (byLogin >= loginLockAfter) return { kind: 'locked', by: 'login' };
      const excess = byLogin - freeFailures;
      const delayMs = excess < 0 ? 0 : Math.min(maxDelayMs, baseDelayMs * 2 ** excess);
      return { kind: 'allowed', delayMs };
    },

    async recordFailure(login, ip) {
      await Promise.all([limits.increment(loginKey(login), windowMs), limits.increment(ipKey(ip), windowMs)]);
    },

    async recordSuccess(login) {
      await limits.reset(loginKey(login));
    },
  };
}
