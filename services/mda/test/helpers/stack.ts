import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createFsBlobStore, createS3BlobStore } from '@correo/blobs';
import type { BlobStore, StoredBlob } from '@correo/blobs';
import { createKafkaBus, createPostgresBus } from '@correo/bus';
import type { Bus, DeliveredMessage } from '@correo/bus';
import { createPostgresDirectory } from '@correo/directory';
import { createMemoryNotifier, createRedisNotifier } from '@correo/notify';
import type { Notifier } from '@correo/notify';
import { SubmissionKind, encodeMailAccepted, timestampNow } from '@correo/proto';
import type { MailAcceptedInit } from '@correo/proto';
import { createPool, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { freshDatabase, testBackends, uniqueName } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { housekeepingDefaults } from '../../src/config.js';
import type { MdaSettings } from '../../src/config.js';
import type { HousekeepingSettings } from '../../src/housekeeping.js';
import { startMda } from '../../src/mda.js';
import type { Mda } from '../../src/mda.js';
import { rawMessage } from './messages.js';
import { Provisioner } from './provision.js';

/** embedded: Postgres bus, files, in-process notify. distributed: Kafka, MinIO, Redis. */
export type StackKind = 'embedded' | 'distributed';

export interface AcceptedInput {
  to: string[];
  from?: string;
  kind?: SubmissionKind;
  authenticatedUser?: string;
  subject?: string;
  text?: string;
  /** Publish an already stored blob instead of a fresh message. */
  blob?: StoredBlob;
  eventId?: string;
}

export interface Collector {
  messages: DeliveredMessage[];
  stop(): Promise<void>;
}

export class MdaTestStack {
  mda: Mda | undefined;
  readonly provision: Provisioner;

  private constructor(
    readonly kind: StackKind,
    readonly db: FreshDatabase,
    readonly pool: Pool,
    readonly bus: Bus,
    readonly blobs: BlobStore,
    readonly notifier: Notifier,
    readonly settings: MdaSettings,
    private readonly cleanup: () => Promise<void>,
  ) {
    this.provision = new Provisioner(pool, uniqueName('tenant'));
  }

  static async create(
    kind: StackKind,
    options: { maxAttempts?: number; housekeeping?: Partial<HousekeepingSettings> } = {},
  ): Promise<MdaTestStack> {
    const backends = testBackends();
    const db = await freshDatabase();
    await migrate(db.url);
    const pool = createPool(db.url);
    const settings: MdaSettings = {
      group: uniqueName('mda'),
      acceptedTopic: uniqueName('mail.accepted'),
      outboundTopic: uniqueName('mail.outbound'),
      deadLetterTopic: uniqueName('mail.accepted.dlq'),
      maxAttempts: options.maxAttempts ?? 3,
      topicPartitions: 3,
      concurrency: 3,
      // Off unless a test asks: it runs housekeeping itself (mda.housekeeping.runOnce) at the moment it chooses.
      housekeeping: { ...housekeepingDefaults, intervalSeconds: 0, ...options.housekeeping },
    };
    if (kind === 'embedded') {
      const blobDir = await mkdtemp(join(tmpdir(), 'mda-blobs-'));
      const bus = createPostgresBus({ connectionString: db.url, pollIntervalMs: 200, partitions: 3 });
      return new MdaTestStack(
        kind,
        db,
        pool,
        bus,
        createFsBlobStore({ dir: blobDir }),
        createMemoryNotifier(),
        settings,
        () => rm(blobDir, { recursive: true, force: true }),
      );
    }
    const blobs = createS3BlobStore({ ...backends.s3, keyPrefix: `${uniqueName('mda')}/` });
    await blobs.ensureBucket();
    const bus = createKafkaBus({
      brokers: backends.kafkaBrokers,
      clientId: uniqueName('mda-test'),
      defaultPartitions: 3,
      replicationFactor: 1,
    });
    // Every test run shares one Redis: its own channel namespace keeps notifications apart.
    const channelPrefix = uniqueName('notify');
    const notifier = createRedisNotifier({ url: backends.redisUrl, channelPrefix: `${channelPrefix}.` });
    return new MdaTestStack(kind, db, pool, bus, blobs, notifier, settings, async () => {});
  }

  async startMda(): Promise<Mda> {
    this.mda = await startMda({
      bus: this.bus,
      blobs: this.blobs,
      pool: this.pool,
      directory: createPostgresDirectory(this.pool),
      notifier: this.notifier,
      logger: createLogger('mda-test', 'silent'),
      config: this.settings,
    });
    return this.mda;
  }

  async storeMessage(input: {
    from: string;
    to: string[];
    subject?: string;
    text?: string;
  }): Promise<StoredBlob> {
    const raw = rawMessage({
      from: input.from,
      to: input.to,
      subject: input.subject ?? 'hello',
      text: input.text ?? 'Hello there.',
    });
    return this.blobs.put(Readable.from([raw]));
  }

  /** Blob first, then the event, as smtp-ingress does. Resolves with the event id. */
  async publishAccepted(input: AcceptedInput): Promise<string> {
    const from = input.from ?? 'sender@remote.test';
    const blob =
      input.blob ??
      (await this.storeMessage({ from, to: input.to, subject: input.subject, text: input.text }));
    const eventId = input.eventId ?? randomUUID();
    await this.publishEvent(acceptedEvent(eventId, from, input, blob));
    return eventId;
  }

  /** All on the first event's key: one partition, so the bus hands them over in this order. */
  async publishInOrder(inputs: AcceptedInput[]): Promise<string[]> {
    const events: MailAcceptedInit[] = [];
    for (const input of inputs) {
      const from = input.from ?? 'sender@remote.test';
      const blob = input.blob ?? (await this.storeMessage({ from, to: input.to }));
      events.push(acceptedEvent(input.eventId ?? randomUUID(), from, input, blob));
    }
    const key = events[0]!.eventId!;
    await this.bus.publish(
      this.settings.acceptedTopic,
      events.map((event) => ({ key, value: encodeMailAccepted(event) })),
    );
    return events.map((event) => event.eventId!);
  }

  async publishEvent(event: MailAcceptedInit): Promise<void> {
    await this.bus.publish(this.settings.acceptedTopic, [
      { key: event.eventId, value: encodeMailAccepted(event) },
    ]);
  }

  /** Everything published to `topic` from now on, seen by a group of its own. */
  async collect(topic: string): Promise<Collector> {
    const messages: DeliveredMessage[] = [];
    const subscription = await this.bus.subscribe({
      group: uniqueName('collector'),
      topic,
      handler: async (message) => {
        messages.push(message);
      },
    });
    return { messages, stop: () => subscription.stop() };
  }

  async close(): Promise<void> {
    await this.mda?.close();
    await Promise.allSettled([this.bus.close(), this.blobs.close(), this.notifier.close()]);
    await this.pool.end();
    await this.db.drop();
    await this.cleanup();
  }
}

export function acceptedEvent(
  eventId: string,
  from: string,
  input: AcceptedInput,
  blob: StoredBlob,
): MailAcceptedInit {
  const kind = input.kind ?? SubmissionKind.MX;
  return {
    eventId,
    receivedAt: timestampNow(),
    clientIp: '192.0.2.10',
    helo: 'client.test',
    authenticatedUser: input.authenticatedUser ?? (kind === SubmissionKind.SUBMISSION ? from : ''),
    mailFrom: from,
    recipients: input.to.map((address) => ({ address })),
    blobKey: blob.key,
    size: BigInt(blob.size),
    sha256: blob.sha256,
    kind,
    port: kind === SubmissionKind.SUBMISSION ? 587 : 25,
  };
}
