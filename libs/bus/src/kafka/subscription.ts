import type { Consumer, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { encodeDeadLetter } from '../dead-letter.js';
import { errorText, type BusLog } from '../log.js';
import { handleWithRetries, reportDeadLetter } from '../retry.js';
import { StallTracker } from '../stall.js';
import type { DeliveredMessage, Headers, SubscribeOptions, Subscription } from '../port.js';

export interface KafkaSubscriptionParts {
  consumer: Consumer;
  producer: () => Promise<Producer>;
  options: SubscribeOptions;
  maxAttempts: number;
  deadLetterTopic: string;
  onStopped: () => void;
  log: BusLog;
}

/** Messages per batchHandler call: one transaction of the consumer stays a sane size. */
const MAX_BATCH = 100;

/**
 * The offset commits of one consumer, sent in order and coalesced: while one commit request is at
 * the group coordinator, what the partitions reach meanwhile waits and goes in the next request,
 * one offset per partition (the latest). So a committed offset never moves back, and a consumer
 * whose handlers finish faster than the coordinator answers sends one request per round trip, not
 * one per batch.
 */
class OffsetCommits {
  private wanted = new Map<number, string>();
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly topic: string,
  ) {}

  /** Resolves once `offset` of `partition` (or a later one) is committed. */
  commit(partition: number, offset: string): Promise<void> {
    this.wanted.set(partition, offset);
    const committed = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.running ??= this.drain();
    return committed;
  }

  /** Resolves when no commit is pending. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.wanted.size > 0) {
      const offsets = [...this.wanted].map(([partition, offset]) => ({
        topic: this.topic,
        partition,
        offset,
      }));
      const waiters = this.waiters;
      this.wanted = new Map();
      this.waiters = [];
      try {
        await this.consumer.commitOffsets(offsets);
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
      }
    }
    this.running = undefined;
  }
}

/**
 * Runs one consumer with autoCommit off: an offset is committed only once its handler resolved
 * (or its dead letter is durable), so a crash redelivers instead of losing.
 */
export async function startKafkaSubscription(parts: KafkaSubscriptionParts): Promise<Subscription> {
  const { consumer, options, deadLetterTopic } = parts;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const stalls = new StallTracker(options.group, options.topic);
  const commits = new OffsetCommits(consumer, options.topic);

  const toDelivered = (partition: number, message: KafkaMessage): Omit<DeliveredMessage, 'attempt'> => ({
    topic: options.topic,
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8'),
    value: message.value ?? Buffer.alloc(0),
    headers: textHeaders(message.headers),
  });

  const handle = async (
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): Promise<void> => {
    const delivered = toDelivered(partition, message);
    const key = delivered.key;
    const outcome = await handleWithRetries({
      message: delivered,
      handler: options.handler,
      maxAttempts: parts.maxAttempts,
      stopping: stopping.signal,
      betweenAttempts: heartbeat,
      stalls,
    });
    if (outcome.kind === 'abandoned') return;
    if (outcome.kind === 'failed') {
      const producer = await parts.producer();
      const letter = encodeDeadLetter({
        ...delivered,
        group: options.group,
        error: outcome.error,
        attempts: outcome.attempts,
        failedAt: new Date().toISOString(),
      });
      await producer.send({
        topic: deadLetterTopic,
        acks: -1,
        messages: [{ key: key ?? null, value: letter }],
      });
    }
    // kafkajs skips commits once its runner stops, so stop() lets this finish before disconnecting.
    await commits.commit(partition, (BigInt(message.offset) + 1n).toString());
    if (outcome.kind === 'failed') reportDeadLetter(options.onDeadLetter, delivered, outcome);
  };

  /**
   * A fetched batch of one partition through batchHandler with one offset commit; when it throws,
   * message by message through handle() (retries, dead letters, a commit each).
   */
  const handleBatch = async (
    partition: number,
    messages: KafkaMessage[],
    heartbeat: () => Promise<void>,
    /** Moves kafkajs's fetch position past a message; without it the next fetch repeats the batch. */
    resolveOffset: (offset: string) => void,
  ): Promise<void> => {
    for (let start = 0; start < messages.length; start += MAX_BATCH) {
      if (stopping.signal.aborted) return;
      const chunk = messages.slice(start, start + MAX_BATCH);
      try {
        await options.batchHandler!(
          chunk.map((message) => ({ ...toDelivered(partition, message), attempt: 1 })),
        );
      } catch {
        for (const message of chunk) {
          if (stopping.signal.aborted) return;
          await handle(partition, message, heartbeat);
          resolveOffset(message.offset);
        }
        continue;
      }
      const last = chunk.at(-1)!.offset;
      // Committed behind the next batch, not before it is fetched: what the handler did is durable
      // and idempotent (the mda files by event and recipient), so a commit lost to a crash or a
      // rebalance only redelivers messages whose handling is then a no-op. Waiting for it put a
      // coordinator round trip, and the broker's flush of __consumer_offsets, between every two
      // batches of a partition. stop() waits for it; a later commit of the partition supersedes it.
      commits.commit(partition, (BigInt(last) + 1n).toString()).catch((error: unknown) => {
        parts.log('warn', 'bus offset commit failed; the next commit or a redelivery covers it', {
          group: options.group,
          topic: options.topic,
          partition,
          error: errorText(error),
        });
      });
      resolveOffset(last);
      await heartbeat();
    }
  };

  // Messages after stop() stay uncommitted; the group's next member gets them.
  const track = async (work: () => Promise<void>): Promise<void> => {
    if (stopping.signal.aborted) return;
    const running = work();
    inFlight.add(running);
    try {
      await running;
    } catch (error) {
      throw stopping.signal.aborted ? error : restartable(error);
    } finally {
      inFlight.delete(running);
    }
  };

  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // Each partition stays in order; several partitions of this member are handled at once.
      partitionsConsumedConcurrently: options.partitionConcurrency ?? 1,
      ...(options.batchHandler
        ? {
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch, heartbeat, resolveOffset }) => {
              await track(() => handleBatch(batch.partition, batch.messages, heartbeat, resolveOffset));
            },
          }
        : {
            eachMessage: async ({ partition, message, heartbeat }) => {
              await track(() => handle(partition, message, heartbeat));
            },
          }),
    });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await Promise.allSettled(inFlight);
        await commits.settled();
        await consumer.disconnect();
        stalls.reset();
        parts.onStopped();
      })();
      return stopped;
    },
    stalled: () => stalls.oldest(),
  };
}

/**
 * What escapes a handler here is Kafka's, not the message's (handleWithRetries keeps those): most
 * often an offset commit or heartbeat after the group dropped this member because a handler ran
 * past the session timeout (an mda waiting out a stalled S3). kafkajs gives up on such an error
 * ("The coordinator is not aware of this member", wrapped as KafkaJSNonRetriableError) and restarts
 * its consumer only after errors whose innermost cause says `retriable`: without this the
 * subscription stopped for good and nothing more was delivered. Restarted, the consumer rejoins
 * and the uncommitted messages come again (handlers are idempotent: at-least-once).
 */
function restartable(error: unknown): unknown {
  if ((error as { name?: unknown } | undefined)?.name !== 'KafkaJSNonRetriableError') return error;
  // No `cause`: kafkajs reads `retriable` from the innermost cause, which says false.
  return Object.assign(new Error(`consumer restarts after: ${(error as Error).message}`), {
    name: 'KafkaJSConsumerRestart',
    retriable: true,
  });
}

function textHeaders(headers: IHeaders | undefined): Headers {
  const text: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    text[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return text;
}
