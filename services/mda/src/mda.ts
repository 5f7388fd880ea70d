import type { BlobStore } from '@correo/blobs';
import { stallCheck, startDeadLetterArchive } from '@correo/backends';
import type { BatchOffset, Bus, DeliveredMessage } from '@correo/bus';
import type { Directory } from '@correo/directory';
import type { OutboundQuota } from '@correo/limits';
import { MailboxChangeFeed, type Notifier } from '@correo/notify';
import type { Pool } from '@correo/store';
import { decodeMailAccepted } from '@correo/proto';
import {
  extractTraceContext,
  injectTraceContext,
  spanHeaders,
  withSpan,
  withSpanPerMessage,
} from '@correo/telemetry';
import type { Logger, ReadinessCheck } from '@correo/telemetry';
import type { MdaSettings } from './config.js';
import { deadLetterBlobKey } from './carried-body.js';
import { decodeEvent, deliverEvent, deliverEvents } from './deliver-event.js';
import { startHousekeeping } from './housekeeping.js';
import type { Housekeeping } from './housekeeping.js';
import { mdaMetrics } from './metrics.js';
import { startSpamTraining, type SpamTraining } from './spam-training.js';

export interface MdaDeps {
  bus: Bus;
  blobs: BlobStore;
  /** The metadata store, migrated (libs/store migrate()). */
  pool: Pool;
  directory: Directory;
  notifier: Notifier;
  /** Hourly outbound limits Sieve redirects and vacation replies count against (MAIL_OUTBOUND_*). */
  outboundQuota?: OutboundQuota;
  logger: Logger;
  config: MdaSettings;
}

export interface Mda {
  /** Blob collection and bus pruning: periodic per the settings, and on demand. */
  housekeeping: Housekeeping;
  /** Rspamd learning from Junk moves; undefined when RSPAMD_CONTROLLER_URL is unset. */
  spamTraining?: SpamTraining;
  /** Readiness: fails, saying why, while delivery waits for a backend that is down. */
  checks: Record<string, ReadinessCheck>;
  /** Lets the event in hand finish and commit, then leaves the consumer group. Adapters stay open. */
  close(): Promise<void>;
}

/** Joins the mda consumer group on mail.accepted and delivers until close(). */
export async function startMda(deps: MdaDeps): Promise<Mda> {
  const { bus, config } = deps;
  const logger = deps.logger.child({ component: 'mda' });
  await bus.ensureTopics(
    [config.acceptedTopic, config.outboundTopic, config.deadLetterTopic].map((name) => ({
      name,
      partitions: config.topicPartitions,
    })),
  );
  const ctx = {
    ...deps,
    logger,
    changes: new MailboxChangeFeed(deps.notifier, logger),
    outboundTopic: config.outboundTopic,
    acceptedTopic: config.acceptedTopic,
    vacation: config.vacation,
    maxForwardsPerMessage: config.maxForwardsPerMessage,
    databaseBodyBytes: config.databaseBodyBytes,
  };

  const handler = async (message: DeliveredMessage) => {
    try {
      await withSpan(
        'mda.deliver',
        async (span) => {
          const event = decodeEvent(message.value);
          span.setAttribute('correo.event_id', event.eventId);
          await deliverEvent(ctx, event, injectTraceContext({}));
        },
        extractTraceContext(message.headers),
      );
    } catch (error) {
      const { topic, partition, offset, attempt } = message;
      logger.warn({ topic, partition, offset, attempt, error: (error as Error).message }, 'delivery failed');
      throw error;
    }
  };

  // What is ready on a partition is filed in one transaction; a batch that fails (one bad event)
  // goes through `handler` event by event, with retries and dead letters.
  const batchHandler = async (messages: DeliveredMessage[], offset?: BatchOffset) =>
    withSpan('mda.deliver-batch', async (span) => {
      span.setAttribute('correo.batch_size', messages.length);
      // Each event keeps its own trace (from smtp-ingress): an mda.deliver span in it (linked to
      // this batch span) is what the store, the relay and the journey continue, not the batch,
      // which no single message belongs to.
      const decoded = messages.map((message) => decodeEvent(message.value));
      return withSpanPerMessage(
        'mda.deliver',
        messages.map((message) => extractTraceContext(message.headers)),
        async (spans) => {
          const events = decoded.map((event, i) => {
            spans[i]!.setAttribute('correo.event_id', event.eventId);
            return { event, headers: spanHeaders(spans[i]!) };
          });
          return deliverEvents(ctx, events, offset);
        },
      );
    });

  const subscription = await bus.subscribe({
    group: config.group,
    topic: config.acceptedTopic,
    handler,
    batchHandler,
    maxAttempts: config.maxAttempts,
    deadLetterTopic: config.deadLetterTopic,
    partitionConcurrency: config.concurrency,
    onDeadLetter: ({ topic, partition, offset }, error, attempts) => {
      mdaMetrics.deadLettered.inc();
      logger.error(
        { topic, partition, offset, attempts, error, deadLetterTopic: config.deadLetterTopic },
        'event dead-lettered',
      );
    },
  });
  const archive = await startDeadLetterArchive(bus, deps.pool, {
    group: config.group,
    deadLetterTopic: config.deadLetterTopic,
    logger,
    blobKeyOf: (value) => deadLetterBlobKey(decodeMailAccepted(value)),
  });
  logger.info({ group: config.group, topic: config.acceptedTopic }, 'mda consuming');
  const housekeeping = startHousekeeping({
    ...deps,
    logger,
    settings: config.housekeeping,
    vacationMaxDays: config.vacation.maxDays,
  });
  const spamTraining =
    config.spamTraining && startSpamTraining({ ...deps, logger, settings: config.spamTraining });

  return {
    housekeeping,
    spamTraining,
    checks: { delivery: stallCheck([subscription, archive]) },
    async close() {
      await housekeeping.close();
      await spamTraining?.close();
      await Promise.all([subscription.stop(), archive.stop()]);
    },
  };
}
