import type { BlobStore } from '@correo/blobs';
import type { BatchHandled, BatchOffset, Bus } from '@correo/bus';
import type { Directory } from '@correo/directory';
import type { OutboundQuota } from '@correo/limits';
import type { MailboxChangeFeed } from '@correo/notify';
import { decodeMailAccepted, timestampDate } from '@correo/proto';
import type { MailAccepted } from '@correo/proto';
import { deliverManyToMailboxes, recordDecisions, recordRejection } from '@correo/store';
import { dmarcQuarantined, targetMailbox } from './filing.js';
import type {
  DeliveryOutcome,
  LocalDelivery,
  MessageFacts,
  Pool,
  RejectionReason,
  SieveScriptRow,
} from '@correo/store';
import { extractTraceContext, withSpanPerMessage, type Logger } from '@correo/telemetry';
import { databaseBody, keepsBodyInDatabase, storeCarriedBodies, withCarriedBodies } from './carried-body.js';
import { readMessageFacts } from './facts.js';
import { recordAcceptances } from './journey.js';
import { mdaMetrics } from './metrics.js';
import { chargedTo, outboundJobs } from './outbound.js';
import { domainOf, planDelivery, type DeliveryPlan, type LocalTarget } from './recipients.js';
import { batchScripts, filedCopies, publishRedirects } from './sieve.js';
import { sendAutoReplies } from './sieve-replies.js';
import type { VacationSettings } from './sieve-replies.js';

export interface EventContext {
  bus: Bus;
  blobs: BlobStore;
  pool: Pool;
  directory: Directory;
  /** Deliveries publish here after their commit (libs/store). */
  changes: MailboxChangeFeed;
  logger: Logger;
  outboundTopic: string;
  acceptedTopic: string;
  /** MAIL_OUTBOUND_*: what Sieve redirects and vacation replies count against. */
  outboundQuota?: OutboundQuota | undefined;
  /** MDA_VACATION_MIN_DAYS / MDA_VACATION_MAX_DAYS. */
  vacation: VacationSettings;
  /** MDA_MAX_FORWARDS_PER_MESSAGE. */
  maxForwardsPerMessage: number;
  /** MDA_DATABASE_BODY_BYTES: carried bodies up to this size are kept by the filing (0: never). */
  databaseBodyBytes: number;
}

export function decodeEvent(value: Buffer): MailAccepted {
  const event = decodeMailAccepted(value);
  if (!event.eventId) throw new Error('MailAccepted without event_id');
  if (!event.blobKey) throw new Error(`MailAccepted ${event.eventId} without blob_key`);
  return event;
}

/** One event with its trace headers, as the bus handed it over. */
export interface AcceptedEvent {
  event: MailAccepted;
  headers: Record<string, string>;
}

/** One event with its recipients resolved. */
interface PlannedEvent extends AcceptedEvent {
  log: Logger;
  plan: DeliveryPlan;
  /** The bytes the filing keeps in the database (message_bodies), checked against the blob key. */
  databaseBody?: Uint8Array;
}

/** What was decided for one event before filing: recipients resolved, the message analysed once. */
interface PreparedEvent extends PlannedEvent {
  deliveries: LocalDelivery[];
  /** The local target of each delivery (an active Sieve script may file 0..n copies for one). */
  owners: LocalTarget[];
}

/**
 * Handles one mail.accepted event to the end. Every step is idempotent (deliveries and rejections
 * are keyed by event and recipient, outbound jobs carry a stable id), so a throw anywhere is safe:
 * the bus redelivers and the steps already done become no-ops.
 */
export async function deliverEvent(ctx: EventContext, event: MailAccepted, headers: Record<string, string>) {
  await deliverEvents(ctx, [{ event, headers }]);
}

/**
 * Handles several events with one filing transaction for all their local recipients (one WAL flush
 * per bus batch instead of one per recipient). The same idempotent steps as deliverEvent: if this
 * throws, nothing of the filing counts and each event can be handled again on its own.
 */
export async function deliverEvents(
  ctx: EventContext,
  events: AcceptedEvent[],
  consumed?: BatchOffset,
): Promise<void | BatchHandled> {
  const planned = (await Promise.all(events.map((accepted) => planEvent(ctx, accepted)))).map((p) =>
    keepsBodyInDatabase(p.event, p.plan, ctx.databaseBodyBytes)
      ? { ...p, databaseBody: databaseBody(p.event) }
      : p,
  );
  // Bodies that rode in their events are stored before anything below can name their blob keys;
  // those the filing keeps in the database are written by its own transaction.
  await storeCarriedBodies(
    ctx.blobs,
    planned.filter((p) => !p.databaseBody),
  );
  // What this batch reads of its carried bodies comes from the events, not the store.
  const batch = { ...ctx, blobs: withCarriedBodies(ctx.blobs, planned) };
  // Before the blob is read for filing: a message that then dead-letters still has its acceptance.
  // The Sieve lookup does not depend on it: both at once, on two connections (one round trip's wait).
  const [, scripts] = await Promise.all([
    recordAcceptances(ctx.pool, batch.blobs, planned),
    batchScripts(ctx.pool, planned),
  ]);
  const prepared = await Promise.all(planned.map((p) => prepare(batch, scripts, p)));
  const deliveries = prepared.flatMap((p) => p.deliveries);
  // The bus's offset rides in the filing's transaction (one commit for both) only when the filing
  // is the last thing of the batch that must happen: a batch that hands mail to the relay commits
  // the offset after that handoff, as before (a crash in between must redeliver, not lose it).
  const offset =
    consumed && deliveries.length > 0 && prepared.every((p) => p.plan.external.size === 0)
      ? consumed
      : undefined;
  const outcomes =
    deliveries.length > 0
      ? await withSpanPerMessage(
          'mda.store',
          prepared.filter((p) => p.deliveries.length > 0).map((p) => extractTraceContext(p.headers)),
          () => deliverManyToMailboxes(ctx, deliveries, offset),
        )
      : [];
  let next = 0;
  for (const p of prepared) {
    const mine = outcomes.slice(next, next + p.deliveries.length);
    next += p.deliveries.length;
    await reportOutcomes(ctx, p, mine);
  }
  await Promise.all(prepared.map((p) => handToRelay(ctx, p)));
  return { offsetCommitted: offset !== undefined };
}

/** Resolves the recipients and records those that cannot be delivered. */
async function planEvent(ctx: EventContext, accepted: AcceptedEvent): Promise<PlannedEvent> {
  const { event } = accepted;
  const log = ctx.logger.child({ eventId: event.eventId });
  const plan = await planDelivery(ctx.directory, event, ctx.maxForwardsPerMessage);

  for (const rejection of plan.rejections) {
    await reject(ctx, log, event.eventId, rejection.recipient, rejection.reason, rejection.detail);
  }
  return { ...accepted, log, plan };
}

async function prepare(
  ctx: EventContext,
  scripts: Map<string, SieveScriptRow>,
  planned: PlannedEvent,
): Promise<PreparedEvent> {
  const { event, plan } = planned;
  if (plan.local.length === 0) return { ...planned, deliveries: [], owners: [] };

  // Parsed once for all recipients; the raw bytes stay in the one blob they all share.
  const facts: MessageFacts = await readMessageFacts(ctx.blobs, event);
  // Junk by the spam verdict is recorded by smtp-ingress, which made it; DMARC quarantine here.
  if (dmarcQuarantined(event)) await recordJunkFiling(ctx, planned, facts);
  const { copies, redirects, replies } = await filedCopies(
    ctx,
    scripts,
    planned.log,
    event,
    plan.local,
    facts,
    (target) => targetMailbox(event, target.recipient),
  );
  await publishRedirects(ctx, planned.log, event, planned.headers, redirects);
  await sendAutoReplies(ctx, planned.log, event, planned.headers, facts.internalDate, replies);
  const body = planned.databaseBody;
  return {
    ...planned,
    deliveries: copies.map((c) => (body ? { ...c.delivery, body } : c.delivery)),
    owners: copies.map((c) => c.target),
  };
}

/**
 * DMARC quarantine is a decision like an SMTP refusal (docs/spam.md): recorded for admin-api's
 * GET /v1/decisions, logged and counted. A redelivered event may record it again (harmless: it is a
 * record of why, not a count of messages).
 */
async function recordJunkFiling(
  ctx: EventContext,
  planned: PlannedEvent,
  facts: MessageFacts,
): Promise<void> {
  const { event, plan, log } = planned;
  const dmarc = event.authenticationResults?.results.find((r) => r.method === 'dmarc');
  const domain = dmarc?.properties['header.from'] ?? '';
  const policy = dmarc?.properties['policy.dmarc'] ?? '';
  const detail = `DMARC ${dmarc?.result ?? 'fail'} for ${domain || 'the From domain'} (p=${policy}): filed to Junk`;
  mdaMetrics.decisions.inc({ outcome: 'junk', reason: 'dmarc-quarantine' });
  log.info({ reason: 'dmarc-quarantine', detail }, 'filed to Junk');
  try {
    await recordDecisions(ctx.pool, [
      {
        service: 'mda',
        stage: 'delivery',
        outcome: 'junk',
        reason: 'dmarc-quarantine',
        detail,
        clientIp: event.clientIp,
        helo: event.helo,
        mailFrom: event.mailFrom,
        recipients: plan.local.map((target) => target.recipient),
        messageId: facts.messageId ?? undefined,
        eventId: event.eventId,
        symbols: { DMARC_POLICY: policy },
      },
    ]);
  } catch (error) {
    // The record explains the filing; losing it must not stop the delivery.
    log.warn({ err: error }, 'decision not recorded');
  }
}

async function reportOutcomes(ctx: EventContext, p: PreparedEvent, outcomes: DeliveryOutcome[]) {
  const { event, log } = p;
  const receivedAt = event.receivedAt ? timestampDate(event.receivedAt) : undefined;
  for (const [i, outcome] of outcomes.entries()) {
    const { recipient, account } = p.owners[i]!;
    switch (outcome.kind) {
      case 'delivered':
        mdaMetrics.delivered.inc();
        if (receivedAt) mdaMetrics.deliveryLatency.observe((Date.now() - receivedAt.getTime()) / 1000);
        log.info(
          { recipient, accountId: account.accountId, mailboxId: outcome.mailboxId, uid: outcome.uid },
          'message delivered',
        );
        break;
      case 'over-quota':
        mdaMetrics.rejected.inc({ reason: 'over-quota' });
        log.warn(
          { recipient, accountId: account.accountId, ...outcome },
          'recipient over quota: not delivered',
        );
        break;
      case 'unknown-user':
        // Recorded by the filing's own transaction (so a filing that commits the bus offset leaves
        // nothing to do after it); counted and logged here, once: a redelivery no longer resolves it.
        mdaMetrics.rejected.inc({ reason: 'unknown-user' });
        log.warn(
          { recipient, reason: 'unknown-user', detail: 'account deleted before delivery' },
          'recipient rejected',
        );
        break;
      case 'duplicate':
        log.debug({ recipient, accountId: account.accountId }, 'already handled: redelivered event');
        break;
    }
  }
}

async function handToRelay(ctx: EventContext, p: PreparedEvent) {
  if (p.plan.external.size === 0) return;
  // Who the relay's outbound rate limits charge, and their tenant (docs/security.md).
  const tenants = new Map<string, string>();
  for (const target of [...p.plan.external.values()].flat()) {
    const charge = chargedTo(p.event, target);
    if (charge === '' || tenants.has(charge)) continue;
    tenants.set(charge, (await ctx.directory.domainTenant(domainOf(charge))) ?? '');
  }
  const jobs = outboundJobs(p.event, p.plan.external, p.headers, tenants);
  await ctx.bus.publish(ctx.outboundTopic, jobs);
  mdaMetrics.outboundPublished.inc(jobs.length);
  p.log.info({ domains: [...p.plan.external.keys()] }, 'handed to the relay');
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
