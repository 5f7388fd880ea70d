import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createFsBlobStore, createS3BlobStore } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import { createKafkaBus, createPostgresBus } from '@correo/bus';
import type { Bus, DeliveredMessage } from '@correo/bus';
import { createProvisioning } from '@correo/directory';
import { createMemoryLimits, createRedisLimits, MemoryLimitsState } from '@correo/limits';
import type { Limits } from '@correo/limits';
import { analyzeMessage, messageSummary } from '@correo/mime';
import { createMemoryNotifier, createRedisNotifier, MemoryBus } from '@correo/notify';
import type { Notifier } from '@correo/notify';
import { createPool, deliverToMailbox, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { loadTlsMaterial } from '@correo/tls';
import type { TlsMaterial } from '@correo/tls';
import { freshDatabase, testBackends, uniqueName } from './backends.js';
import type { FreshDatabase } from './backends.js';

/**
 * embedded: what `make dev` runs on - the Postgres bus, files for blobs, limits and notify in the
 * process. distributed: what a cluster runs on - Kafka, S3 (MinIO), limits and notify in Redis.
 * Both keep metadata in a fresh database on the test PostgreSQL.
 */
export type StackKind = 'embedded' | 'distributed';

/** Every kind, for suites that run once per stack: `for (const kind of STACK_KINDS) ...`. */
export const STACK_KINDS: readonly StackKind[] = ['embedded', 'distributed'];

export interface TestStackOptions {
  /** Partitions of the topics the bus creates. 2 unless given. */
  partitions?: number;
  /** The Postgres bus's poll interval. 100 ms unless given. */
  pollIntervalMs?: number;
  /** The bus's delivery attempts before a message is dead-lettered (the bus's default unless given). */
  maxAttempts?: number;
  /** The size of `pool`. */
  poolMax?: number;
}

/** What a topic carried since `watch()`, collected by a consumer group of its own. */
export interface TopicWatch {
  messages: DeliveredMessage[];
  stop(): Promise<void>;
}

/** A provisioned account (INBOX, Sent, Drafts, Trash, Junk, Archive) on the stack's test domain. */
export interface TestAccount {
  accountId: string;
  address: string;
}

/** A message filed by `deliver`, as the mda files it. */
export interface DeliveredToMailbox {
  uid: number;
  modseq: number;
  mailboxId: string;
  blobKey: string;
  raw: Buffer;
}

/**
 * One isolated set of real backends for a test: every kind shares nothing with another test (a fresh
 * database, its own blob prefix or directory, its own Redis key and channel prefix, its own in-process
 * state). Services under test are started over these parts; `close()` releases all of them.
 */
export interface TestStack {
  readonly kind: StackKind;
  /** A directory of its own (removed at close); embedded blobs live in `<dir>/blobs`. */
  readonly dir: string;
  /** The fresh database, migrated. */
  readonly db: FreshDatabase;
  readonly pool: Pool;
  readonly blobs: BlobStore;
  /** The stack's bus, opened on first use. */
  readonly bus: Bus;
  /** The stack's limits, opened on first use; openLimits() for one more client of the same counters. */
  readonly limits: Limits;
  /** The stack's notifier, opened on first use; openNotifier() for one more connection. */
  readonly notifier: Notifier;
  /** The password of every account `account()` creates. */
  readonly password: string;
  /** The stack's own mail domain (verified, in a tenant of its own), created on the first `account()`. */
  readonly domainName: string;
  /** One more client of this stack's limits counters, as another pod would open (closed with the stack). */
  openLimits(): Limits;
  /** One more connection to this stack's notifications, as another pod would open (closed with the stack). */
  openNotifier(): Notifier;
  /** A self-signed certificate for `hostname` (localhost unless given), made once per name. */
  tls(hostname?: string): Promise<TlsMaterial>;
  /** A fresh consumer group on `topic` of this stack's bus; sees what is published from now on. */
  watch(topic: string): Promise<TopicWatch>;
  /** Provisions `localPart@domainName` with `password`. */
  account(localPart: string): Promise<TestAccount>;
  /** Stores the blob and files it into `mailboxName` (INBOX) as the mda does; publishes nothing. */
  deliver(
    accountId: string,
    address: string,
    raw: Buffer | string,
    mailboxName?: string,
  ): Promise<DeliveredToMailbox>;
  /** The whole stored message. */
  blobBytes(key: string): Promise<Buffer>;
  /** The environment a service process (main.ts) needs to run on the same backends. */
  env(): Record<string, string>;
  /** Runs at close, before the stack's own parts are released (last registered, first run). */
  defer(cleanup: () => Promise<unknown> | unknown): void;
  close(): Promise<void>;
}

/**
 * The environment variables that point a correo process at `kind`'s adapters over `databaseUrl`
 * (the adapter settings of docs/configuration.md). distributed uses the shared test Kafka, MinIO and
 * Redis; embedded keeps blobs under `blobDir`.
 */
export function adapterEnv(kind: StackKind, databaseUrl: string, blobDir?: string): Record<string, string> {
  if (kind === 'embedded') {
    return {
      DATABASE_URL: databaseUrl,
      BUS_ADAPTER: 'postgres',
      BLOB_ADAPTER: 'fs',
      ...(blobDir ? { BLOB_DIR: blobDir } : {}),
      LIMITS_ADAPTER: 'memory',
      NOTIFY_ADAPTER: 'memory',
    };
  }
  const backends = testBackends();
  return {
    DATABASE_URL: databaseUrl,
    BUS_ADAPTER: 'kafka',
    KAFKA_BROKERS: backends.kafkaBrokers.join(','),
    BLOB_ADAPTER: 's3',
    S3_ENDPOINT: backends.s3.endpoint,
    S3_REGION: backends.s3.region,
    S3_BUCKET: backends.s3.bucket,
    S3_ACCESS_KEY_ID: backends.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: backends.s3.secretAccessKey,
    REDIS_URL: backends.redisUrl,
    LIMITS_ADAPTER: 'redis',
    NOTIFY_ADAPTER: 'redis',
  };
}

/** Opens a test stack of `kind`; see TestStack. */
export async function openTestStack(kind: StackKind, options: TestStackOptions = {}): Promise<TestStack> {
  const partitions = options.partitions ?? 2;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const release = async () => {
    for (const step of cleanups.splice(0).reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => {});
  };
  try {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    await migrate(db.url);
    const pool = createPool(db.url, { max: options.poolMax });
    cleanups.push(() => pool.end());
    const scratch = await mkdtemp(join(tmpdir(), `stack-${kind}-`));
    cleanups.push(() => rm(scratch, { recursive: true, force: true }));

    let blobs: BlobStore;
    let newBus: () => Bus;
    let newLimits: () => Limits;
    let newNotifier: () => Notifier;
    const blobDir = join(scratch, 'blobs');
    if (kind === 'embedded') {
      blobs = createFsBlobStore({ dir: blobDir });
      newBus = () =>
        createPostgresBus({
          connectionString: db.url,
          pollIntervalMs: options.pollIntervalMs ?? 100,
          partitions,
          maxAttempts: options.maxAttempts,
        });
      // State of its own: the process-wide default would mix the counters and channels of two stacks.
      const state = new MemoryLimitsState();
      newLimits = () => createMemoryLimits({ state });
      const channels = new MemoryBus();
      newNotifier = () => createMemoryNotifier({ bus: channels });
    } else {
      const backends = testBackends();
      const s3 = createS3BlobStore({ ...backends.s3, keyPrefix: `${uniqueName('stack')}/` });
      await s3.ensureBucket();
      blobs = s3;
      newBus = () =>
        createKafkaBus({
          brokers: backends.kafkaBrokers,
          clientId: uniqueName('stack'),
          defaultPartitions: partitions,
          replicationFactor: 1,
          maxAttempts: options.maxAttempts,
        });
      // Every test run shares one Redis: prefixes of its own keep counters and channels apart.
      const keyPrefix = `${uniqueName('limits')}:`;
      newLimits = () => createRedisLimits({ url: backends.redisUrl, keyPrefix });
      const channelPrefix = `${uniqueName('notify')}.`;
      newNotifier = () => createRedisNotifier({ url: backends.redisUrl, channelPrefix });
    }
    cleanups.push(() => blobs.close());

    // Opened on demand (a Kafka client or a Redis connection costs), closed with the stack.
    const opened = <T extends { close(): Promise<unknown> }>(open: () => T) => {
      const part = open();
      cleanups.push(() => part.close());
      return part;
    };
    let bus: Bus | undefined;
    let limits: Limits | undefined;
    let notifier: Notifier | undefined;
    const certificates = new Map<string, Promise<TlsMaterial>>();
    const domainName = `${uniqueName(kind).toLowerCase()}.test`;
    let domain: Promise<unknown> | undefined;
    const password = 'correct horse battery staple';

    const stack: TestStack = {
      kind,
      dir: scratch,
      db,
      pool,
      blobs,
      get bus() {
        return (bus ??= opened(newBus));
      },
      get limits() {
        return (limits ??= opened(newLimits));
      },
      get notifier() {
        return (notifier ??= opened(newNotifier));
      },
      password,
      domainName,
      openLimits: () => opened(newLimits),
      openNotifier: () => opened(newNotifier),
      tls(hostname = 'localhost') {
        let material = certificates.get(hostname);
        if (!material) {
          material = loadTlsMaterial({ dataDir: join(scratch, `tls-${hostname}`), hostname });
          certificates.set(hostname, material);
        }
        return material;
      },
      async watch(topic) {
        const messages: DeliveredMessage[] = [];
        const subscription = await stack.bus.subscribe({
          group: uniqueName('watch'),
          topic,
          handler: async (message) => void messages.push(message),
        });
        let stopped: Promise<void> | undefined;
        const stop = () => (stopped ??= subscription.stop());
        cleanups.push(stop);
        return { messages, stop };
      },
      async account(localPart) {
        const operator = createProvisioning(pool);
        domain ??= operator
          .createTenant({ name: uniqueName('tenant') })
          .then((tenant) => operator.createDomain({ name: domainName, tenantId: tenant.id, verified: true }));
        await domain;
        const address = `${localPart}@${domainName}`;
        const account = await operator.createAccount({ address, password });
        return { accountId: account.id, address };
      },
      async deliver(accountId, address, raw, mailboxName = 'INBOX') {
        const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
        const blob = await blobs.put(Readable.from([bytes]));
        const analysis = await analyzeMessage(await blobs.get(blob.key));
        const outcome = await deliverToMailbox(pool, {
          eventId: randomUUID(),
          recipient: address,
          accountId,
          mailboxName,
          message: { blobKey: blob.key, internalDate: new Date(), ...messageSummary(analysis) },
        });
        if (outcome.kind !== 'delivered') throw new Error(`delivery failed: ${outcome.kind}`);
        return {
          uid: outcome.uid,
          modseq: outcome.modseq,
          mailboxId: outcome.mailboxId,
          blobKey: blob.key,
          raw: bytes,
        };
      },
      async blobBytes(key) {
        const parts: Buffer[] = [];
        for await (const chunk of await blobs.get(key)) parts.push(chunk as Buffer);
        return Buffer.concat(parts);
      },
      env: () => adapterEnv(kind, db.url, blobDir),
      defer(cleanup) {
        cleanups.push(cleanup);
      },
      close: release,
    };
    return stack;
  } catch (error) {
    await release();
    throw error;
  }
}
