/**
 * The bus port. Both adapters (Kafka, Postgres tables) implement exactly this, and one
 * contract suite (test/contract.ts) proves they behave the same:
 * - publish() resolves only once every message is durable (Kafka acks=all; Postgres commit);
 * - delivery is at-least-once per consumer group, in order per key within a partition;
 * - a handler's offset is committed only after the handler resolves;
 * - a handler that throws is retried. A backend failure (failure.ts: connection refused/reset,
 *   PostgreSQL shutting down, S3 5xx, Kafka retriable) is retried with capped backoff for as long
 *   as it lasts, the partition waiting meanwhile (Subscription.stalled() says why); it never
 *   dead-letters. After `maxAttempts` failures of the message itself the message is wrapped in
 *   a DeadLetter event and published to the dead-letter topic, then committed.
 */
export type Headers = Record<string, string>;

export interface OutgoingMessage {
  /** Partitioning key: messages with the same key keep their order. */
  key?: string;
  value: Uint8Array;
  headers?: Headers;
}

export interface DeliveredMessage {
  topic: string;
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets exceed 2^53). */
  offset: string;
  key: string | undefined;
  value: Buffer;
  headers: Headers;
  /** 1 on first delivery to this handler process, incremented on each in-process retry. */
  attempt: number;
}

/**
 * Where the group resumes once a batch is handled. The PostgreSQL-table bus hands it to a batch
 * handler: one that writes to the bus's own database may commit it in its own transaction (SQL
 * `bus.commit_offset(group, topic, partition, next_offset)`) and answer `{ offsetCommitted: true }`,
 * so the batch's work and its offset are one commit. Only when nothing of the batch is left to do
 * after that transaction: a crash after it redelivers nothing.
 */
export interface BatchOffset {
  group: string;
  topic: string;
  partition: number;
  nextOffset: string;
}

export interface BatchHandled {
  /** The handler committed BatchOffset in its own transaction: the bus does not commit it again. */
  offsetCommitted: boolean;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface SubscribeOptions {
  /** Consumer group: each group sees every message once (at least once). */
  group: string;
  topic: string;
  handler: (message: DeliveredMessage) => Promise<void>;
  /**
   * Optional: handles the messages of one partition that are ready at once (in offset order,
   * each `attempt` 1), e.g. filing them in one database transaction. When it resolves, all of them
   * are handled and their offsets are committed once, at the end. When it throws, none may count
   * as handled (all or nothing, like one transaction): each then goes through `handler` alone,
   * with the usual retries and dead letters, so a poison message never holds up its batch.
   * `offset`: see BatchOffset (the PostgreSQL-table bus only).
   */
  batchHandler?: (messages: DeliveredMessage[], offset?: BatchOffset) => Promise<void | BatchHandled>;
  /**
   * Failures of the message itself before it is dead-lettered (backend failures never count).
   * Default from config (BUS_MAX_ATTEMPTS).
   */
  maxAttempts?: number;
  /** Default: `${topic}.dlq`. */
  deadLetterTopic?: string;
  /**
   * Partitions this member handles at once (order is kept within each partition). Default 1.
   * The Kafka adapter honours it; the Postgres-table adapter of the one-process embedded
   * default handles its partitions one message at a time.
   */
  partitionConcurrency?: number;
  /**
   * Called once a message's dead letter is durable (and its offset committed): the moment for a
   * service to count and log it. A throw here is ignored; the message has already moved.
   */
  onDeadLetter?: (message: DeliveredMessage, error: string, attempts: number) => void;
}

/** A delivery held up because a backend is down: the message waits and is retried, never dead-lettered. */
export interface Stall {
  group: string;
  topic: string;
  partition: number;
  offset: string;
  /** The last backend failure, as the handler threw it. */
  error: string;
  since: Date;
  retries: number;
}

export interface Subscription {
  /** Stops fetching, lets the in-flight handler finish, commits, leaves the group. */
  stop(): Promise<void>;
  /** The longest-waiting delivery held up by a backend failure, or undefined while all flow (for /readyz). */
  stalled(): Stall | undefined;
}

export interface Bus {
  readonly kind: 'kafka' | 'postgres';
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Readiness: resolves when the backend answers, rejects with a clear error otherwise. */
  ping(): Promise<void>;
  /**
   * Removes messages every consumer group of their topic has committed past, so consumed mail
   * events (addresses, blob keys) do not stay forever; resolves how many went. A topic no group
   * has subscribed to (a dead-letter topic) keeps everything. Kafka: 0, its retention does this.
   */
  pruneConsumed(): Promise<number>;
  close(): Promise<void>;
}
