import type { BlobStore } from '@correo/blobs';
import { stallCheck, startDeadLetterArchive } from '@correo/backends';
import { classifyFailure } from '@correo/bus';
import type { Bus, DeliveredMessage } from '@correo/bus';
import type { Directory } from '@correo/directory';
import { decodeOutboundMessage, timestampDate } from '@correo/proto';
import {
  claimDueRelayJobs,
  claimNewRelayJob,
  relayQueueByDomain,
  relayQueueDepth,
  relayQueueOldestAgeSeconds,
} from '@correo/store';
import type { Pool, RelayQueueEntry } from '@correo/store';
import { extractTraceContext, injectTraceContext, withSpan } from '@correo/telemetry';
import type { Limits } from '@correo/limits';
import type { Logger, ReadinessCheck } from '@correo/telemetry';
import type { RelaySettings } from './config.js';
import { ConnectionLimits } from './connection-limits.js';
import { DestinationPolicy } from './destinations.js';
import { relayMetrics } from './metrics.js';
import { createResolver } from './mx.js';
import { expiryOf, processJob } from './process-job.js';
import type { JobContext } from './process-job.js';

export interface MtaRelayDeps {
  bus: Bus;
  blobs: BlobStore;
  /** The metadata store, migrated (libs/store migrate()): dkim_keys and the relay queue. */
  pool: Pool;
  directory: Directory;
  /** Counters of the outbound rate limits, shared by every relay pod (Redis) or in-process. */
  limits: Limits;
  logger: Logger;
  config: RelaySettings;
}

export interface MtaRelay {
  /** No listening sockets: the relay only connects out. */
  listeners: [];
  /** Readiness: fails, saying why, while outbound jobs wait for a backend that is down. */
  checks: Record<string, ReadinessCheck>;
  /** Stops taking jobs; lets attempts in progress finish for RELAY_DRAIN_TIMEOUT, then cuts them and releases their claims. */
  close(): Promise<void>;
}

/**
 * Joins the mta-relay group on mail.outbound and makes one attempt per job as it arrives; what
 * fails temporarily goes into the deferred queue (Postgres), which a scheduler loop in every relay
 * pod drains as jobs come due, sharing the work through SKIP LOCKED claims.
 */
export async function startMtaRelay(deps: MtaRelayDeps): Promise<MtaRelay> {
  const { bus, config } = deps;
  const logger = deps.logger.child({ component: 'mta-relay' });
  await bus.ensureTopics(
    [config.outboundTopic, config.acceptedTopic, config.deadLetterTopic].map((name) => ({
      name,
      partitions: config.topicPartitions,
    })),
  );
  const connections = new ConnectionLimits(
    config.maxConnectionsPerDomain,
    config.maxMessagesPerConnection,
    config.connectionIdleMs,
  );
  // Aborted when a stopping relay's drain time is up (close()).
  const drain = new AbortController();
  const ctx: JobContext = {
    ...deps,
    drain: drain.signal,
    logger,
    settings: config,
    resolver: createResolver(config.dnsServers, config.dnsTimeoutMs),
    routing: { policy: new DestinationPolicy(config.allowedNetworks), transportMap: config.transportMap },
    connections,
    reportingMta: config.ehloName,
    acceptedTopic: config.acceptedTopic,
    outboundTopic: config.outboundTopic,
  };

  const deliver = async (message: DeliveredMessage) =>
    withSpan(
      'relay.deliver',
      async (span) => {
        const job = decodeOutboundMessage(message.value);
        if (!job.eventId || !job.blobKey || !job.destinationDomain) {
          throw new Error('OutboundMessage without event_id, blob_key or destination_domain');
        }
        span.setAttribute('correo.event_id', job.eventId);
        // Claimed before the first attempt, like a queued job: a copy of this job that the bus hands
        // out again (to this pod or another) finds it taken, or finished, and leaves it.
        const claimedAt = Date.now();
        const claimed = await claimNewRelayJob(
          deps.pool,
          {
            jobId: job.eventId,
            originalEventId: job.originalEventId,
            mailFrom: job.mailFrom,
            destinationDomain: job.destinationDomain,
            job: message.value,
            blobKey: job.blobKey,
            queuedAt: job.queuedAt ? timestampDate(job.queuedAt) : new Date(),
            expiresAt: expiryOf(job, config),
            recipients: job.recipients.map((r) => r.address),
            // Attempts from the queue later continue this trace (retryEntry).
            traceHeaders: injectTraceContext({}),
          },
          config.claimLeaseMs,
        );
        if (!claimed) return;
        await processJob(ctx, job, {
          attempt: 1,
          claim: claimed.claim,
          claimedAt,
          pending: claimed.pending,
          delayNotified: false,
        });
      },
      extractTraceContext(message.headers),
    );

  // Delivery problems never throw (they become outcomes or queue rows); what throws is a backend
  // (database, blobs, bus) or a malformed job, which the bus retries and then dead-letters.
  const handler = async (message: DeliveredMessage) => {
    try {
      await deliver(message);
    } catch (error) {
      const { partition, offset, attempt } = message;
      logger.warn({ partition, offset, attempt, error: (error as Error).message }, 'outbound job failed');
      throw error;
    }
  };

  const subscription = await bus.subscribe({
    group: config.group,
    topic: config.outboundTopic,
    handler,
    maxAttempts: config.maxAttempts,
    deadLetterTopic: config.deadLetterTopic,
    onDeadLetter: ({ partition, offset }, error, attempts) => {
      relayMetrics.deadLettered.inc();
      logger.error({ partition, offset, attempts, error }, 'outbound job dead-lettered');
    },
  });

  const archive = await startDeadLetterArchive(bus, deps.pool, {
    group: config.group,
    deadLetterTopic: config.deadLetterTopic,
    logger,
    blobKeyOf: (value) => decodeOutboundMessage(value).blobKey,
  });
  const scheduler = startScheduler(ctx);
  logger.info({ group: config.group, topic: config.outboundTopic }, 'mta-relay consuming');

  return {
    listeners: [],
    checks: { 'relay-consumer': stallCheck([subscription, archive]) },
    async close() {
      // No new job is taken from here on; attempts in progress get RELAY_DRAIN_TIMEOUT to finish,
      // then they are cut and release their claims (process-job.ts).
      const cut = setTimeout(() => drain.abort(new Error('relay stopping')), config.drainTimeoutMs);
      try {
        await Promise.all([subscription.stop(), archive.stop(), scheduler.stop()]);
      } finally {
        clearTimeout(cut);
      }
      await connections.close();
    },
  };
}

/** The destination domains correo_relay_queue_domain_jobs shows: a bounded number of series. */
const QUEUE_DOMAINS_CHARTED = 20;

/**
 * The longest the scheduler waits between passes while a backend (blob store, database) is down. A
 * job whose message cannot be read for a backend's sake goes back due at once (nothing was sent): a
 * scheduler that took that as "more due work" would claim, fail and release the same jobs in a
 * tight loop for the whole outage, hammering the backend that is trying to come back.
 */
const BACKEND_BACKOFF_MAX_MS = 30_000;

function startScheduler(ctx: JobContext): { stop(): Promise<void> } {
  let stopping = false;
  let wake: (() => void) | undefined;
  // Doubles from RELAY_QUEUE_POLL while passes meet a backend that is down; 0 when the last pass did not.
  let backoffMs = 0;
  const loop = (async () => {
    while (!stopping) {
      let waitMs = ctx.settings.queuePollMs;
      try {
        const claimedAt = Date.now();
        const claimed = await claimDueRelayJobs(ctx.pool, {
          limit: ctx.settings.queueBatch,
          leaseMs: ctx.settings.claimLeaseMs,
        });
        const failures = await Promise.all(claimed.map((entry) => retryEntry(ctx, entry, claimedAt)));
        relayMetrics.queueDepth.set(await relayQueueDepth(ctx.pool));
        relayMetrics.oldestAge.set(await relayQueueOldestAgeSeconds(ctx.pool));
        const byDomain = await relayQueueByDomain(ctx.pool, QUEUE_DOMAINS_CHARTED);
        relayMetrics.queueByDomain.reset();
        for (const [domain, jobs] of byDomain) relayMetrics.queueByDomain.set({ domain }, jobs);
        if (failures.includes('backend')) {
          backoffMs = Math.min(Math.max(backoffMs * 2, ctx.settings.queuePollMs), BACKEND_BACKOFF_MAX_MS);
          waitMs = backoffMs;
          ctx.logger.warn({ retryInMs: waitMs }, 'deferred queue waits for a backend');
        } else {
          backoffMs = 0;
          if (claimed.length === ctx.settings.queueBatch) continue;
        }
      } catch (error) {
        // The claim itself failed (the database): one statement per RELAY_QUEUE_POLL, no loop.
        ctx.logger.warn({ error: (error as Error).message }, 'deferred queue pass failed');
      }
      if (stopping) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, waitMs).unref();
      });
    }
  })();
  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}

/** Runs one queued job's attempt; 'backend' when it could not run for a backend that is down. */
async function retryEntry(
  ctx: JobContext,
  entry: RelayQueueEntry,
  claimedAt: number,
): Promise<'backend' | undefined> {
  try {
    const job = decodeOutboundMessage(entry.job);
    // In the message's own trace, whichever pod and however late: its context came with the job.
    await withSpan(
      'relay.retry',
      async (span) => {
        span.setAttribute('correo.event_id', entry.jobId);
        span.setAttribute('correo.relay.attempt', entry.attempts);
        await processJob(ctx, job, {
          attempt: entry.attempts,
          claim: { jobId: entry.jobId, token: entry.claimToken! },
          claimedAt,
          pending: entry.recipients.map((r) => r.recipient),
          delayNotified: entry.delayNotified,
        });
      },
      extractTraceContext(entry.traceHeaders),
    );
  } catch (error) {
    // The lease expires (or the claim was released) and another pass retries it; nothing is lost.
    ctx.logger.error({ jobId: entry.jobId, error: (error as Error).message }, 'queued delivery failed');
    return classifyFailure(error) === 'backend' ? 'backend' : undefined;
  }
  return undefined;
}
