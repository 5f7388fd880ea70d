import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { StoredBlob } from '@correo/blobs';
import { createPostgresDirectory } from '@correo/directory';
import { OutboundQuota } from '@correo/limits';
import type { OutboundQuotaSettings } from '@correo/limits';
import { SubmissionKind, encodeMailAccepted, timestampNow } from '@correo/proto';
import type { MailAcceptedInit } from '@correo/proto';
import { createLogger } from '@correo/telemetry';
import { uniqueName } from '@correo/testkit';
import { openTestStack, TestStack } from '@correo/testkit/stack';
import type { StackKind, TopicWatch } from '@correo/testkit/stack';
import { databaseBodyBytesDefault, housekeepingDefaults } from '../../src/config.js';
import type { MdaSettings } from '../../src/config.js';
import type { HousekeepingSettings } from '../../src/housekeeping.js';
import { startMda } from '../../src/mda.js';
import type { Mda } from '../../src/mda.js';
import { rawMessage } from './messages.js';
import { Provisioner } from './provision.js';

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

/** What a topic carried since collect() (the stack's watch). */
export type Collector = TopicWatch;

/** A test stack (openTestStack: fresh database, bus, blobs, notify of its kind) and the mda over it. */
export class MdaTestStack extends TestStack {
  mda: Mda | undefined;
  readonly provision: Provisioner;
  private outboundLimits: OutboundQuotaSettings | undefined;

  private constructor(
    opened: TestStack,
    readonly settings: MdaSettings,
  ) {
    super(opened);
    this.provision = new Provisioner(this.pool, uniqueName('tenant'));
  }

  static async create(
    kind: StackKind,
    options: {
      maxAttempts?: number;
      housekeeping?: Partial<HousekeepingSettings>;
      /** MAIL_OUTBOUND_* for Sieve redirects and vacation replies, counted in the stack's limits; none without. */
      outboundLimits?: OutboundQuotaSettings;
    } = {},
  ): Promise<MdaTestStack> {
    const opened = await openTestStack(kind, { partitions: 3, pollIntervalMs: 200 });
    const settings: MdaSettings = {
      group: uniqueName('mda'),
      acceptedTopic: uniqueName('mail.accepted'),
      outboundTopic: uniqueName('mail.outbound'),
      deadLetterTopic: uniqueName('mail.accepted.dlq'),
      maxAttempts: options.maxAttempts ?? 3,
      topicPartitions: 3,
      concurrency: 3,
      maxForwardsPerMessage: 25,
      databaseBodyBytes: databaseBodyBytesDefault,
      vacation: { minDays: 1, maxDays: 30 },
      // Off unless a test asks: it runs housekeeping itself (mda.housekeeping.runOnce) at the moment it chooses.
      housekeeping: { ...housekeepingDefaults, intervalSeconds: 0, ...options.housekeeping },
    };
    const stack = new MdaTestStack(opened, settings);
    stack.outboundLimits = options.outboundLimits;
    return stack;
  }

  async startMda(): Promise<Mda> {
    this.mda = await startMda({
      bus: this.bus,
      blobs: this.blobs,
      pool: this.pool,
      directory: createPostgresDirectory(this.pool),
      notifier: this.notifier,
      ...(this.outboundLimits ? { outboundQuota: new OutboundQuota(this.limits, this.outboundLimits) } : {}),
      logger: createLogger('mda-test', (process.env.MDA_TEST_LOG as 'warn') ?? 'silent'),
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
  collect(topic: string): Promise<Collector> {
    return this.watch(topic);
  }

  override async close(): Promise<void> {
    await this.mda?.close();
    await super.close();
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
