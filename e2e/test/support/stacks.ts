import { createKafkaBus, createPostgresBus, type Bus, type DeliveredMessage } from '@correo/bus';
import {
  freshDatabase,
  startAllInOneProcess,
  testBackends,
  uniqueName,
  type AllInOneOptions,
  type AllInOneProcess,
} from '@correo/testkit';
import { Kafka, logLevel } from 'kafkajs';

export type StackKind = 'embedded' | 'kafka';

/** What a topic carried since watch() was called, collected by a consumer group of its own. */
export interface TopicWatch {
  messages: DeliveredMessage[];
  stop(): Promise<void>;
}

/** A running all-in-one and a bus client on the same bus, for what only the bus shows. */
export interface MailStack {
  kind: StackKind;
  app: AllInOneProcess;
  bus: Bus;
  /** A fresh consumer group on `topic` that sees only what is published from now on. */
  watch(topic: string): Promise<TopicWatch>;
  close(): Promise<void>;
}

export type StartStack = (
  env?: Record<string, string>,
  options?: Pick<AllInOneOptions, 'nodeArgs'>,
) => Promise<MailStack>;

function watcher(
  bus: Bus,
  beforeSubscribe: (group: string, topic: string) => Promise<void>,
): MailStack['watch'] {
  return async (topic) => {
    const group = uniqueName('e2e-watch');
    await beforeSubscribe(group, topic);
    const messages: DeliveredMessage[] = [];
    const subscription = await bus.subscribe({
      group,
      topic,
      handler: async (message) => void messages.push(message),
    });
    return { messages, stop: () => subscription.stop() };
  };
}

/** The embedded default: embedded PostgreSQL (metadata and the bus's queue tables), files, in-process notify. */
export const startEmbeddedStack: StartStack = async (env = {}, options = {}) => {
  const app = await startAllInOneProcess({ env, ...options });
  // A fresh database: a new group starting at offset 0 sees only this run's messages.
  const bus = createPostgresBus({ connectionString: app.databaseUrl, pollIntervalMs: 100 });
  return {
    kind: 'embedded',
    app,
    bus,
    watch: watcher(bus, async () => {}),
    async close() {
      await bus.close().catch(() => {});
      await app.stop();
    },
  };
};

/**
 * Commits a new group's offsets at the current end of `topic`. The Kafka topics are shared by
 * every test (and every helper) using the test broker, and subscriptions start from the
 * beginning when a group has no offsets: this way a group sees only what comes after.
 */
async function startGroupAtEnd(brokers: string[], group: string, topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'correo-e2e', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return;
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: ends.map(({ partition, high }) => ({ partition, offset: high })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * The distributed backends: the shared test Kafka, a fresh database on the test PostgreSQL,
 * MinIO and Redis. The mda's group is unique and starts at the end of mail.accepted so this
 * process delivers only what it accepts itself (other runs' events would find no such domain
 * here and only be recorded as rejections).
 */
export const startKafkaStack: StartStack = async (env = {}, options = {}) => {
  const backends = testBackends();
  const database = await freshDatabase();
  const mdaGroup = uniqueName('e2e-mda');
  let app: AllInOneProcess;
  try {
    await startGroupAtEnd(backends.kafkaBrokers, mdaGroup, 'mail.accepted');
    app = await startAllInOneProcess({
      ...options,
      env: {
        DATABASE_URL: database.url,
        BUS_ADAPTER: 'kafka',
        KAFKA_BROKERS: backends.kafkaBrokers.join(','),
        KAFKA_CLIENT_ID: mdaGroup,
        MDA_CONSUMER_GROUP: mdaGroup,
        BLOB_ADAPTER: 's3',
        S3_ENDPOINT: backends.s3.endpoint,
        S3_REGION: backends.s3.region,
        S3_BUCKET: backends.s3.bucket,
        S3_ACCESS_KEY_ID: backends.s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: backends.s3.secretAccessKey,
        REDIS_URL: backends.redisUrl,
        NOTIFY_ADAPTER: 'redis',
        LIMITS_ADAPTER: 'redis',
        // The per-address connection rate is counted in the shared Redis under the client's IP,
        // and every test on this machine connects from 127.0.0.1.
        SMTP_CONNECTIONS_PER_IP_PER_MINUTE: '0',
        ...env,
      },
    });
  } catch (error) {
    await database.drop().catch(() => {});
    throw error;
  }
  const bus = createKafkaBus({ brokers: backends.kafkaBrokers, clientId: uniqueName('e2e') });
  return {
    kind: 'kafka',
    app,
    bus,
    watch: watcher(bus, (group, topic) => startGroupAtEnd(backends.kafkaBrokers, group, topic)),
    async close() {
      await bus.close().catch(() => {});
      try {
        await app.stop();
      } finally {
        await database.drop();
      }
    },
  };
};
