import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { isLoopbackAddress } from '@correo/auth';
import type { AccountRef, Directory } from '@correo/directory';
import type { Limits } from '@correo/limits';
import type { Logger } from '@correo/telemetry';
import type { SmtpIngressConfig } from './config.js';
import type { IngressDecisions } from './decisions.js';
import { checkDnsLists } from './dns-lists.js';
import type { DnsLookup } from './dns-resolver.js';
import type { ListenerKind } from './envelope-policy.js';
import { Greylisting } from './greylisting.js';
import { checkHelo, checkReverseDns, type ReverseDns } from './helo-checks.js';
import { ingressMetrics } from './metrics.js';
import { clientWindows, countWithin, HOUR } from './rate-windows.js';
import { replaceChecks, senderChecks } from './session-checks.js';
import { replies, type SmtpReply } from './smtp-reply.js';

export interface AbuseDefenceDeps {
  config: SmtpIngressConfig;
  /** Whether a HELO name is one of our domains. */
  directory: Pick<Directory, 'isLocalDomain'>;
  limits: Limits;
  /** The resolver of the sender checks (SMTP_DNS_SERVERS). */
  lookup: DnsLookup;
  decisions: IngressDecisions;
  logger: Logger;
}

/**
 * The spam and abuse checks of the connection and envelope stages (docs/spam.md); the after-DATA
 * verdict is the spam filter's. Every check that cannot finish (DNS, the limits backend) lets the
 * client through and is counted in correo_smtp_check_failures_total: a broken dependency must not
 * stop mail. Loopback clients (this host: the webmail, local cron) skip the DNS-based checks.
 */
export class AbuseDefence {
  private readonly greylisting: Greylisting | undefined;
  private readonly reverseDns = new WeakMap<SMTPServerSession, Promise<ReverseDns>>();
  private readonly heloChecked = new WeakMap<SMTPServerSession, string>();

  constructor(private readonly deps: AbuseDefenceDeps) {
    const { greylisting } = deps.config.abuse;
    this.greylisting = greylisting.enabled ? new Greylisting(greylisting, deps.limits) : undefined;
  }

  /** After the connection guard admitted the client: DNSBL/DNSWL, and the PTR lookup starts. */
  async atConnect(kind: ListenerKind, session: SMTPServerSession): Promise<SmtpReply | null> {
    const ip = session.remoteAddress;
    if (kind !== 'mx' || isLoopbackAddress(ip)) return null;
    const { abuse } = this.deps.config;
    if (abuse.heloChecks) {
      const pending = checkReverseDns(this.deps.lookup, ip);
      // Awaited at MAIL FROM; a client that leaves before must not leave an unhandled rejection.
      pending.catch(() => undefined);
      this.reverseDns.set(session, pending);
    }
    const { zones, allowZones, mode, score } = abuse.dnsbl;
    if (zones.length === 0 && allowZones.length === 0) return null;
    const [blocked, allowed] = await Promise.all([
      checkDnsLists(this.deps.lookup, ip, zones),
      checkDnsLists(this.deps.lookup, ip, allowZones),
    ]);
    for (const zone of [...blocked.failed, ...allowed.failed]) {
      ingressMetrics.checkFailures.inc({ check: 'dns-list' });
      this.deps.logger.warn({ zone, ip }, 'DNS list lookup failed, not listed');
    }
    const checks = senderChecks(session);
    const allow = allowed.listed[0];
    if (allow) {
      ingressMetrics.dnsListHits.inc({ zone: allow.zone, kind: 'allow' });
      checks.allowListedBy = allow.zone;
    }
    for (const listing of blocked.listed)
      ingressMetrics.dnsListHits.inc({ zone: listing.zone, kind: 'block' });
    const block = blocked.listed[0];
    // A DNSWL listing outweighs a block list: the allow list is the operator's explicit trust.
    if (!block || allow) return null;
    if (mode === 'reject') return replies.dnsBlocked(ip, block.zone);
    replaceChecks(
      checks,
      'RBL_',
      blocked.listed.map((listing) => ({
        symbol: `RBL_${listing.zone}`,
        score,
        detail: `${ip} listed by ${listing.zone} (${listing.answer})`,
      })),
    );
    ingressMetrics.senderChecks.inc({ symbol: 'RBL' }, blocked.listed.length);
    return null;
  }

  /** MAIL FROM: the HELO/rDNS findings (MX) and the message rates of unauthenticated clients. */
  async atMail(kind: ListenerKind, session: SMTPServerSession): Promise<void> {
    const ip = session.remoteAddress;
    const { abuse, hostname } = this.deps.config;
    if (kind === 'mx' && abuse.heloChecks && !isLoopbackAddress(ip))
      await this.heloFindings(session, hostname);
    // Authenticated clients are counted per account (RCPT); this host is not rate-limited here.
    if (session.user || isLoopbackAddress(ip)) return;
    let hit: string | null;
    try {
      hit = await countWithin(
        this.deps.limits,
        clientWindows('messages', ip, {
          ipPerMinute: abuse.messagesPerIpPerMinute,
          ipPerHour: abuse.messagesPerIpPerHour,
          blockPerMinute: abuse.messagesPerBlockPerMinute,
          blockPerHour: abuse.messagesPerBlockPerHour,
        }),
      );
    } catch (error) {
      this.failedOpen('limits', error);
      return;
    }
    if (hit !== null) {
      ingressMetrics.limitHits.inc({ limit: hit });
      throw replies.messageRateLimited(hit);
    }
  }

  /** RCPT TO, before anything else (as smtp-server's own cap did): the recipients of one message. */
  checkRecipientCount(session: SMTPServerSession, recipient: SMTPServerAddress): void {
    const { maxRecipients } = this.deps.config;
    if (!alreadyGiven(session, recipient) && session.envelope.rcptTo.length >= maxRecipients) {
      ingressMetrics.limitHits.inc({ limit: 'message-recipients' });
      throw replies.tooManyRecipients(maxRecipients);
    }
  }

  /**
   * RCPT TO, after the recipient was found valid: the authenticated account's recipients per hour,
   * greylisting (MX).
   */
  async atRcpt(kind: ListenerKind, session: SMTPServerSession, recipient: SMTPServerAddress): Promise<void> {
    const account = session.user as AccountRef | undefined;
    // A repeated RCPT replaces the earlier one (smtp-server): it is not another recipient.
    if (account && !alreadyGiven(session, recipient)) {
      let hit: string | null = null;
      try {
        hit = await countWithin(this.deps.limits, [
          {
            limit: 'account-recipients-hour',
            key: `smtp:recipients-hour:${account.accountId}`,
            ceiling: this.deps.config.abuse.recipientsPerAccountPerHour,
            windowMs: HOUR,
          },
        ]);
      } catch (error) {
        this.failedOpen('limits', error);
      }
      if (hit !== null) {
        ingressMetrics.limitHits.inc({ limit: hit });
        throw replies.accountRecipientsLimited();
      }
    }
    if (kind === 'mx' && this.greylisting) await this.greylist(session, recipient.address);
  }

  private async greylist(session: SMTPServerSession, recipient: string): Promise<void> {
    const greylisting = this.greylisting!;
    const ip = session.remoteAddress;
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const allowListedBy = senderChecks(session).allowListedBy;
    const exempt =
      Boolean(session.user) ||
      allowListedBy !== undefined ||
      greylisting.exemption(ip, mailFrom) !== undefined;
    if (exempt) {
      ingressMetrics.greylisting.inc({ result: 'skipped' });
      return;
    }
    let verdict;
    try {
      verdict = await greylisting.check(ip, mailFrom, recipient);
    } catch (error) {
      this.failedOpen('greylisting', error);
      return;
    }
    ingressMetrics.greylisting.inc({ result: verdict.result });
    if (verdict.result === 'greylisted') throw replies.greylisted(verdict.retryInSeconds);
    if (verdict.result === 'passed') {
      this.deps.decisions.decide('mx', session, {
        stage: 'rcpt',
        outcome: 'accepted',
        reason: 'greylist-passed',
        detail: 'retried after the greylisting delay: triplet remembered',
        recipients: [recipient],
      });
    }
  }

  /** Once per session and HELO name (a second EHLO is checked again). */
  private async heloFindings(session: SMTPServerSession, hostname: string): Promise<void> {
    const helo = session.hostNameAppearsAs || '';
    if (this.heloChecked.get(session) === helo) return;
    this.heloChecked.set(session, helo);
    const checks = senderChecks(session);
    let hosted = false;
    if (/^[a-z0-9.-]+\.[a-z0-9-]+$/i.test(helo)) {
      try {
        hosted = await this.deps.directory.isLocalDomain(helo.toLowerCase());
      } catch (error) {
        this.failedOpen('directory', error);
      }
    }
    const found = checkHelo(helo, session.remoteAddress, hostname, hosted);
    const reverse = await this.reverseDns.get(session)?.catch(() => undefined);
    if (reverse?.failed) this.failedOpen('reverse-dns');
    if (reverse) checks.verifiedHostname = reverse.verifiedHostname;
    const findings = [...found, ...(reverse?.findings ?? [])];
    replaceChecks(checks, 'HELO_', found);
    replaceChecks(checks, 'RDNS_', reverse?.findings ?? []);
    for (const check of findings) ingressMetrics.senderChecks.inc({ symbol: check.symbol });
  }

  private failedOpen(check: string, error?: unknown): void {
    ingressMetrics.checkFailures.inc({ check });
    this.deps.logger.warn({ err: error, check }, 'check unavailable, letting the client through');
  }
}

/** True when the envelope already has this recipient (compared as smtp-server does, without case). */
export function alreadyGiven(session: SMTPServerSession, recipient: SMTPServerAddress): boolean {
  const address = recipient.address.toLowerCase();
  return session.envelope.rcptTo.some((given) => given.address.toLowerCase() === address);
}
