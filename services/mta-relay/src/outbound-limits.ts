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

/**
 * Charges `recipients` to the job's account, tenant and destination domain in one atomic step
 * (Limits.incrementBelow: one Redis script), so pods racing for the last permits never pass a limit
 * together and a refused attempt changes no counter. Resolves the reason when a limit would be
 * passed (the first one, in that order), null when the attempt may go ahead. A job with more
 * recipients than the smallest limit is charged that limit, so it can still go in an empty window.
 *
 * A job is charged once per window, by its first admitted attempt in it, not once per attempt: its
 * retries (a remote 4xx, a body store that was down, an attempt cut short) are the same message to
 * the same recipients, and charging each used up the sender's allowance on mail that was never sent
 * and then held all its mail for the rest of the window (fault run seed 109: during a MinIO outage
 * every job was released and attempted again many times a second, each time charged). A job still
 * retried in a later window counts in that window once. The mark lives beside the counters (same
 * store: it goes when they go) for one window, so there are never more marks than jobs admitted in
 * a window. A crash between the charge and the mark charges the job once more: over-counting, never
 * under-counting.
 */
export async function chargeOutbound(
  limits: Limits,
  settings: OutboundLimits,
  job: OutboundMessage,
  recipients: number,
): Promise<string | null> {
  const domain = job.destinationDomain.toLowerCase();
  const counters = [
    {
      key: `relay:account:${job.chargedTo.toLowerCase()}`,
      ceiling: settings.perAccount,
      charged: job.chargedTo !== '',
      what: `the account ${job.chargedTo}`,
    },
    {
      key: `relay:tenant:${job.chargedTenantId}`,
      ceiling: settings.perTenant,
      charged: job.chargedTenantId !== '',
      what: `the tenant ${job.chargedTenantId}`,
    },
    {
      key: `relay:domain:${domain}`,
      ceiling: settings.perDomain,
      charged: true,
      what: `the remote domain ${domain}`,
    },
  ].filter((counter) => counter.charged && counter.ceiling > 0);
  if (counters.length === 0) return null;
  // Set by this job's first admitted attempt in the window: its recipients are counted already.
  const mark = `relay:charged:${job.eventId}`;
  if ((await limits.get(mark)) > 0) return null;
  const by = Math.min(recipients, ...counters.map((counter) => counter.ceiling));
  const outcome = await limits.incrementBelow(counters, settings.windowMs, by);
  if (outcome.admitted) {
    await limits.increment(mark, settings.windowMs);
    return null;
  }
  const { what, ceiling } = counters[outcome.index]!;
  return `outbound rate limit of ${what} reached (${ceiling} recipients per ${settings.windowMs / 1000} s)`;
}
