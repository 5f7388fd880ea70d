import { createHash } from 'node:crypto';
import { clientBlock } from '@correo/auth';
import type { Limits } from '@correo/limits';
import { TrustedProxies } from '@correo/line-server';
import type { GreylistingConfig } from './config.js';

export type GreylistVerdict =
  /** First attempt, or a retry before the delay: 451 with the seconds left. */
  | { result: 'greylisted'; retryInSeconds: number }
  /** A retry after the delay: passes, and the triplet is remembered. */
  | { result: 'passed' }
  /** A remembered triplet. */
  | { result: 'known' }
  | { result: 'skipped'; why: string };

/**
 * Greylisting on the MX listener (docs/spam.md): the first delivery attempt of an unknown triplet
 * (client block /24 or /64, MAIL FROM, RCPT TO) is deferred; a real MTA retries, most spamware does
 * not. The block rather than the address, because large senders retry from another host of their
 * pool. State is in the limits port (Redis across pods, backend time): firstSeen for pending
 * triplets, a counter for passed ones.
 */
export class Greylisting {
  private readonly allowNetworks: TrustedProxies;
  private readonly allowDomains: Set<string>;

  constructor(
    private readonly config: GreylistingConfig,
    private readonly limits: Limits,
  ) {
    // TrustedProxies is the CIDR matcher of the PROXY-header code (v4-mapped addresses included).
    this.allowNetworks = new TrustedProxies(config.allowNetworks);
    this.allowDomains = new Set(config.allowSenderDomains);
  }

  /** Why the client is never greylisted (allow-listed network or sender domain); undefined: look it up. */
  exemption(clientIp: string, mailFrom: string): string | undefined {
    if (this.allowNetworks.trusts(clientIp)) return 'allow-listed network';
    const domain = mailFrom.slice(mailFrom.lastIndexOf('@') + 1).toLowerCase();
    if (mailFrom.includes('@') && this.allowDomains.has(domain)) return 'allow-listed sender domain';
    return undefined;
  }

  async check(clientIp: string, mailFrom: string, recipient: string): Promise<GreylistVerdict> {
    const triplet = createHash('sha256')
      .update(`${clientBlock(clientIp)}\0${mailFrom.toLowerCase()}\0${recipient.toLowerCase()}`)
      .digest('hex')
      .slice(0, 32);
    const passed = `greylist:passed:${triplet}`;
    if ((await this.limits.get(passed)) > 0) return { result: 'known' };
    const age = await this.limits.firstSeen(`greylist:pending:${triplet}`, this.config.retryWindowMs);
    if (age < this.config.delayMs) {
      return {
        result: 'greylisted',
        retryInSeconds: Math.max(1, Math.ceil((this.config.delayMs - age) / 1000)),
      };
    }
    await this.limits.increment(passed, this.config.passTtlMs);
    await this.limits.forgetSeen(`greylist:pending:${triplet}`);
    return { result: 'passed' };
  }
}
