import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { errorText, stderrBusLog } from '../log.js';
import type { BusLog } from '../log.js';
import { withTimeout } from '../timeout.js';
import type { Bus, OutgoingMessage, TopicSpec } from '../port.js';
import { GroupCommit } from '../group-commit.js';
import { reportLag } from '../lag.js';
import { Partitioner, appendMessages, wakeConsumersAfterCommit } from './append.js';
import { pruneConsumedMessages } from './prune.js';
import { createBusSchema, inTransaction } from './schema.js';
import { startPostgresSubscription, type PostgresSubscription } from './subscription.js';
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
/**
 * The least time between two wake-up NOTIFYs of one bus: a single SMTP session publishes every few
 * milliseconds, and each NOTIFY was a round trip and a transaction of its own (one per message; the
 * publishes themselves are one statement each). A consumer in another process learns of a publish at
 * most this much later (it polls anyway); consumers in this process are woken at once.
 */
const NOTIFY_SPACING_MS = 20;

/** Where a URL points, without its password, for error messages. */
function describeServer(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the configured server';
  }
}

interface Publish {
  topic: string;
  byPartition: Map<number, OutgoingMessage[]>;
}

/**
 * One transaction (one WAL flush) for every publish of a group commit. Topics are appended in
 * name order and partitions in ascending order, so concurrent batches cannot deadlock.
 */
async function commitPublishes(pool: pg.Pool, batch: Publish[]): Promise<void> {
  const byTopic = new Map<string, Map<number, OutgoingMessage[]>>();
  for (const { topic, byPartition } of batch) {
    const merged = byTopic.get(topic) ?? new Map<number, OutgoingMessage[]>();
    byTopic.set(topic, merged);
    for (const [partition, messages] of byPartition) {
      const into = merged.get(partition);
      if (into) into.push(...messages);
      else merged.set(partition, [...messages]);
    }
  }
  const [only] = byTopic;
  if (byTopic.size === 1 && only![1].size === 1) {
    // The usual case (every publish of the batch to one partition): one statement, its own
    // transaction: one round trip and one WAL flush.
    await appendMessages(pool, only![0], only![1]);
    return;
  }
  await inTransaction(pool, async (client) => {
    for (const topic of [...byTopic.keys()].sort()) await appendMessages(client, topic, byTopic.get(topic)!);
  });
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
  const subscriptions = new Set<PostgresSubscription>();

  // Consumers in other processes learn of new messages through NOTIFY, sent after the publish
  // committed and outside it (see appendMessages), coalesced while one is in flight and for
  // NOTIFY_SPACING_MS after it: a hint only, they poll too. Consumers in this process are woken directly.
  const notify = new GroupCommit<string>({
    commit: async (topics) => {
      await wakeConsumersAfterCommit(pool, new Set(topics));
      await sleep(NOTIFY_SPACING_MS);
    },
  });
  const wake = (topics: Set<string>) => {
    for (const subscription of subscriptions) for (const topic of topics) subscription.published(topic);
    for (const topic of topics)
      notify
        .submit(topic)
        .catch((error: unknown) =>
          log('warn', 'bus wake-up NOTIFY failed; consumers elsewhere poll', { error: errorText(error) }),
        );
  };
  const publishes = new GroupCommit<Publish>({
    commit: (batch) => commitPublishes(pool, batch),
    committed: (batch) => wake(new Set(batch.map((p) => p.topic))),
  });

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
      await publishes.submit({ topic, byPartition });
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
        onStopped: () => {
          subscriptions.delete(subscription);
          stopLag();
        },
      });
      const { group, topic } = subscribeOptions;
      // Published (the partition's head) minus committed: a group that committed nothing has
      // everything still on the partition ahead of it (registered groups keep it from pruning).
      const stopLag = reportLag(group, topic, async () => {
        const { rows } = await pool.query<{ partition: number; lag: string }>(
          `SELECT h.partition, greatest(0, h.next_offset - coalesce(c.next_offset,
                  (SELECT min(m."offset") FROM bus.messages m WHERE m.topic = h.topic AND m.partition = h.partition),
                  h.next_offset)) AS lag
             FROM bus.partition_heads h
             LEFT JOIN bus.committed_offsets c
               ON c.group_id = $1 AND c.topic = h.topic AND c.partition = h.partition
            WHERE h.topic = $2`,
          [group, topic],
        );
        return rows.map((row) => ({ partition: row.partition, lag: Number(row.lag) }));
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
      await publishes.idle();
      await notify.idle();
      await pool.end();
    },
  };
}
