import type { Limits } from '@correo/limits';
import type { OutboundMessage } from '@correo/proto';

/**
 * Recipients per window that one account, one tenant, and all senders together towards one remote
 * domain may send (RELAY_LIMIT_*; 0: no limit). Counted through libs/limits, so every relay pod
 * shares the counters (Redis; in-process in the all-in-one).
 */
export interface OutboundLimits {
  windowMs: number;
  perAccount: number;
  perTenant: number;
  perDomain: number;
}

interface Counter {
  key: string;
  limit: number;
  what: string;
}

/**
 * Charges `recipients` to the job's account, tenant and destination domain, in that order, and
 * stops at the first limit that would be exceeded: its charges are taken back (an attempt that does
 * not happen costs nothing) and the reason is returned; null when the attempt may go ahead.
 * Each counter moves by one atomic increment, so pods racing for the last permits never overshoot;
 * one refused attempt can make another see a limit a moment early, never late.
 */
export async function chargeOutbound(
  limits: Limits,
  settings: OutboundLimits,
  job: OutboundMessage,
  recipients: number,
): Promise<string | null> {
  const domain = job.destinationDomain.toLowerCase();
  const counters: Counter[] = [
    ...(job.chargedTo
      ? [
          {
            key: `relay:account:${job.chargedTo.toLowerCase()}`,
            limit: settings.perAccount,
            what: `the account ${job.chargedTo}`,
          },
        ]
      : []),
    ...(job.tenantId
      ? [
          {
            key: `relay:tenant:${job.tenantId}`,
            limit: settings.perTenant,
            what: `the tenant ${job.tenantId}`,
          },
        ]
      : []),
    { key: `relay:domain:${domain}`, limit: settings.perDomain, what: `the remote domain ${domain}` },
  ].filter((counter) => counter.limit > 0);
  const charged: Counter[] = [];
  for (const counter of counters) {
    const count = await limits.increment(counter.key, settings.windowMs, recipients);
    charged.push(counter);
    if (count > counter.limit) {
      for (const done of charged) await limits.increment(done.key, settings.windowMs, -recipients);
      return `outbound rate limit of ${counter.what} reached (${counter.limit} recipients per ${settings.windowMs / 1000} s)`;
    }
  }
  return null;
}
