import type { Consumer, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { encodeDeadLetter } from '../dead-letter.js';
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
}

/** Messages per batchHandler call: one transaction of the consumer stays a sane size. */
const MAX_BATCH = 100;

/**
 * Runs one consumer with autoCommit off: an offset is committed only once its handler resolved
 * (or its dead letter is durable), so a crash redelivers instead of losing.
 */
export async function startKafkaSubscription(parts: KafkaSubscriptionParts): Promise<Subscription> {
  const { consumer, options, deadLetterTopic } = parts;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const stalls = new StallTracker(options.group, options.topic);

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
    await consumer.commitOffsets([
      { topic: options.topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
    ]);
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
      await consumer.commitOffsets([
        { topic: options.topic, partition, offset: (BigInt(last) + 1n).toString() },
      ]);
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
