import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { encodeDeadLetter } from '../dead-letter.js';
import { errorText } from '../log.js';
import type { BusLog } from '../log.js';
import { handleWithRetries, reportDeadLetter } from '../retry.js';
import { StallTracker } from '../stall.js';
import type {
  BatchHandled,
  DeliveredMessage,
  Headers,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from '../port.js';
import { NOTIFY_CHANNEL, appendMessages, wakeConsumers } from './append.js';
import { registerGroup } from './prune.js';
import type { Partitioner } from './append.js';
import type { TopicCatalog } from './topics.js';

export interface PostgresSubscriptionParts {
  connectionString: string;
  options: SubscribeOptions;
  maxAttempts: number;
  deadLetterTopic: string;
  pollIntervalMs: number;
  catalog: TopicCatalog;
  partitioner: Partitioner;
  log: BusLog;
  onStopped: () => void;
}

const BATCH = 100;

interface StoredMessage {
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Headers;
}

/**
 * One member of a consumer group. It owns a partition by holding a session advisory lock on
 * its own connection, and commits on that same connection: if the connection dies, the lock
 * goes with it and so does any chance to commit, so two members never both deliver a partition.
 */
class PostgresConsumer implements Subscription {
  private client: pg.Client | undefined;
  /** Owned partition -> next offset to deliver. */
  private readonly owned = new Map<number, bigint>();
  private readonly stopping = new AbortController();
  private readonly stalls: StallTracker;
  private notified = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly parts: PostgresSubscriptionParts) {
    this.stalls = new StallTracker(parts.options.group, parts.options.topic);
  }

  /** Connects once up front so a bad URL or unknown topic fails subscribe() itself. */
  async start(): Promise<void> {
    await this.connect();
    this.running = this.consumeForever();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      this.wake?.();
      await this.running;
      await this.disconnect();
      this.stalls.reset();
      this.parts.onStopped();
    })();
    return this.stopped;
  }

  /** A publish to `topic` committed in this process: look again now, without waiting for NOTIFY. */
  published(topic: string): void {
    if (topic !== this.options.topic) return;
    this.notified = true;
    this.wake?.();
  }

  stalled() {
    return this.stalls.oldest();
  }

  private get options(): SubscribeOptions {
    return this.parts.options;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.parts.connectionString,
      connectionTimeoutMillis: 10_000,
    });
    client.on('error', (error) => {
      this.parts.log('warn', 'bus consumer connection lost', {
        group: this.options.group,
        error: errorText(error),
      });
      this.wake?.();
    });
    client.on('notification', (note) => {
      if (note.payload !== this.options.topic) return;
      this.notified = true;
      this.wake?.();
    });
    try {
      await client.connect();
      const partitions = await this.parts.catalog.partitionsOf(client, this.options.topic);
      await registerGroup(client, this.options.group, this.options.topic, partitions);
      // This connection's commits are consumer bookkeeping only (offsets, and a dead letter with its
      // offset): they need not wait for their own WAL flush. Losing one (a crash of PostgreSQL itself,
      // never of this process, within wal_writer_delay) moves the group back to an earlier offset,
      // and the handlers are idempotent by contract (the mda files by event and recipient): the same
      // messages are handled again, with no effect. Any later synchronous commit, such as the next
      // filing, flushes the WAL up to and including them. So each batch pays one WAL flush (its
      // filing), not two. Publishes and deliveries keep synchronous_commit on: their own pools.
      await client.query('SET synchronous_commit TO off');
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.client = client;
    return client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.owned.clear();
    // Ending the session releases its advisory locks: the partitions go back to the group.
    await client?.end().catch(() => {});
  }

  private async consumeForever(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const client = this.client ?? (await this.connect());
        await this.claimPartitions(client);
        const progressed = await this.deliverOwned(client);
        if (!progressed) await this.idle();
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        this.parts.log('warn', 'bus consumer failed; reconnecting', {
          group: this.options.group,
          topic: this.options.topic,
          error: errorText(error),
        });
        await this.disconnect();
        await sleep(this.parts.pollIntervalMs, undefined, { signal: this.stopping.signal }).catch(() => {});
      }
    }
  }

  private async claimPartitions(client: pg.Client): Promise<void> {
    const { group, topic } = this.options;
    const partitions = await this.parts.catalog.partitionsOf(client, topic);
    for (let partition = 0; partition < partitions; partition++) {
      if (this.owned.has(partition)) continue;
      const { rows } = await client.query<{ owned: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS owned',
        [JSON.stringify(['correo.bus', group, topic, partition])],
      );
      if (!rows[0]?.owned) continue;
      const committed = await client.query<{ next_offset: string }>(
        'SELECT next_offset FROM bus.committed_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3',
        [group, topic, partition],
      );
      this.owned.set(partition, BigInt(committed.rows[0]?.next_offset ?? 0));
    }
  }

  private async deliverOwned(client: pg.Client): Promise<boolean> {
    let progressed = false;
    if (this.owned.size === 0) return progressed;
    // What is ready on every owned partition, in one round trip (it was one per partition: with the
    // default six partitions and one busy one, five empty fetches per wake-up; docs/performance.md).
    const owned = [...this.owned];
    const fetched = await client.query<StoredMessage & { partition: number }>({
      name: 'correo-bus-fetch-owned',
      text: `SELECT o.partition, m."offset", m.key, m.value, m.headers
               FROM unnest($2::int[], $3::bigint[]) AS o(partition, next)
               CROSS JOIN LATERAL (
                 SELECT "offset", key, value, headers FROM bus.messages
                  WHERE topic = $1 AND partition = o.partition AND "offset" >= o.next
                  ORDER BY "offset" LIMIT ${BATCH}) m
              ORDER BY o.partition, m."offset"`,
      values: [
        this.options.topic,
        owned.map(([partition]) => partition),
        owned.map(([, next]) => next.toString()),
      ],
    });
    const ready = new Map<number, StoredMessage[]>();
    for (const row of fetched.rows) {
      const rows = ready.get(row.partition);
      if (rows) rows.push(row);
      else ready.set(row.partition, [row]);
    }
    for (const [partition, rows] of ready) {
      if (
        rows.length > 1 &&
        this.options.batchHandler &&
        (await this.deliverBatch(client, partition, rows))
      ) {
        progressed = true;
        continue;
      }
      for (const row of rows) {
        if (this.stopping.signal.aborted) return progressed;
        if (!(await this.deliver(client, partition, row))) return progressed;
        progressed = true;
      }
    }
    return progressed;
  }

  /**
   * The whole fetch through batchHandler, then one offset commit for all of it. Returns false when
   * the batch handler threw (nothing of it counts: the caller delivers the rows one by one).
   */
  private async deliverBatch(client: pg.Client, partition: number, rows: StoredMessage[]): Promise<boolean> {
    if (this.stopping.signal.aborted) return false;
    const { group, topic } = this.options;
    const nextOffset = BigInt(rows.at(-1)!.offset) + 1n;
    let handled: void | BatchHandled;
    try {
      handled = await this.options.batchHandler!(
        rows.map((row) => ({ ...this.delivered(partition, row), attempt: 1 })),
        { group, topic, partition, nextOffset: nextOffset.toString() },
      );
    } catch (error) {
      this.parts.log('warn', 'bus batch handler failed; delivering one by one', {
        group,
        topic,
        partition,
        error: errorText(error),
      });
      return false;
    }
    // Committed by the handler in its own transaction (the mda's filing), or here.
    if (!handled?.offsetCommitted) await commitOffset(client, group, topic, partition, nextOffset);
    this.owned.set(partition, nextOffset);
    return true;
  }

  private delivered(partition: number, row: StoredMessage): Omit<DeliveredMessage, 'attempt'> {
    return {
      topic: this.options.topic,
      partition,
      offset: row.offset,
      key: row.key ?? undefined,
      value: row.value,
      headers: row.headers,
    };
  }

  /** Returns false when stop() cut the retries short and the offset stays uncommitted. */
  private async deliver(client: pg.Client, partition: number, row: StoredMessage): Promise<boolean> {
    const { group, topic } = this.options;
    const delivered = this.delivered(partition, row);
    const outcome = await handleWithRetries({
      message: delivered,
      handler: this.options.handler,
      maxAttempts: this.parts.maxAttempts,
      stopping: this.stopping.signal,
      stalls: this.stalls,
    });
    if (outcome.kind === 'abandoned') return false;
    const nextOffset = BigInt(row.offset) + 1n;
    if (outcome.kind !== 'failed') {
      // The offset alone: one statement, its own transaction.
      await commitOffset(client, group, topic, partition, nextOffset);
      this.owned.set(partition, nextOffset);
      return true;
    }
    await client.query('BEGIN');
    try {
      // Dead letter and commit share one transaction: the poison message moves exactly once.
      const letter: OutgoingMessage = {
        key: delivered.key,
        value: encodeDeadLetter({
          ...delivered,
          group,
          error: outcome.error,
          attempts: outcome.attempts,
          failedAt: new Date().toISOString(),
        }),
      };
      const partitions = await this.parts.catalog.partitionsOf(client, this.parts.deadLetterTopic);
      const target = this.parts.partitioner.choose(letter.key, partitions);
      await appendMessages(client, this.parts.deadLetterTopic, new Map([[target, [letter]]]));
      await wakeConsumers(client, [this.parts.deadLetterTopic]);
      await commitOffset(client, group, topic, partition, nextOffset);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    this.owned.set(partition, nextOffset);
    reportDeadLetter(this.options.onDeadLetter, delivered, outcome);
    return true;
  }

  /** Sleeps until a publish to our topic is notified, the poll interval passes, or stop(). */
  private async idle(): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.parts.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
      if (this.stopping.signal.aborted) done();
    });
    this.wake = undefined;
    this.notified = false;
  }
}

/** Records where `group` resumes on a partition; on the consumer's own connection (see PostgresConsumer). */
async function commitOffset(
  client: pg.Client,
  group: string,
  topic: string,
  partition: number,
  nextOffset: bigint,
): Promise<void> {
  await client.query({
    name: 'correo-bus-commit-offset',
    text: 'SELECT bus.commit_offset($1, $2, $3, $4)',
    values: [group, topic, partition, nextOffset.toString()],
  });
}

export type PostgresSubscription = Subscription & Pick<PostgresConsumer, 'published'>;

export async function startPostgresSubscription(
  parts: PostgresSubscriptionParts,
): Promise<PostgresSubscription> {
  const consumer = new PostgresConsumer(parts);
  await consumer.start();
  return consumer;
}
