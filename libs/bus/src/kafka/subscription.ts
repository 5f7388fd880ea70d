import type { Consumer, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { encodeDeadLetter } from '../dead-letter.js';
import { handleWithRetries, reportDeadLetter } from '../retry.js';
import { StallTracker } from '../stall.js';
import type { Headers, SubscribeOptions, Subscription } from '../port.js';

export interface KafkaSubscriptionParts {
  consumer: Consumer;
  producer: () => Promise<Producer>;
  options: SubscribeOptions;
  maxAttempts: number;
  deadLetterTopic: string;
  onStopped: () => void;
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

  const handle = async (
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): Promise<void> => {
    const key = message.key?.toString('utf8');
    const delivered = {
      topic: options.topic,
      partition,
      offset: message.offset,
      key,
      value: message.value ?? Buffer.alloc(0),
      headers: textHeaders(message.headers),
    };
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

  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // Each partition stays in order; several partitions of this member are handled at once.
      partitionsConsumedConcurrently: options.partitionConcurrency ?? 1,
      eachMessage: async ({ partition, message, heartbeat }) => {
        // Messages after stop() stay uncommitted; the group's next member gets them.
        if (stopping.signal.aborted) return;
        const work = handle(partition, message, heartbeat);
        inFlight.add(work);
        try {
          await work;
        } finally {
          inFlight.delete(work);
        }
      },
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

function textHeaders(headers: IHeaders | undefined): Headers {
  const text: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    text[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return text;
}
