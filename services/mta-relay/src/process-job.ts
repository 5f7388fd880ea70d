import type { Resolver } from 'node:dns/promises';
import type { BlobStore } from '@correo/blobs';
import { classifyFailure } from '@correo/bus';
import { activeSigningKey } from '@correo/dkim';
import { DsnReturn, SubmissionKind, timestampDate } from '@correo/proto';
import type { OutboundMessage } from '@correo/proto';
import { holdsRelayClaim, recordRelayOutcomes, releaseRelayClaim, rescheduleRelayJob } from '@correo/store';
import type { Pool, RelayClaim, RelayRecipientOutcome } from '@correo/store';
import type { Limits } from '@correo/limits';
import { withSpan, type Logger } from '@correo/telemetry';
import { ClaimLostError, attemptDelivery } from './attempt.js';
import type { RecipientResult } from './attempt.js';
import { sendDsn, wantsNotice } from './bounce.js';
import type { BounceContext, RecipientNotice } from './bounce.js';
import { holdClaim } from './claim-heartbeat.js';
import type { RelaySettings } from './config.js';
import type { ConnectionLimits } from './connection-limits.js';
import { retryDelay } from './durations.js';
import { readHeaderSection, signedMessage, signingDomain } from './message-source.js';
import { relayMetrics } from './metrics.js';
import { chargeOutbound } from './outbound-limits.js';
import type { RoutingRules } from './mx.js';

export interface JobContext extends BounceContext {
  pool: Pool;
  limits: Limits;
  blobs: BlobStore;
  resolver: Resolver;
  routing: RoutingRules;
  connections: ConnectionLimits;
  settings: RelaySettings;
  logger: Logger;
  /** Aborts when a stopping relay's drain time is up: attempts in progress are cut. */
  drain: AbortSignal;
}

/** Where a job stands: its attempt number and this relay's claim on it (first attempt or a retry). */
export interface JobState {
  /** Attempts including the one about to be made. */
  attempt: number;
  /** This relay's claim on the job's queue row (claimNewRelayJob or claimDueRelayJobs). */
  claim: RelayClaim;
  /** When the claim was asked for (Date.now() before the query): its lease runs from no earlier. */
  claimedAt: number;
  /** The recipients still to deliver. */
  pending: string[];
  /** The sender was told already that this job is delayed. */
  delayNotified: boolean;
}

export function expiryOf(job: OutboundMessage, settings: RelaySettings): Date {
  const queuedAt = job.queuedAt ? timestampDate(job.queuedAt) : new Date();
  return new Date(queuedAt.getTime() + settings.maxLifetimeMs);
}

/**
 * One attempt at a job, then every consequence, each step idempotent so a crash anywhere is
 * repaired by redoing the attempt: bounces first (their ids are derived from the job), then the
 * final outcomes, then the queue entry for whoever is left. Every attempt is worked under a claim
 * on the job's queue row, renewed while the work goes on (holdClaim): the attempt ends by
 * RELAY_ATTEMPT_TIMEOUT or as soon as the claim can no longer be counted on, nothing is sent once
 * the claim is lost, and the result's writes are fenced by it.
 */
export async function processJob(ctx: JobContext, job: OutboundMessage, state: JobState): Promise<void> {
  const hold = holdClaim(ctx.pool, state.claim, ctx.settings.claimLeaseMs, ctx.logger, state.claimedAt);
  try {
    await workJob(ctx, job, state, hold.signal);
  } finally {
    hold.stop();
  }
}

async function workJob(
  ctx: JobContext,
  job: OutboundMessage,
  state: JobState,
  held: AbortSignal,
): Promise<void> {
  const log = ctx.logger.child({ jobId: job.eventId, domain: job.destinationDomain, attempt: state.attempt });
  const { claim } = state;
  const lost = () => {
    relayMetrics.claimsLost.inc();
    log.warn('claim lost: another relay holds the job now; this attempt records nothing');
  };
  let results: RecipientResult[];
  const overLimit = await chargeOutbound(ctx.limits, ctx.settings.outboundLimits, job, state.pending.length);
  if (overLimit) {
    // Not sent, not failed: the job waits its turn in the queue like any temporary failure.
    relayMetrics.rateLimited.inc(state.pending.length);
    results = state.pending.map((recipient) => ({
      recipient,
      kind: 'temporary',
      status: '4.4.5',
      reply: overLimit,
    }));
  } else {
    relayMetrics.attempts.inc();
    try {
      // One span per attempt at the remote, in the message's trace: what each recipient got back.
      results = await withSpan('relay.attempt', async (span) => {
        span.setAttribute('correo.event_id', job.eventId);
        span.setAttribute('correo.relay.attempt', state.attempt);
        span.setAttribute('correo.relay.destination', job.destinationDomain);
        const outcome = await attempt(ctx, job, state.pending, claim, held);
        const hosts = [...new Set(outcome.flatMap((r) => (r.remoteMta ? [r.remoteMta] : [])))];
        if (hosts.length > 0) span.setAttribute('correo.relay.remote_mta', hosts);
        for (const kind of ['delivered', 'temporary', 'permanent'] as const) {
          span.setAttribute(`correo.relay.${kind}`, outcome.filter((r) => r.kind === kind).length);
        }
        return outcome;
      });
    } catch (error) {
      if (error instanceof ClaimLostError) return lost();
      if (classifyFailure(error) === 'backend') {
        // Nothing was sent (a backend failed reading or signing the message): due again at once.
        await releaseRelayClaim(ctx.pool, claim).catch(() => {});
        throw error;
      }
      // The message itself cannot be read or signed (its body is gone): every try fails the same
      // way, so released at once it would spin in the queue for ever. It waits on the retry
      // schedule like a temporary failure, the reason recorded, until its lifetime ends and the
      // sender is told (an operator may restore the body meanwhile).
      const reply = `the message could not be read: ${(error as Error).message}`;
      log.warn({ error: reply }, 'message unreadable; deferred');
      results = state.pending.map((recipient) => ({ recipient, kind: 'temporary', status: '4.3.0', reply }));
    }
  }
  if (ctx.drain.aborted && results.every((r) => r.kind === 'temporary')) {
    // Cut by this relay's shutdown, not by the remote: nothing was decided. The job is due again
    // at once for another relay, and the cut does not count as a failed attempt.
    await releaseRelayClaim(ctx.pool, claim);
    relayMetrics.claimsReleased.inc();
    log.info('attempt cut by shutdown; claim released');
    return;
  }
  const now = new Date();
  const expiresAt = expiryOf(job, ctx.settings);
  const temporary = results.filter((r) => r.kind === 'temporary');
  const expired = temporary.length > 0 && now >= expiresAt;

  // From here on the remote has answered: what it said is written down even if a backend is away
  // for a moment (written, below). Given up, the job would be attempted again when the claim's
  // lease ran out, and the recipients the remote accepted would get the message twice.
  const written = <T>(write: () => Promise<T>) => untilWritten(ctx, held, write);
  const notices: RecipientNotice[] = results.flatMap((r): RecipientNotice[] => {
    if (r.kind === 'delivered') {
      const relayed = { ...r, action: 'relayed' as const, lastAttempt: now };
      // Only what the sender asked for (NOTIFY=SUCCESS): most deliveries are told nothing.
      return wantsNotice(job, relayed) ? [relayed] : [];
    }
    if (r.kind === 'temporary' && !expired) return [];
    return [
      {
        recipient: r.recipient,
        action: 'failed',
        // RFC 3463 4.4.7: the message stayed in the queue too long; the last reply says why.
        status: r.kind === 'temporary' ? '4.4.7' : r.status,
        reply: r.kind === 'temporary' ? `delivery time expired; last error: ${r.reply}` : r.reply,
        remoteMta: r.remoteMta,
        lastAttempt: now,
      },
    ];
  });
  // The holder that lost its claim tells nobody: the new holder's attempt decides (and bounces).
  if (notices.length > 0 && !(await written(() => holdsRelayClaim(ctx.pool, claim)))) return lost();
  await written(() => sendDsn(ctx, job, notices));

  const outcomes: RelayRecipientOutcome[] = results
    .filter((r) => r.kind !== 'temporary' || expired)
    .map((r) => ({
      recipient: r.recipient,
      outcome: r.kind === 'delivered' ? 'delivered' : r.kind === 'permanent' ? 'bounced' : 'expired',
      reply: r.reply,
    }));
  if (!(await written(() => recordRelayOutcomes(ctx.pool, job.eventId, state.attempt, outcomes, claim))))
    return lost();
  for (const outcome of outcomes) relayMetrics.outcomes.inc({ outcome: outcome.outcome });

  if (temporary.length > 0 && !expired) {
    relayMetrics.outcomes.inc({ outcome: 'deferred' }, temporary.length);
    // After a shutdown cut the rest is due again at once (another relay takes it).
    const delay = ctx.drain.aborted ? 0 : retryDelay(ctx.settings.retrySchedule, state.attempt);
    const next = new Date(Math.min(now.getTime() + delay, expiresAt.getTime()));
    const replies = temporary.map((r) => ({ recipient: r.recipient, reply: r.reply }));
    const lastError = temporary[0]!.reply;
    const delayNotified = await written(() => noticeDelay(ctx, job, state, temporary, now, expiresAt));
    if (delayNotified === 'lost') return lost();
    if (
      !(await written(() =>
        rescheduleRelayJob(ctx.pool, claim, {
          nextAttemptAt: next,
          lastError,
          replies,
          delayNotified,
        }),
      ))
    )
      return lost();
    log.info({ deferred: replies, nextAttemptAt: next }, 'delivery deferred');
  }
  log.info(
    { results: results.map((r) => ({ recipient: r.recipient, kind: r.kind, status: r.status })) },
    'delivery attempt done',
  );
}

/**
 * Runs `write` (a step that records what the remote answered) until it succeeds, waiting out a
 * backend that is down (PostgreSQL restarting, the bus moving: classifyFailure says 'backend') for
 * as long as the claim holds (`held`: the heartbeat keeps renewing it, and gives up only when the
 * lease is about to run out unrenewed); past it the fenced writes refuse anyway and another holder
 * decides. Any other error, or the relay's shutdown, ends the waiting.
 */
async function untilWritten<T>(ctx: JobContext, held: AbortSignal, write: () => Promise<T>): Promise<T> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await write();
    } catch (error) {
      if (classifyFailure(error) !== 'backend' || ctx.drain.aborted || held.aborted) throw error;
      ctx.logger.warn(
        { error: (error as Error).message, retryInMs: delay },
        'outcome not written yet; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Once a job has waited RELAY_DELAY_WARNING, tells the sender (once per job) which recipients are
 * still being retried and until when: a "delayed" DSN for those whose NOTIFY asks for it (RFC 3461).
 * Resolves whether the job counts as told from now on, or 'lost' when this relay no longer holds it.
 */
async function noticeDelay(
  ctx: JobContext,
  job: OutboundMessage,
  state: JobState,
  waiting: RecipientResult[],
  now: Date,
  expiresAt: Date,
): Promise<boolean | 'lost'> {
  const after = ctx.settings.delayWarningMs ?? 0;
  const queuedAt = job.queuedAt ? timestampDate(job.queuedAt) : now;
  if (state.delayNotified || after <= 0 || now.getTime() - queuedAt.getTime() < after)
    return state.delayNotified;
  if (!(await holdsRelayClaim(ctx.pool, state.claim))) return 'lost';
  await sendDsn(
    ctx,
    job,
    waiting.map((r) => ({
      recipient: r.recipient,
      action: 'delayed',
      status: r.status,
      reply: r.reply,
      remoteMta: r.remoteMta,
      lastAttempt: now,
      willRetryUntil: expiresAt,
    })),
  );
  return true;
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
  claim: RelayClaim,
  held: AbortSignal,
): Promise<RecipientResult[]> {
  const key = await signingKey(ctx, job);
  const message = await signedMessage(ctx.blobs, job.blobKey, Number(job.size), key);
  const ret =
    job.dsn?.ret === DsnReturn.FULL ? 'FULL' : job.dsn?.ret === DsnReturn.HEADERS ? 'HDRS' : undefined;
  return attemptDelivery(
    {
      resolver: ctx.resolver,
      routing: ctx.routing,
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
      // The claim no longer to be counted on ends the attempt too: it never sends while another
      // relay may have taken the job.
      deadline: AbortSignal.any([AbortSignal.timeout(ctx.settings.attemptTimeoutMs), ctx.drain, held]),
      mayStillSend: () => holdsRelayClaim(ctx.pool, claim),
    },
    recipients,
  );
}
