import pg from 'pg';
import { errorText, stderrBusLog } from '../log.js';
import type { BusLog } from '../log.js';
import { withTimeout } from '../timeout.js';
import type { Bus, OutgoingMessage, Subscription, TopicSpec } from '../port.js';
import { Partitioner, appendMessages } from './append.js';
import { pruneConsumedMessages } from './prune.js';
import { createBusSchema } from './schema.js';
import { startPostgresSubscription } from './subscription.js';
import { TopicCatalog } from './topics.js';

export interface PostgresBusOptions {
  connectionString: string;
  maxAttempts?: number;
  /** How often an idle consumer looks for new messages and free partitions without a NOTIFY. */
  pollIntervalMs?: number;
  /** Partitions of topics the bus creates itself (dead-letter topics). */
  partitions?: number;
  log?: BusLog;
}

const PING_TIMEOUT_MS = 5_000;

/** Where a URL points, without its password, for error messages. */
function describeServer(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/**
 * The embedded default's bus: the same at-least-once, ordered-per-key, commit-after-handler
 * semantics as Kafka, in tables of the Postgres the mail store already needs. Tables are
 * created on first use, so creating the bus never blocks on the database.
 */
export function createPostgresBus(options: PostgresBusOptions): Bus {
  const log = options.log ?? stderrBusLog;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const defaultPartitions = options.partitions ?? 1;
  const server = describeServer(options.connectionString);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 5,
    connectionTimeoutMillis: 4_000,
  });
  pool.on('error', (error) => log('warn', 'bus pool connection lost', { error: errorText(error) }));
  const catalog = new TopicCatalog();
  const partitioner = new Partitioner();
  const subscriptions = new Set<Subscription>();

  let schema: Promise<void> | undefined;
  const ready = () => {
    schema ??= createBusSchema(pool).catch((error: unknown) => {
      schema = undefined;
      throw error;
    });
    return schema;
  };

  const ensureTopics = async (topics: TopicSpec[]) => {
    await ready();
    await catalog.ensure(pool, topics);
  };

  return {
    kind: 'postgres',
    ensureTopics,

    async publish(topic: string, messages: OutgoingMessage[]) {
      if (messages.length === 0) return;
      await ready();
      const partitions = await catalog.partitionsOf(pool, topic);
      const byPartition = new Map<number, OutgoingMessage[]>();
      for (const message of messages) {
        const partition = partitioner.choose(message.key, partitions);
        const batch = byPartition.get(partition);
        if (batch) batch.push(message);
        else byPartition.set(partition, [message]);
      }
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await appendMessages(client, topic, byPartition);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },

    async subscribe(subscribeOptions) {
      const deadLetterTopic = subscribeOptions.deadLetterTopic ?? `${subscribeOptions.topic}.dlq`;
      await ensureTopics([{ name: deadLetterTopic, partitions: defaultPartitions }]);
      const subscription = await startPostgresSubscription({
        connectionString: options.connectionString,
        options: subscribeOptions,
        maxAttempts: subscribeOptions.maxAttempts ?? options.maxAttempts ?? 5,
        deadLetterTopic,
        pollIntervalMs,
        catalog,
        partitioner,
        log,
        onStopped: () => subscriptions.delete(subscription),
      });
      subscriptions.add(subscription);
      return subscription;
    },

    async ping() {
      try {
        await withTimeout(
          (async () => {
            await ready();
            await pool.query('SELECT 1');
          })(),
          PING_TIMEOUT_MS,
          `no answer within ${PING_TIMEOUT_MS} ms`,
        );
      } catch (error) {
        throw new Error(`Postgres bus at ${server} unreachable: ${errorText(error)}`, { cause: error });
      }
    },

    async pruneConsumed() {
      await ready();
      return pruneConsumedMessages(pool);
    },

    async close() {
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      await pool.end();
    },
  };
}
