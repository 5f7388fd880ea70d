import type { Resolver } from 'node:dns/promises';
import type { BlobStore } from '@correo/blobs';
import { activeSigningKey } from '@correo/dkim';
import { DsnReturn, SubmissionKind, encodeOutboundMessage, timestampDate } from '@correo/proto';
import type { OutboundMessage } from '@correo/proto';
import { deferRelayJob, recordRelayOutcomes, rescheduleRelayJob } from '@correo/store';
import type { Pool, RelayRecipientOutcome } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { attemptDelivery } from './attempt.js';
import type { RecipientResult } from './attempt.js';
import { sendBounce } from './bounce.js';
import type { BounceContext } from './bounce.js';
import type { RelaySettings } from './config.js';
import type { ConnectionLimits } from './connection-limits.js';
import { retryDelay } from './durations.js';
import { readHeaderSection, signedMessage, signingDomain } from './message-source.js';
import { relayMetrics } from './metrics.js';

export interface JobContext extends BounceContext {
  pool: Pool;
  blobs: BlobStore;
  resolver: Resolver;
  connections: ConnectionLimits;
  settings: RelaySettings;
  logger: Logger;
}

/** Where a job stands: fresh from the bus, or claimed from the deferred queue. */
export interface JobState {
  /** Attempts including the one about to be made. */
  attempt: number;
  queued: boolean;
  /** The recipients still to deliver. */
  pending: string[];
}

export function expiryOf(job: OutboundMessage, settings: RelaySettings): Date {
  const queuedAt = job.queuedAt ? timestampDate(job.queuedAt) : new Date();
  return new Date(queuedAt.getTime() + settings.maxLifetimeMs);
}

/**
 * One attempt at a job, then every consequence, each step idempotent so a crash anywhere is
 * repaired by redoing the attempt: bounces first (their ids are derived from the job), then the
 * final outcomes, then the queue entry for whoever is left.
 */
export async function processJob(ctx: JobContext, job: OutboundMessage, state: JobState): Promise<void> {
  const log = ctx.logger.child({ jobId: job.eventId, domain: job.destinationDomain, attempt: state.attempt });
  relayMetrics.attempts.inc();
  const results = await attempt(ctx, job, state.pending);
  const now = new Date();
  const expiresAt = expiryOf(job, ctx.settings);
  const temporary = results.filter((r) => r.kind === 'temporary');
  const expired = temporary.length > 0 && now >= expiresAt;

  const failed = results.filter((r) => r.kind === 'permanent' || (expired && r.kind === 'temporary'));
  await sendBounce(
    ctx,
    job,
    failed.map((r) => ({
      recipient: r.recipient,
      // RFC 3463 4.4.7: the message stayed in the queue too long; the last reply says why.
      status: r.kind === 'temporary' ? '4.4.7' : r.status,
      reply: r.kind === 'temporary' ? `delivery time expired; last error: ${r.reply}` : r.reply,
      remoteMta: r.remoteMta,
      lastAttempt: now,
    })),
  );

  const outcomes: RelayRecipientOutcome[] = results
    .filter((r) => r.kind !== 'temporary' || expired)
    .map((r) => ({
      recipient: r.recipient,
      outcome: r.kind === 'delivered' ? 'delivered' : r.kind === 'permanent' ? 'bounced' : 'expired',
      reply: r.reply,
    }));
  await recordRelayOutcomes(ctx.pool, job.eventId, state.attempt, outcomes);
  for (const outcome of outcomes) relayMetrics.outcomes.inc({ outcome: outcome.outcome });

  if (temporary.length > 0 && !expired) {
    relayMetrics.outcomes.inc({ outcome: 'deferred' }, temporary.length);
    const next = new Date(
      Math.min(now.getTime() + retryDelay(ctx.settings.retrySchedule, state.attempt), expiresAt.getTime()),
    );
    const replies = temporary.map((r) => ({ recipient: r.recipient, reply: r.reply }));
    const lastError = temporary[0]!.reply;
    if (state.queued) {
      await rescheduleRelayJob(ctx.pool, job.eventId, { nextAttemptAt: next, lastError, replies });
    } else {
      await deferRelayJob(ctx.pool, {
        jobId: job.eventId,
        originalEventId: job.originalEventId,
        mailFrom: job.mailFrom,
        destinationDomain: job.destinationDomain,
        job: encodeOutboundMessage(job),
        blobKey: job.blobKey,
        attempts: state.attempt,
        queuedAt: job.queuedAt ? timestampDate(job.queuedAt) : now,
        nextAttemptAt: next,
        expiresAt,
        lastError,
        recipients: replies,
      });
    }
    log.info({ deferred: replies, nextAttemptAt: next }, 'delivery deferred');
  }
  log.info(
    { results: results.map((r) => ({ recipient: r.recipient, kind: r.kind, status: r.status })) },
    'delivery attempt done',
  );
}

/**
 * The key to sign a job with, or null. Only mail a user of ours submitted is signed, and only with a
 * key of a verified domain of the submitter's tenant: forwarded mail (entered on MX) keeps its author's
 * signature and is not vouched for by us, and a tenant can never make us sign for another's domain.
 */
async function signingKey(ctx: JobContext, job: OutboundMessage) {
  if (job.enteredBy !== SubmissionKind.SUBMISSION || job.tenantId === '') return null;
  const domain = signingDomain(await readHeaderSection(ctx.blobs, job.blobKey), job.mailFrom);
  if (!domain || !(await ctx.directory.isLocalDomain(domain))) return null;
  return activeSigningKey(ctx.pool, domain, job.tenantId);
}

async function attempt(
  ctx: JobContext,
  job: OutboundMessage,
  recipients: string[],
): Promise<RecipientResult[]> {
  const key = await signingKey(ctx, job);
  const message = await signedMessage(ctx.blobs, job.blobKey, Number(job.size), key);
  const ret =
    job.dsn?.ret === DsnReturn.FULL ? 'FULL' : job.dsn?.ret === DsnReturn.HEADERS ? 'HDRS' : undefined;
  return attemptDelivery(
    {
      resolver: ctx.resolver,
      connections: ctx.connections,
      session: {
        ehloName: ctx.settings.ehloName,
        connectTimeoutMs: ctx.settings.connectTimeoutMs,
        commandTimeoutMs: ctx.settings.commandTimeoutMs,
        sourceAddress: ctx.settings.sourceAddress,
      },
      smtpPort: ctx.settings.smtpPort,
      requireTlsDomains: ctx.settings.requireTlsDomains,
    },
    {
      destinationDomain: job.destinationDomain,
      envelope: {
        from: job.mailFrom,
        to: recipients,
        size: message.size,
        use8BitMime: job.eightBitMime,
        ...(ret || job.dsn?.envelopeId
          ? {
              dsn: { ...(ret ? { ret } : {}), ...(job.dsn?.envelopeId ? { envid: job.dsn.envelopeId } : {}) },
            }
          : {}),
      },
      open: () => message.open(),
    },
    recipients,
  );
}
