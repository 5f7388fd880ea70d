import ipaddr from 'ipaddr.js';
import type { Limits } from '@correo/limits';

export interface LoginLimiterOptions {
  /** How long failures are remembered, from the first failure of a window (default 15 minutes). */
  windowMs?: number;
  /** Failures of one login allowed without delay (default 3). */
  freeFailures?: number;
  /** Failures of one login after which it is locked for the rest of the window (default 10). */
  loginLockAfter?: number;
  /** Failures from one client network, across logins, after which it is locked (default 50). */
  ipLockAfter?: number;
  /** Delay after the first failure past the free ones; doubles with each further failure (default 500 ms). */
  baseDelayMs?: number;
  /** Ceiling of that delay (default 8 s). */
  maxDelayMs?: number;
}

export type LoginVerdict =
  | { kind: 'allowed'; delayMs: number }
  /**
   * `by` says which counter tripped, for logs and metrics; clients get the same generic answer, after
   * `delayMs`: the delay a wrong password for this login would get now, so the wait does not tell a
   * lockout from a failure either.
   */
  | { kind: 'locked'; by: 'login' | 'ip'; delayMs: number };

export interface LoginLimiter {
  /**
   * Before the password check: counts this attempt against the login and the client's network in
   * one atomic step (as a failure until recordSuccess says otherwise) and says how long to wait
   * before answering, or refuses, without counting, when either is locked. Counting before the
   * check is what stops concurrent guesses from all passing one "not locked yet" look.
   * `loginKey` names the account however the client spelled it (Directory.loginKey).
   */
  admit(loginKey: string, ip: string): Promise<LoginVerdict>;
  /**
   * The attempt succeeded: clears the login's counter and takes this attempt back off the network's.
   * The network's earlier failures stay, so an attacker who owns one account cannot reset their
   * budget for guessing the others by logging in to it.
   */
  recordSuccess(loginKey: string, ip: string): Promise<void>;
}

/**
 * The network a client address is counted in: an IPv4 address alone, an IPv6 address by its /64 (one
 * subscriber's LAN or one server's range: any host holds the whole /64 and could walk through it), an
 * IPv4-mapped IPv6 address as its IPv4 address. Anything unparseable counts as itself.
 */
export function clientNetwork(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
}

/**
 * The block a client address belongs to for per-network limits and greylisting: an IPv4 address's /24
 * (one provider's pool, a spammer's small range; what Postgrey and Rspamd use), an IPv6 address's /64
 * (see clientNetwork), an IPv4-mapped IPv6 address as IPv4. Anything unparseable counts as itself.
 */
export function clientBlock(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv6') return clientNetwork(ip);
  const octets = (address as ipaddr.IPv4).octets;
  return `${octets.slice(0, 3).join('.')}.0/24`;
}

/** The limits counter of one login's failures (its key from Directory.loginKey): tests end its window. */
export function loginFailureCounter(loginKey: string): string {
  return `auth-fail:login:${loginKey}`;
}

/**
 * Failed-login throttling over the shared Limits port, so every pod of smtp-ingress, imap-gateway and
 * pop3-gateway sees the same counters: a progressive delay per login, then a lockout per login and per
 * client network.
 */
export function createLoginLimiter(limits: Limits, options: LoginLimiterOptions = {}): LoginLimiter {
  const windowMs = options.windowMs ?? 15 * 60_000;
  const freeFailures = options.freeFailures ?? 3;
  const loginLockAfter = options.loginLockAfter ?? 10;
  const ipLockAfter = options.ipLockAfter ?? 50;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 8_000;

  const loginCounter = loginFailureCounter;
  // Free failures first, then baseDelayMs doubling up to maxDelayMs.
  const delayAfter = (earlierFailures: number) => {
    const excess = earlierFailures - freeFailures;
    return excess < 0 ? 0 : Math.min(maxDelayMs, baseDelayMs * 2 ** excess);
  };
  const ipCounter = (ip: string) => `auth-fail:ip:${clientNetwork(ip)}`;

  return {
    async admit(loginKey, ip) {
      // The network first: when both are locked, the report names the wider cause.
      const outcome = await limits.incrementBelow(
        [
          { key: ipCounter(ip), ceiling: ipLockAfter },
          { key: loginCounter(loginKey), ceiling: loginLockAfter },
        ],
        windowMs,
      );
      if (!outcome.admitted) {
        // Not counted (polling while locked must not extend the lock); read the count for the delay.
        const failures = await limits.get(loginCounter(loginKey));
        return { kind: 'locked', by: outcome.index === 0 ? 'ip' : 'login', delayMs: delayAfter(failures) };
      }
      return { kind: 'allowed', delayMs: delayAfter(outcome.values[1]! - 1) };
    },

    async recordSuccess(loginKey, ip) {
      await Promise.all([
        limits.reset(loginCounter(loginKey)),
        limits.increment(ipCounter(ip), windowMs, -1),
      ]);
    },
  };
}
