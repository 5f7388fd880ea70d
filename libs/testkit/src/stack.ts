import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createFsBlobStore, createS3BlobStore } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import { createKafkaBus, createPostgresBus } from '@correo/bus';
import type { Bus, DeliveredMessage } from '@correo/bus';
import { createPostgresDirectory, createProvisioning } from '@correo/directory';
import { createMemoryLimits, createRedisLimits, MemoryLimitsState } from '@correo/limits';
import type { Limits } from '@correo/limits';
import { analyzeMessage, messageSummary } from '@correo/mime';
import { createMemoryNotifier, createRedisNotifier, MailboxChangeFeed, MemoryBus } from '@correo/notify';
import type { Notifier } from '@correo/notify';
import { createPool, deliverToMailbox, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { loadTlsMaterial } from '@correo/tls';
import type { TlsMaterial } from '@correo/tls';
import { distributedEnv, freshDatabase, testBackends, uniqueName } from './backends.js';
import { expireMemoryCounter, expireRedisCounter } from './counter-window.js';
import { eventually } from './eventually.js';
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
  /**
   * distributed: blobs at the bucket's root instead of under a prefix of the stack's own, so that a
   * service process started with env() (there is no prefix setting) reads the same objects.
   */
  blobsAtRoot?: boolean;
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
 * The environment variables that point a correo process at `kind`'s adapters over `databaseUrl`
 * (the adapter settings of docs/configuration.md). distributed uses the shared test Kafka, MinIO and
 * Redis; embedded keeps blobs under `blobDir`.
 */
export function adapterEnv(
  kind: StackKind,
  databaseUrl: string,
  blobDir?: string,
  limitsKeyPrefix = `${uniqueName('limits')}:`,
): Record<string, string> {
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
  return distributedEnv(testBackends(), databaseUrl, limitsKeyPrefix);
}

/** What one stack holds; shared by every object extending it. */
interface StackState {
  kind: StackKind;
  dir: string;
  db: FreshDatabase;
  pool: Pool;
  blobs: BlobStore;
  blobDir: string;
  /** What env() cannot say: the S3 key prefix of the stack's blobs. */
  blobPrefix: string;
  /** The Redis key prefix of the stack's limits (distributed), passed on to its processes by env(). */
  limitsKeyPrefix?: string;
  newBus: () => Bus;
  newLimits: () => Limits;
  newNotifier: () => Notifier;
  /** See TestStack.endCounterWindow: moves the counter's own expiry to now. */
  expireCounter: (key: string, windowMs: number) => Promise<void>;
  cleanups: (() => Promise<unknown> | unknown)[];
  bus?: Bus;
  limits?: Limits;
  notifier?: Notifier;
  certificates: Map<string, Promise<TlsMaterial>>;
  domainName: string;
  domain?: Promise<unknown>;
}

/**
 * One isolated set of real backends for a test (openTestStack): every kind shares nothing with another
 * test (a fresh database, its own blob prefix or directory, its own Redis key and channel prefix, its
 * own in-process state). A service's test stack extends it (`class ImapTestStack extends TestStack`)
 * and starts the service over these parts; `close()` releases all of them.
 */
export class TestStack {
  private readonly state: StackState;

  /** Extends an opened stack: `super(await openTestStack(kind))`. Both objects share every part. */
  constructor(opened: TestStack | StackState) {
    this.state = opened instanceof TestStack ? opened.state : opened;
  }

  get kind(): StackKind {
    return this.state.kind;
  }
  /** A directory of its own (removed at close); embedded blobs live in `<dir>/blobs`. */
  get dir(): string {
    return this.state.dir;
  }
  /** The S3 key prefix of the stack's blobs (distributed; '' for files): for a second store over them. */
  get blobPrefix(): string {
    return this.state.blobPrefix;
  }
  /** The fresh database, migrated. */
  get db(): FreshDatabase {
    return this.state.db;
  }
  get pool(): Pool {
    return this.state.pool;
  }
  get blobs(): BlobStore {
    return this.state.blobs;
  }
  /** The stack's bus, opened on first use. */
  get bus(): Bus {
    return (this.state.bus ??= this.opened(this.state.newBus));
  }
  /** The stack's limits, opened on first use; openLimits() for one more client of the same counters. */
  get limits(): Limits {
    return (this.state.limits ??= this.opened(this.state.newLimits));
  }
  /** The stack's notifier, opened on first use; openNotifier() for one more connection. */
  get notifier(): Notifier {
    return (this.state.notifier ??= this.opened(this.state.newNotifier));
  }
  /** The password of every account `account()` creates. */
  get password(): string {
    return 'correct horse battery staple';
  }
  /** The stack's own mail domain (verified, in a tenant of its own), created on the first `account()`. */
  get domainName(): string {
    return this.state.domainName;
  }

  /** One more client of this stack's limits counters, as another pod would open (closed with the stack). */
  openLimits(): Limits {
    return this.opened(this.state.newLimits);
  }

  /** The key the directory counts a login under (Directory.loginKey), as the login limiter gets it. */
  loginKey(login: string): Promise<string> {
    return createPostgresDirectory(this.pool).loginKey(login);
  }

  /**
   * Lets a limits counter's window run out now, as if `windowMs` had passed (a lockout's end without
   * waiting out a real window). Fails when the counter does not exist or would outlive `windowMs` (no
   * expiry, or a longer one): the end is the counter's own expiry, only brought forward (Redis:
   * PEXPIRE; in process: its expiry time), and this resolves once the stack's limits read it as gone.
   */
  async endCounterWindow(key: string, windowMs: number): Promise<void> {
    await this.state.expireCounter(key, windowMs);
    await eventually(`the counter ${key} to expire`, async () => (await this.limits.get(key)) === 0);
  }

  /**
   * One more client of this stack's bus (the same Postgres tables or Kafka brokers, so it publishes to
   * the topics `watch()` and the stack's consumers see), as another pod would open; closed with the stack.
   */
  openBus(): Bus {
    return this.opened(this.state.newBus);
  }

  /** One more connection to this stack's notifications, as another pod would open (closed with the stack). */
  openNotifier(): Notifier {
    return this.opened(this.state.newNotifier);
  }

  // Opened on demand (a Kafka client or a Redis connection costs), closed with the stack.
  private opened<T extends { close(): Promise<unknown> }>(open: () => T): T {
    const part = open();
    this.defer(() => part.close());
    return part;
  }

  /** A self-signed certificate for `hostname` (localhost unless given), made once per name. */
  certificate(hostname = 'localhost'): Promise<TlsMaterial> {
    let material = this.state.certificates.get(hostname);
    if (!material) {
      material = loadTlsMaterial({ dataDir: join(this.dir, `tls-${hostname}`), hostname });
      this.state.certificates.set(hostname, material);
    }
    return material;
  }

  /** A fresh consumer group on `topic` of this stack's bus; sees what is published from now on. */
  async watch(topic: string): Promise<TopicWatch> {
    const messages: DeliveredMessage[] = [];
    const subscription = await this.bus.subscribe({
      group: uniqueName('watch'),
      topic,
      handler: async (message) => void messages.push(message),
    });
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= subscription.stop());
    this.defer(stop);
    return { messages, stop };
  }

  /** Provisions `localPart@domainName` with `password`. */
  async account(localPart: string): Promise<TestAccount> {
    const operator = createProvisioning(this.pool);
    this.state.domain ??= operator
      .createTenant({ name: uniqueName('tenant') })
      .then((tenant) =>
        operator.createDomain({ name: this.domainName, tenantId: tenant.id, verified: true }),
      );
    await this.state.domain;
    const address = `${localPart}@${this.domainName}`;
    const account = await operator.createAccount({ address, password: this.password });
    return { accountId: account.id, address };
  }

  /**
   * Stores the blob and files it into `mailboxName` (INBOX) as the mda does; the store publishes the
   * change on the stack's notifier, so IDLE sessions hear it as they hear the mda.
   */
  async deliver(
    accountId: string,
    address: string,
    raw: Buffer | string,
    mailboxName = 'INBOX',
  ): Promise<DeliveredToMailbox> {
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
    const blob = await this.blobs.put(Readable.from([bytes]));
    const analysis = await analyzeMessage(await this.blobs.get(blob.key));
    const changes = new MailboxChangeFeed(this.notifier, {
      warn: (fields, message) => {
        throw new Error(`${message}: ${JSON.stringify(fields)}`);
      },
    });
    const outcome = await deliverToMailbox(
      { pool: this.pool, changes },
      {
        eventId: randomUUID(),
        recipient: address,
        accountId,
        mailboxName,
        message: { blobKey: blob.key, internalDate: new Date(), ...messageSummary(analysis) },
      },
    );
    if (outcome.kind !== 'delivered') throw new Error(`delivery failed: ${outcome.kind}`);
    const { uid, modseq, mailboxId } = outcome;
    return { uid, modseq, mailboxId, blobKey: blob.key, raw: bytes };
  }

  /** The UIDs in an account's mailbox, ascending. */
  async uids(accountId: string, mailboxName = 'INBOX'): Promise<number[]> {
    const { rows } = await this.pool.query<{ uid: string }>(
      `SELECT mm.uid FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
       WHERE mb.account_id = $1 AND mb.name = $2 ORDER BY mm.uid`,
      [accountId, mailboxName],
    );
    return rows.map((row) => Number(row.uid));
  }

  /** The whole stored message. */
  async blobBytes(key: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of await this.blobs.get(key)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  /** The environment a service process (main.ts) needs to run on the same backends. */
  env(): Record<string, string> {
    if (this.state.blobPrefix) throw new Error('env(): open the distributed stack with blobsAtRoot');
    return adapterEnv(this.kind, this.db.url, this.state.blobDir, this.state.limitsKeyPrefix);
  }

  /** Runs at close, before the stack's own parts are released (last registered, first run). */
  defer(cleanup: () => Promise<unknown> | unknown): void {
    this.state.cleanups.push(cleanup);
  }

  async close(): Promise<void> {
    await release(this.state.cleanups);
  }
}

async function release(cleanups: (() => Promise<unknown> | unknown)[]): Promise<void> {
  for (const step of cleanups.splice(0).reverse())
    await Promise.resolve()
      .then(step)
      .catch(() => {});
}

/** Opens a test stack of `kind`; see TestStack. */
export async function openTestStack(kind: StackKind, options: TestStackOptions = {}): Promise<TestStack> {
  const partitions = options.partitions ?? 2;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    await migrate(db.url);
    const pool = createPool(db.url, { max: options.poolMax });
    cleanups.push(() => pool.end());
    const dir = await mkdtemp(join(tmpdir(), `stack-${kind}-`));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const blobDir = join(dir, 'blobs');
    const parts: Pick<
      StackState,
      'blobs' | 'blobPrefix' | 'limitsKeyPrefix' | 'newBus' | 'newLimits' | 'newNotifier' | 'expireCounter'
    > = kind === 'embedded' ? embeddedParts(db, blobDir, options) : await distributedParts(options);
    cleanups.push(() => parts.blobs.close());
    return new TestStack({
      kind,
      dir,
      db,
      pool,
      blobDir,
      ...parts,
      cleanups,
      certificates: new Map(),
      domainName: `${uniqueName(kind).toLowerCase()}.test`,
    });
  } catch (error) {
    await release(cleanups);
    throw error;
  }

  function embeddedParts(db: FreshDatabase, blobDir: string, options: TestStackOptions) {
    // State of its own: the process-wide default would mix the counters and channels of two stacks.
    const state = new MemoryLimitsState();
    const channels = new MemoryBus();
    return {
      blobs: createFsBlobStore({ dir: blobDir }),
      blobPrefix: '',
      newBus: () =>
        createPostgresBus({
          connectionString: db.url,
          pollIntervalMs: options.pollIntervalMs ?? 100,
          partitions,
          maxAttempts: options.maxAttempts,
        }),
      newLimits: () => createMemoryLimits({ state }),
      newNotifier: () => createMemoryNotifier({ bus: channels }),
      expireCounter: async (key: string, windowMs: number) => expireMemoryCounter(state, key, windowMs),
    };
  }

  async function distributedParts(options: TestStackOptions) {
    const backends = testBackends();
    const blobPrefix = options.blobsAtRoot ? '' : `${uniqueName('stack')}/`;
    const blobs = createS3BlobStore({ ...backends.s3, keyPrefix: blobPrefix });
    await blobs.ensureBucket();
    // Every test run shares one Redis: prefixes of its own keep counters and channels apart.
    const keyPrefix = `${uniqueName('limits')}:`;
    const channelPrefix = `${uniqueName('notify')}.`;
    return {
      blobs,
      blobPrefix,
      limitsKeyPrefix: keyPrefix,
      newBus: () =>
        createKafkaBus({
          brokers: backends.kafkaBrokers,
          clientId: uniqueName('stack'),
          defaultPartitions: partitions,
          replicationFactor: 1,
          maxAttempts: options.maxAttempts,
        }),
      newLimits: () => createRedisLimits({ url: backends.redisUrl, keyPrefix }),
      newNotifier: () => createRedisNotifier({ url: backends.redisUrl, channelPrefix }),
      expireCounter: (key: string, windowMs: number) =>
        expireRedisCounter(backends.redisUrl, keyPrefix, key, windowMs),
    };
  }
}
