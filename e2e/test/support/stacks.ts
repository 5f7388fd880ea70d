import { createKafkaBus, createPostgresBus, type Bus, type DeliveredMessage } from '@correo/bus';
import {
  freshDatabase,
  startAllInOneProcess,
  startServiceProcesses,
  testBackends,
  uniqueName,
  type AllInOneOptions,
  type AllInOneProcess,
  type ServiceProcesses,
} from '@correo/testkit';
import { adapterEnv, type StackKind } from '@correo/testkit/stack';
import { Kafka, logLevel } from 'kafkajs';

/** What a topic carried since watch() was called, collected by a consumer group of its own. */
export interface TopicWatch {
  messages: DeliveredMessage[];
  stop(): Promise<void>;
}

/**
 * A running correo (the all-in-one, or every service as its own process) and a bus client on the
 * same bus, for what only the bus shows.
 */
export interface MailStack<App = AllInOneProcess> {
  kind: StackKind;
  app: App;
  bus: Bus;
  /** A fresh consumer group on `topic` that sees only what is published from now on. */
  watch(topic: string): Promise<TopicWatch>;
  close(): Promise<void>;
}

type StartOptions = Pick<AllInOneOptions, 'nodeArgs' | 'root'>;

/**
 * The all-in-one process of `kind` (see the two below) with `env` on top, and a bus client beside it.
 * With `{ processes: 'per-service' }` (distributed only) every service runs as its own process
 * instead, as the chart deploys them: what crosses the bus then really crosses processes.
 * A test starts its own: nothing is shared with another test.
 */
export function startMailStack(
  kind: 'distributed',
  env: Record<string, string>,
  options: { processes: 'per-service' },
): Promise<MailStack<ServiceProcesses>>;
export function startMailStack(
  kind: StackKind,
  env?: Record<string, string>,
  options?: StartOptions,
): Promise<MailStack>;
export function startMailStack(
  kind: StackKind,
  env: Record<string, string> = {},
  options: StartOptions | { processes: 'per-service' } = {},
): Promise<MailStack<AllInOneProcess | ServiceProcesses>> {
  if ('processes' in options) return startDistributedStack(env, startServiceProcesses);
  return kind === 'embedded'
    ? startEmbeddedStack(env, options)
    : startDistributedStack(env, (processEnv) => startAllInOneProcess({ ...options, env: processEnv }));
}

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
async function startEmbeddedStack(env: Record<string, string>, options: StartOptions): Promise<MailStack> {
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
}

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
 * MinIO and Redis (or what `env` names instead), under what `start` runs (the all-in-one or one process per service). The
 * mda's group is unique and starts at the end of mail.accepted so this stack delivers only what
 * it accepts itself (other runs' events would find no such domain here and only be recorded as
 * rejections).
 */
async function startDistributedStack<App extends { stop(): Promise<unknown> }>(
  env: Record<string, string>,
  start: (env: Record<string, string>) => Promise<App>,
): Promise<MailStack<App>> {
  // A private broker (env.KAFKA_BROKERS, e.g. startPrivateBackendSet's) or the shared one.
  const brokers = env.KAFKA_BROKERS?.split(',') ?? testBackends().kafkaBrokers;
  const database = await freshDatabase();
  const mdaGroup = uniqueName('e2e-mda');
  let app: App;
  try {
    await startGroupAtEnd(brokers, mdaGroup, 'mail.accepted');
    app = await start({
      ...adapterEnv('distributed', database.url),
      KAFKA_CLIENT_ID: mdaGroup,
      MDA_CONSUMER_GROUP: mdaGroup,
      // The per-address connection rate is counted in the shared Redis under the client's IP,
      // and every test on this machine connects from 127.0.0.1.
      SMTP_CONNECTIONS_PER_IP_PER_MINUTE: '0',
      ...env,
    });
  } catch (error) {
    await database.drop().catch(() => {});
    throw error;
  }
  const bus = createKafkaBus({ brokers, clientId: uniqueName('e2e') });
  return {
    kind: 'distributed',
    app,
    bus,
    watch: watcher(bus, (group, topic) => startGroupAtEnd(brokers, group, topic)),
    async close() {
      await bus.close().catch(() => {});
      try {
        await app.stop();
      } finally {
        await database.drop();
      }
    },
  };
}
