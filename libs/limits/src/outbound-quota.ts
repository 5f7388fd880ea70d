import type { Limits } from './port.js';

/**
 * MAIL_OUTBOUND_PER_ACCOUNT_PER_HOUR / MAIL_OUTBOUND_PER_TENANT_PER_HOUR: messages to remote
 * recipients (counted per recipient) one account and one tenant may hand in per hour; 0 = no limit.
 */
export interface OutboundQuotaSettings {
  perAccountPerHour: number;
  perTenantPerHour: number;
}

/** Who sends: the account's address and its tenant ('' when there is none). */
export interface OutboundSender {
  account: string;
  tenantId: string;
}

export type OutboundQuotaOutcome =
  | { admitted: true }
  /** The hourly limit of the account or of its tenant is reached; `text` says which, for a reply or a log. */
  | { admitted: false; limit: 'account' | 'tenant'; ceiling: number; text: string };

const HOUR_MS = 3_600_000;

/**
 * The hourly outbound limits of an account and its tenant, shared by every pod through the limits
 * port (Redis; in-process in the all-in-one). One place counts what an account makes the system send,
 * whichever way: authenticated submission to remote recipients (smtp-ingress at RCPT), and what
 * Sieve sends on its behalf at delivery (redirects, vacation replies: the mda), so aliases and rules
 * cannot amplify past the limit. Check and count are one atomic step (Limits.incrementBelow): pods
 * racing for the last permit never pass the limit together, and a refusal counts nothing.
 */
export class OutboundQuota {
  constructor(
    private readonly limits: Limits,
    private readonly settings: OutboundQuotaSettings,
  ) {}

  /** Counts `count` messages for the sender when both its limits have room; otherwise counts nothing. */
  async charge(sender: OutboundSender, count = 1): Promise<OutboundQuotaOutcome> {
    const account = sender.account.toLowerCase();
    const counters = [
      {
        key: `outbound:account:${account}`,
        ceiling: this.settings.perAccountPerHour,
        limit: 'account' as const,
        what: `of ${account}`,
        applies: account !== '',
      },
      {
        key: `outbound:tenant:${sender.tenantId}`,
        ceiling: this.settings.perTenantPerHour,
        limit: 'tenant' as const,
        what: 'of your organisation',
        applies: sender.tenantId !== '',
      },
    ].filter((c) => c.applies && c.ceiling > 0);
    if (counters.length === 0) return { admitted: true };
    const outcome = await this.limits.incrementBelow(counters, HOUR_MS, count);
    if (outcome.admitted) return { admitted: true };
    const { limit, ceiling, what } = counters[outcome.index]!;
    return {
      admitted: false,
      limit,
      ceiling,
      text: `Outbound limit ${what} reached (${ceiling} messages per hour), try again later`,
    };
  }
}
