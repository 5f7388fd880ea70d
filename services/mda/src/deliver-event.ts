import { mailboxChannel } from '@correo/notify';
import type { BlobStore } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { Directory } from '@correo/directory';
import type { Notifier } from '@correo/notify';
import { decodeMailAccepted, timestampDate } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import { deliverToMailbox, recordRejection } from '@correo/store';
import { targetMailbox } from './filing.js';
import type { MessageFacts, Pool, RejectionReason } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { readMessageFacts } from './facts.js';
import { mdaMetrics } from './metrics.js';
import { chargedTo, outboundJobs } from './outbound.js';
import { domainOf, planDelivery } from './recipients.js';

export interface EventContext {
  bus: Bus;
  blobs: BlobStore;
  pool: Pool;
  directory: Directory;
  notifier: Notifier;
  logger: Logger;
  outboundTopic: string;
  /** MDA_MAX_FORWARDS_PER_MESSAGE. */
  maxForwardsPerMessage: number;
}

export function decodeEvent(value: Buffer): MailAccepted {
  const event = decodeMailAccepted(value);
  if (!event.eventId) throw new Error('MailAccepted without event_id');
  if (!event.blobKey) throw new Error(`MailAccepted ${event.eventId} without blob_key`);
  return event;
}

/**
 * Handles one mail.accepted event to the end. Every step is idempotent (deliveries and rejections
 * are keyed by event and recipient, outbound jobs carry a stable id), so a throw anywhere is safe:
 * the bus redelivers and the steps already done become no-ops.
 */
export async function deliverEvent(ctx: EventContext, event: MailAccepted, headers: Record<string, string>) {
  const log = ctx.logger.child({ eventId: event.eventId });
  const plan = await planDelivery(ctx.directory, event, ctx.maxForwardsPerMessage);

  for (const rejection of plan.rejections) {
    await reject(ctx, log, event.eventId, rejection.recipient, rejection.reason, rejection.detail);
  }

  if (plan.local.length > 0) {
    // Parsed once for all recipients; the raw bytes stay in the one blob they all share.
    const facts: MessageFacts = await readMessageFacts(ctx.blobs, event);
    const receivedAt = event.receivedAt ? timestampDate(event.receivedAt) : undefined;
    const mailboxName = targetMailbox(event);
    for (const { recipient, account } of plan.local) {
      const outcome = await deliverToMailbox(ctx.pool, {
        eventId: event.eventId,
        recipient,
        accountId: account.accountId,
        mailboxName,
        message: facts,
      });
      switch (outcome.kind) {
        case 'delivered':
          mdaMetrics.delivered.inc();
          if (receivedAt) mdaMetrics.deliveryLatency.observe((Date.now() - receivedAt.getTime()) / 1000);
          log.info(
            { recipient, accountId: account.accountId, mailboxId: outcome.mailboxId, uid: outcome.uid },
            'message delivered',
          );
          await notifyAppend(ctx, log, account.accountId, outcome);
          break;
        case 'over-quota':
          mdaMetrics.rejected.inc({ reason: 'over-quota' });
          log.warn(
            { recipient, accountId: account.accountId, ...outcome },
            'recipient over quota: not delivered',
          );
          break;
        case 'unknown-user':
          await reject(ctx, log, event.eventId, recipient, 'unknown-user', 'account deleted before delivery');
          break;
        case 'duplicate':
          log.debug({ recipient, accountId: account.accountId }, 'already handled: redelivered event');
          break;
      }
    }
  }

  if (plan.external.size > 0) {
    const tenants = new Map<string, string>();
    for (const target of [...plan.external.values()].flat()) {
      const charge = chargedTo(event, target);
      if (charge === '' || tenants.has(charge)) continue;
      tenants.set(charge, (await ctx.directory.domainTenant(domainOf(charge))) ?? '');
    }
    const jobs = outboundJobs(event, plan.external, headers, tenants);
    await ctx.bus.publish(ctx.outboundTopic, jobs);
    mdaMetrics.outboundPublished.inc(jobs.length);
    log.info({ domains: [...plan.external.keys()] }, 'handed to the relay');
  }
}

async function reject(
  ctx: EventContext,
  log: Logger,
  eventId: string,
  recipient: string,
  reason: RejectionReason,
  detail: string,
) {
  const first = await recordRejection(ctx.pool, { eventId, recipient, reason, detail });
  if (!first) return;
  mdaMetrics.rejected.inc({ reason });
  log.warn({ recipient, reason, detail }, 'recipient rejected');
}

async function notifyAppend(
  ctx: EventContext,
  log: Logger,
  accountId: string,
  delivered: { mailboxId: string; uid: number; modseq: number },
) {
  const payload = JSON.stringify({
    mailboxId: delivered.mailboxId,
    uid: delivered.uid,
    modseq: delivered.modseq,
    kind: 'append',
  });
  try {
    await ctx.notifier.publish(mailboxChannel(accountId), payload);
  } catch (error) {
    // A hint only: the message is committed, and IDLE sessions also re-check on their own.
    log.warn({ accountId, error: (error as Error).message }, 'mailbox-changed notification not published');
  }
}

export { mailboxChannel };
