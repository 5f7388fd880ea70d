import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, KafkaConfig, Producer } from 'kafkajs';
import { GroupCommit } from '../group-commit.js';
import { errorText, stderrBusLog } from '../log.js';
import type { BusLog } from '../log.js';
import { withTimeout } from '../timeout.js';
import type { Bus, OutgoingMessage, Subscription, TopicSpec } from '../port.js';
import { kafkaLogCreator } from './log-creator.js';
import { reportLag } from '../lag.js';
import { startKafkaSubscription } from './subscription.js';
import { createTopics } from './topics.js';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Partitions of topics the bus creates itself (dead-letter topics). */
  defaultPartitions?: number;
  /** -1 lets the broker choose (default.replication.factor). */
  replicationFactor?: number;
  maxAttempts?: number;
  connectionTimeoutMs?: number;
  log?: BusLog;
}

/**
 * Memoizes an async connect, forgetting a failure so the next call tries again; once `closed()` holds it
 * connects no more (kafkajs would otherwise open a new connection behind a closed bus and publish).
 */
function lazily<T>(
  connect: () => Promise<T>,
  closed: () => boolean,
): { get(): Promise<T>; peek(): Promise<T> | undefined } {
  let pending: Promise<T> | undefined;
  return {
    get() {
      if (closed()) return Promise.reject(new Error('the Kafka bus is closed'));
      pending ??= connect().catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
      return pending;
    },
    peek: () => pending,
  };
}

export function createKafkaBus(options: KafkaBusOptions): Bus {
  const connectionTimeout = options.connectionTimeoutMs ?? 3_000;
  const replicationFactor = options.replicationFactor ?? -1;
  const defaultPartitions = options.defaultPartitions ?? 1;
  const log = options.log ?? stderrBusLog;
  const brokersText = options.brokers.join(',');
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout,
    requestTimeout: 15_000,
    // kafkajs's defaults back off up to 30 s per try; a down broker should surface within seconds.
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 3_000 },
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
  };
  const kafka = new Kafka(config);
  // Readiness must answer fast: one try, no retries, and its failure is the rejection, not a log line.
  const pingKafka = new Kafka({
    ...config,
    clientId: `${options.clientId}-ping`,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });

  // Set by close() once the last publish and subscription are done: nothing connects again after it.
  let closed = false;
  const isClosed = () => closed;
  const producer = lazily<Producer>(async () => {
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await p.connect();
    return p;
  }, isClosed);
  const admin = lazily<Admin>(async () => {
    const a = kafka.admin();
    await a.connect();
    return a;
  }, isClosed);
  const subscriptions = new Set<Subscription>();
  // Concurrent publishes share one produce request (acks=all, idempotent, one request in flight):
  // the broker appends and replicates them together instead of one round trip each.
  const publishes = new GroupCommit<{ topic: string; messages: OutgoingMessage[] }>({
    async commit(batch) {
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const { topic, messages } of batch)
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), ...messages]);
      await (
        await producer.get()
      ).sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({
          topic,
          messages: messages.map((m) => ({
            key: m.key ?? null,
            value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
            headers: m.headers ?? {},
          })),
        })),
      });
    },
  });

  const ensureTopics = async (topics: TopicSpec[]) =>
    createTopics(await admin.get(), topics, replicationFactor);

  return {
    kind: 'kafka',
    ensureTopics,

    async publish(topic: string, messages: OutgoingMessage[]) {
      if (closed) throw new Error('the Kafka bus is closed');
      if (messages.length === 0) return;
      await publishes.submit({ topic, messages });
    },

    async subscribe(subscribeOptions) {
      const deadLetterTopic = subscribeOptions.deadLetterTopic ?? `${subscribeOptions.topic}.dlq`;
      // The broker does not auto-create topics, and the first poison message must find its topic.
      await ensureTopics([{ name: deadLetterTopic, partitions: defaultPartitions }]);
      const subscription = await startKafkaSubscription({
        consumer: kafka.consumer({
          groupId: subscribeOptions.group,
          allowAutoTopicCreation: false,
          maxWaitTimeInMs: 1_000,
          // After a broker restart a consumer rejoins as a new member, and the group waits for the
          // old member's session to lapse before it hands out partitions again; so does a pod
          // restarted after a SIGKILL, whose dead member holds its partitions until then. kafkajs's
          // 30 s default kept deliveries stopped ~30 s after the broker was back, 10 s kept a
          // killed mda unready ~11 s (docs/reliability.md). 6 s is the broker's smallest allowed
          // (group.min.session.timeout.ms); with a heartbeat every second a member is dropped only
          // after six missed ones. A handler that runs past it without a heartbeat loses its
          // membership and its batch comes again, filed once by its event id (subscription.ts
          // heartbeats between attempts and restarts the consumer).
          sessionTimeout: 6_000,
          heartbeatInterval: 1_000,
        }),
        producer: () => producer.get(),
        options: subscribeOptions,
        maxAttempts: subscribeOptions.maxAttempts ?? options.maxAttempts ?? 5,
        deadLetterTopic,
        log,
        onStopped: () => {
          subscriptions.delete(subscription);
          stopLag();
        },
      });
      const { group, topic } = subscribeOptions;
      const stopLag = reportLag(group, topic, async () => {
        const client = await admin.get();
        const [ends, [committed]] = await Promise.all([
          client.fetchTopicOffsets(topic),
          client.fetchOffsets({ groupId: group, topics: [topic] }),
        ]);
        const done = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]));
        return ends.map(({ partition, high, low }) => {
          // -1: nothing committed yet, so everything still on the partition is pending.
          const next = done.get(partition) ?? -1;
          return { partition, lag: Number(high) - (next < 0 ? Number(low) : next) };
        });
      });
      subscriptions.add(subscription);
      return subscription;
    },

    async ping() {
      const probe = pingKafka.admin();
      try {
        await withTimeout(
          (async () => {
            await probe.connect();
            await probe.describeCluster();
          })(),
          connectionTimeout + 2_000,
          `no answer within ${connectionTimeout + 2_000} ms`,
        );
      } catch (error) {
        throw new Error(`Kafka brokers ${brokersText} unreachable: ${errorText(error)}`, { cause: error });
      } finally {
        await probe.disconnect().catch(() => {});
      }
    },

    async pruneConsumed() {
      // The topic's retention (retention.ms / retention.bytes) removes old segments; nothing to do here.
      return 0;
    },

    async close() {
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      await publishes.idle();
      closed = true;
      const connected = [producer.peek(), admin.peek()];
      await Promise.allSettled(
        connected.map(async (pending) => {
          const client = await pending;
          await client?.disconnect();
        }),
      );
    },
  };
}
