import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { buildRejectionNotice, buildVacationReply } from '@correo/dsn';
import { SubmissionKind, generatedMessageRecord, nameBasedId } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import { automatedMessage } from '@correo/sieve';
import type { MessageView, SieveAction } from '@correo/sieve';
import type { OutboundQuota } from '@correo/limits';
import { claimVacationReply, recordDecisions, releaseVacationReply } from '@correo/store';
import type { VacationClaim, VacationClaimResult } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { targetMailbox } from './filing.js';
import { mdaMetrics } from './metrics.js';
import { domainOf, type LocalTarget } from './recipients.js';
import type { SieveContext } from './sieve.js';

/** Enough of the original for the header section a reply quotes and threads on. */
const ORIGINAL_HEADER_BYTES = 64 * 1024;

/** A vacation reply the script asked for (libs/sieve already left out lists, bulk, auto-replies, the user). */
export interface VacationRequest {
  kind: 'vacation';
  target: LocalTarget;
  action: Extract<SieveAction, { type: 'vacation' }>;
}

/** A reject/ereject: the message is not filed; a notice goes back only to a sender that is not forged. */
export interface RejectRequest {
  kind: 'reject';
  target: LocalTarget;
  reason: string;
  /** Why no notice may go back (automated or unverified sender), or null: send it. */
  suppressed: string | null;
}

export type AutoReply = VacationRequest | RejectRequest;

/** MDA_VACATION_*: the bounds a script's :days is clamped to (RFC 5230 4.1 leaves them to the site). */
export interface VacationSettings {
  minDays: number;
  maxDays: number;
}

/**
 * Claims one message Sieve sends for the account (a redirect, a vacation reply: its
 * sieve_vacation_replies row, claimVacationReply) and counts it against the account's and its
 * tenant's hourly outbound limits (OutboundQuota, MAIL_OUTBOUND_*) only when the claim is `first`:
 * a redelivered event finds its own claim (`again`) and sends the same message (same job id) again
 * without being charged twice. Over the limits the claim is given back (not sent, so not
 * remembered: a later delivery decides afresh) and the answer is `over-limit`.
 */
export async function claimOutbound(
  ctx: Pick<SieveContext, 'pool' | 'outboundQuota'>,
  log: Logger,
  target: LocalTarget,
  what: 'redirect' | 'vacation',
  claim: VacationClaim,
): Promise<VacationClaimResult | 'over-limit'> {
  const claimed = await claimVacationReply(ctx.pool, claim);
  if (claimed !== 'first' || (await outboundAdmitted(ctx.outboundQuota, log, target, what))) return claimed;
  await releaseVacationReply(ctx.pool, claim.accountId, claim.sender, claim.handle, claim.eventId);
  return 'over-limit';
}

/**
 * Counts one message against the outbound limits; false when over them (logged and counted as
 * `<what>-over-limit`). The limits backend unreachable: admitted, so a Redis outage never holds up
 * delivery (logged and counted as `limits-unavailable`).
 */
async function outboundAdmitted(
  quota: OutboundQuota | undefined,
  log: Logger,
  target: LocalTarget,
  what: 'redirect' | 'vacation',
): Promise<boolean> {
  if (!quota) return true;
  const where = { recipient: target.recipient, accountId: target.account.accountId };
  try {
    const outcome = await quota.charge({
      account: target.account.address,
      tenantId: target.account.tenantId,
    });
    if (outcome.admitted) return true;
    mdaMetrics.sieveRuns.inc({ outcome: `${what}-over-limit` });
    log.warn(
      { ...where, limit: outcome.limit, ceiling: outcome.ceiling },
      `sieve ${what} not sent: ${outcome.text}`,
    );
    return false;
  } catch (error) {
    mdaMetrics.sieveRuns.inc({ outcome: 'limits-unavailable' });
    log.warn({ ...where, err: error }, `outbound limits unavailable: sieve ${what} sent uncounted`);
    return true;
  }
}

/**
 * Whether the recipient's copy was filed as spam: the one place the vacation asks. The Junk
 * decision of filing.ts: the Rspamd verdict's per-recipient Junk threshold, or DMARC quarantine.
 */
export function filedAsSpam(event: MailAccepted, recipient: string): boolean {
  return targetMailbox(event, recipient) === 'Junk';
}

/**
 * Whether the envelope sender is known not to be forged, so a rejection notice to it is no
 * backscatter (RFC 5429 2.1, RFC 3834 2): an authenticated submission, an SPF pass for the MAIL
 * FROM domain, or a DKIM/DMARC pass for a domain aligned with it (the same domain, or one a
 * subdomain of the other: relaxed alignment, RFC 7489 3.1). smtp-ingress checked these and they
 * ride in the event's Authentication-Results.
 */
export function senderVerified(event: MailAccepted): boolean {
  if (event.mailFrom === '') return false;
  if (event.kind === SubmissionKind.SUBMISSION && event.authenticatedUser !== '') return true;
  const mailFromDomain = domainOf(event.mailFrom);
  const aligned = (domain: string | undefined) => {
    if (!domain) return false;
    const d = domain.toLowerCase();
    return d === mailFromDomain || d.endsWith(`.${mailFromDomain}`) || mailFromDomain.endsWith(`.${d}`);
  };
  return (event.authenticationResults?.results ?? []).some((r) => {
    if (r.result !== 'pass') return false;
    switch (r.method) {
      case 'spf': {
        const checked = r.properties['smtp.mailfrom'];
        return checked !== undefined && domainOf(checked) === mailFromDomain;
      }
      case 'dkim':
        return aligned(r.properties['header.d'] ?? r.properties['header.i']?.split('@').pop());
      case 'dmarc':
        return aligned(r.properties['header.from']);
      default:
        return false;
    }
  });
}

/** Why a rejection notice may not go to this message's sender, or null when it may. */
export function rejectionSuppressed(event: MailAccepted, message: Pick<MessageView, 'envelope' | 'headers'>) {
  const automated = automatedMessage(message);
  if (automated) return automated;
  if (!senderVerified(event)) return 'sender not verified (no SPF, DKIM or DMARC pass for its domain)';
  return null;
}

/**
 * Sends the vacation replies and rejection notices of one event, each exactly once: its bytes, its
 * Message-ID and its job id derive from the event and the recipient, so a redelivered event hands
 * over the very same message, which the relay (a remote sender) or the mda's filing (a local
 * sender) keeps once. A vacation first claims its once-per-sender row (claimVacationReply), keyed
 * to this event: a redelivery finds its own claim and sends again (the same message), another
 * message from the sender within the period finds the claim of another event and sends nothing.
 * Called before the event's copies are filed, like redirects (publishRedirects).
 */
export async function sendAutoReplies(
  ctx: SieveContext,
  log: Logger,
  event: MailAccepted,
  headers: Record<string, string>,
  acceptedAt: Date,
  replies: readonly AutoReply[],
): Promise<void> {
  let original: Buffer | undefined;
  const originalHeader = async () =>
    (original ??=
      event.body.byteLength > 0
        ? Buffer.from(
            event.body.buffer,
            event.body.byteOffset,
            Math.min(event.body.byteLength, ORIGINAL_HEADER_BYTES),
          )
        : await buffer(await ctx.blobs.get(event.blobKey, { start: 0, end: ORIGINAL_HEADER_BYTES - 1 })));
  for (const reply of replies) {
    const { target } = reply;
    const where = { recipient: target.recipient, accountId: target.account.accountId, to: event.mailFrom };
    if (reply.kind === 'reject') {
      if (reply.suppressed) {
        mdaMetrics.sieveRuns.inc({ outcome: 'reject-suppressed' });
        log.warn({ ...where, why: reply.suppressed }, 'sieve reject: discarded, no notice sent');
        await recordRejection(
          ctx,
          log,
          event,
          target,
          'sieve-reject-suppressed',
          `discarded, no notice sent: ${reply.suppressed}`,
        );
        continue;
      }
      const id = nameBasedId('sieve-reject', event.eventId, target.recipient);
      const notice = buildRejectionNotice({
        from: `postmaster@${domainOf(target.account.address)}`,
        to: event.mailFrom,
        original: await originalHeader(),
        date: acceptedAt,
        messageId: `${id}@${domainOf(target.account.address)}`,
        reportingUa: domainOf(target.account.address),
        finalRecipient: target.recipient,
        reason: reply.reason,
      });
      await sendGenerated(ctx, event, headers, target, id, notice);
      mdaMetrics.sieveRuns.inc({ outcome: 'reject-sent' });
      log.info(where, 'sieve reject: message discarded, rejection notice sent');
      await recordRejection(
        ctx,
        log,
        event,
        target,
        'sieve-reject',
        `discarded, rejection notice sent to <${event.mailFrom}>: ${reply.reason}`,
      );
      continue;
    }
    const { action } = reply;
    if (filedAsSpam(event, target.recipient)) {
      mdaMetrics.sieveRuns.inc({ outcome: 'vacation-suppressed' });
      log.info({ ...where, why: 'filed as spam' }, 'sieve vacation: no reply');
      continue;
    }
    const days = Math.min(ctx.vacation.maxDays, Math.max(ctx.vacation.minDays, action.days));
    const claimed = await claimOutbound(ctx, log, target, 'vacation', {
      accountId: target.account.accountId,
      sender: event.mailFrom,
      handle: action.handle,
      eventId: event.eventId,
      at: acceptedAt,
      periodSeconds: days * 86_400,
    });
    if (claimed === 'taken') {
      mdaMetrics.sieveRuns.inc({ outcome: 'vacation-already-replied' });
      log.info({ ...where, days }, 'sieve vacation: sender already answered within the period');
      continue;
    }
    // Over the limit: not sent and not remembered, so the sender's next message may be answered.
    if (claimed === 'over-limit') continue;
    const id = nameBasedId('sieve-vacation', event.eventId, target.recipient);
    const from = await replyFrom(ctx, target, action.from);
    const message = buildVacationReply({
      from,
      to: event.mailFrom,
      original: await originalHeader(),
      date: acceptedAt,
      messageId: `${id}@${domainOf(target.account.address)}`,
      subject: action.subject,
      reason: action.reason,
      mime: action.mime,
    });
    await sendGenerated(ctx, event, headers, target, id, message);
    mdaMetrics.sieveRuns.inc({ outcome: 'vacation-sent' });
    log.info({ ...where, days }, 'sieve vacation: reply sent');
  }
}

/**
 * A Sieve reject is a decision about the message like an SMTP refusal: recorded for admin-api's
 * GET /v1/decisions (the reason, whether a notice went back). Losing the record must not stop the
 * delivery; a redelivered event may record it again (a record of why, not a count).
 */
async function recordRejection(
  ctx: SieveContext,
  log: Logger,
  event: MailAccepted,
  target: LocalTarget,
  reason: 'sieve-reject' | 'sieve-reject-suppressed',
  detail: string,
): Promise<void> {
  try {
    await recordDecisions(ctx.pool, [
      {
        service: 'mda',
        stage: 'delivery',
        outcome: 'rejected',
        reason,
        detail: `${target.recipient}'s Sieve reject: ${detail}`.slice(0, 1000),
        clientIp: event.clientIp,
        helo: event.helo,
        mailFrom: event.mailFrom,
        recipients: [target.recipient],
        eventId: event.eventId,
      },
    ]);
  } catch (error) {
    log.warn({ err: error }, 'decision not recorded');
  }
}

/**
 * The reply's From: the script's :from when it is an address of one of our domains (a vacation
 * must not speak for someone else's domain), else the recipient's own address.
 */
async function replyFrom(ctx: SieveContext, target: LocalTarget, from: string | undefined): Promise<string> {
  if (from === undefined) return target.account.address;
  const address = /<([^>]*)>/.exec(from)?.[1] ?? from;
  if (!address.includes('@') || !(await ctx.directory.isLocalDomain(domainOf(address)))) {
    return target.account.address;
  }
  return from;
}

/**
 * Hands a message the mda wrote (null reverse-path, so it never bounces back) to the original
 * sender the way the relay hands a DSN (libs/proto generatedMessageRecord): a local sender gets it
 * on mail.accepted and the mda files it; a remote one through the relay, charged to the answering
 * account and its tenant, and signed like the account's own mail (the relay signs only with a key
 * of this tenant's domains).
 */
async function sendGenerated(
  ctx: SieveContext,
  event: MailAccepted,
  headers: Record<string, string>,
  target: LocalTarget,
  id: string,
  message: Buffer,
): Promise<void> {
  const stored = await ctx.blobs.put(Readable.from([message]));
  const record = generatedMessageRecord({
    eventId: id,
    originalEventId: event.eventId,
    to: event.mailFrom,
    local: await ctx.directory.isLocalDomain(domainOf(event.mailFrom)),
    blob: stored,
    reportingHost: domainOf(target.account.address),
    outbound: {
      enteredBy: SubmissionKind.SUBMISSION,
      tenantId: target.account.tenantId,
      chargedTo: target.account.address.toLowerCase(),
      chargedTenantId: target.account.tenantId,
    },
  });
  const local = record.topic === 'accepted';
  await ctx.bus.publish(local ? ctx.acceptedTopic : ctx.outboundTopic, [
    { key: record.key, value: record.value, headers },
  ]);
  if (!local) mdaMetrics.outboundPublished.inc();
}
