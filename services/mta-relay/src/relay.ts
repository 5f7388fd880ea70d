import type { BlobStore } from '@correo/blobs';
import { stallCheck, startDeadLetterArchive } from '@correo/backends';
import type { Bus, DeliveredMessage } from '@correo/bus';
import type { Directory } from '@correo/directory';
import { decodeOutboundMessage } from '@correo/proto';
import {
  claimDueRelayJobs,
  finishedRelayRecipients,
  isRelayJobQueued,
  relayQueueDepth,
  relayQueueOldestAgeSeconds,
} from '@correo/store';
import type { Pool, RelayQueueEntry } from '@correo/store';
import { extractTraceContext, withSpan } from '@correo/telemetry';
import type { Logger, ReadinessCheck } from '@correo/telemetry';
import type { RelaySettings } from './config.js';
import { ConnectionLimits } from './connection-limits.js';
import { relayMetrics } from './metrics.js';
import { createResolver } from './mx.js';
import { processJob } from './process-job.js';
import type { JobContext } from './process-job.js';

export interface MtaRelayDeps {
  bus: Bus;
  blobs: BlobStore;
  /** The metadata store, migrated (libs/store migrate()): dkim_keys and the relay queue. */
  pool: Pool;
  directory: Directory;
  logger: Logger;
  config: RelaySettings;
}

export interface MtaRelay {
  /** No listening sockets: the relay only connects out. */
  listeners: [];
  /** Readiness: fails, saying why, while outbound jobs wait for a backend that is down. */
  checks: Record<string, ReadinessCheck>;
  /** Lets the job in hand finish, leaves the consumer group, stops the queue scheduler. */
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
  const ctx: JobContext = {
    ...deps,
    logger,
    settings: config,
    resolver: createResolver(config.dnsServers, config.dnsTimeoutMs),
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
        // Already in the queue: the scheduler owns it; this is the bus redelivering.
        if (await isRelayJobQueued(deps.pool, job.eventId)) return;
        const finished = await finishedRelayRecipients(deps.pool, job.eventId);
        const pending = job.recipients.map((r) => r.address).filter((r) => !finished.has(r));
        if (pending.length === 0) return;
        await processJob(ctx, job, { attempt: 1, queued: false, pending });
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
      await Promise.all([subscription.stop(), archive.stop()]);
      await scheduler.stop();
      await connections.close();
    },
  };
}

function startScheduler(ctx: JobContext): { stop(): Promise<void> } {
  let stopping = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      try {
        const claimed = await claimDueRelayJobs(ctx.pool, {
          limit: ctx.settings.queueBatch,
          leaseMs: ctx.settings.queueLeaseMs,
        });
        await Promise.all(claimed.map((entry) => retryEntry(ctx, entry)));
        relayMetrics.queueDepth.set(await relayQueueDepth(ctx.pool));
        relayMetrics.oldestAge.set(await relayQueueOldestAgeSeconds(ctx.pool));
        if (claimed.length === ctx.settings.queueBatch) continue;
      } catch (error) {
        ctx.logger.warn({ error: (error as Error).message }, 'deferred queue pass failed');
      }
      if (stopping) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, ctx.settings.queuePollMs).unref();
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

async function retryEntry(ctx: JobContext, entry: RelayQueueEntry): Promise<void> {
  try {
    const job = decodeOutboundMessage(entry.job);
    await processJob(ctx, job, {
      attempt: entry.attempts,
      queued: true,
      pending: entry.recipients.map((r) => r.recipient),
    });
  } catch (error) {
    // The lease expires and another pass retries it; nothing is lost.
    ctx.logger.error({ jobId: entry.jobId, error: (error as Error).message }, 'queued delivery failed');
  }
}
