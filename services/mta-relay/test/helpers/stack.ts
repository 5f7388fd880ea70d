import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore } from '@correo/blobs';
import { createPostgresDirectory, createProvisioning } from '@correo/directory';
import { rotateDkimKey } from '@correo/dkim';
import type { DkimKey } from '@correo/dkim';
import { databaseBodyBytesDefault, housekeepingDefaults, startMda } from '@correo/mda';
import type { Mda, MdaSettings } from '@correo/mda';
import { createMemoryNotifier } from '@correo/notify';
import { SubmissionKind, encodeMailAccepted, encodeOutboundMessage, timestampFromDate } from '@correo/proto';
import type { DsnNotify, OutboundMessageInit } from '@correo/proto';
import type { Limits } from '@correo/limits';
import { deferRelayJob } from '@correo/store';
import type { Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import type { Logger } from '@correo/telemetry';
import { eventually, startDnsServer, uniqueName } from '@correo/testkit';
import type { TestDnsServer } from '@correo/testkit';
import { openTestStack, TestStack } from '@correo/testkit/stack';
import type { StackKind } from '@correo/testkit/stack';
import type { RelaySettings } from '../../src/config.js';
import { startMtaRelay } from '../../src/relay.js';
import type { MtaRelay } from '../../src/relay.js';
import { startRemoteMta } from './remote-mta.js';
import type { RemoteMta } from './remote-mta.js';

export const LOCAL_DOMAIN = 'miemail.test';

export interface JobInput {
  from: string;
  to: string[];
  subject: string;
  queuedAt?: Date;
  isBounce?: boolean;
  headerFrom?: string;
  enteredBy?: SubmissionKind;
  tenantId?: string;
  /** RFC 3461 NOTIFY per recipient (smtp-ingress carries it in the event); absent: none given. */
  notify?: Record<string, DsnNotify[]>;
  /** The body is stored, then removed: the job names a blob that is gone (lost, or collected by mistake). */
  bodyGone?: boolean;
  /** Who the outbound rate limits charge (the mda's charged_to); its tenant is the stack's. None unless given. */
  chargedTo?: string;
  /** Where the body is stored: a blob store of the test's own (one it can take down) instead of the stack's. */
  blobs?: BlobStore;
}

/**
 * One sending site: a test stack (openTestStack: fresh database, bus, blobs, limits of its kind), the
 * real mda (it files DSNs into the sender's INBOX) and the relay under test; plus the outside world: a
 * DNS server and remote SMTP servers on 127.0.0.1 and 127.0.0.2 (STARTTLS) and 127.0.0.4 (none) sharing
 * one port. Relay settings: strict.test requires TLS, two messages per connection; `overrides` replaces any.
 */
export class RelayStack extends TestStack {
  relay: MtaRelay | undefined;
  private mda: Mda | undefined;
  /** What sendJob published, by job id: redeliver() hands the same record to the relay again. */
  private readonly published = new Map<string, { key: string; value: Uint8Array }>();

  private constructor(
    opened: TestStack,
    readonly dns: TestDnsServer,
    readonly remote: RemoteMta,
    readonly settings: RelaySettings,
    readonly dkimKey: DkimKey,
    /** The tenant that owns LOCAL_DOMAIN and its accounts. */
    readonly tenantId: string,
  ) {
    super(opened);
  }

  static async create(
    kind: StackKind,
    overrides: Partial<RelaySettings> = {},
    mdaOverrides: Partial<MdaSettings> = {},
  ): Promise<RelayStack> {
    const parts = await openTestStack(kind, { partitions: 2, pollIntervalMs: 100 });
    const { pool, bus, blobs } = parts;
    const provisioning = createProvisioning(pool);
    const tenant = await provisioning.createTenant({ name: uniqueName('relay') });
    const domain = await provisioning.createDomain({
      name: LOCAL_DOMAIN,
      tenantId: tenant.id,
      verified: true,
    });
    for (const address of ['yo', 'tu', 'el'].map((user) => `${user}@${LOCAL_DOMAIN}`)) {
      await provisioning.createAccount({ address });
    }
    const dkimKey = await rotateDkimKey(pool, domain.id);
    const dns = await startDnsServer({ [dkimKey.dnsRecord.name]: { TXT: [dkimKey.dnsRecord.strings] } });
    parts.defer(() => dns.close());
    const remote = await startRemoteMta([
      { address: '127.0.0.1', starttls: true },
      { address: '127.0.0.2', starttls: true },
      { address: '127.0.0.4', starttls: false },
    ]);
    parts.defer(() => remote.close());
    const settings: RelaySettings = {
      group: uniqueName('relay'),
      outboundTopic: uniqueName('mail.outbound'),
      acceptedTopic: uniqueName('mail.accepted'),
      deadLetterTopic: uniqueName('mail.outbound.dlq'),
      maxAttempts: 3,
      topicPartitions: 2,
      ehloName: 'mx.miemail.test',
      dnsServers: [dns.address],
      dnsTimeoutMs: 2_000,
      smtpPort: remote.port,
      // The remote world of these tests lives on loopback: allowed explicitly, as a test stack must.
      allowedNetworks: ['127.0.0.0/8'],
      transportMap: new Map(),
      requireTlsDomains: ['strict.test'],
      connectTimeoutMs: 2_000,
      commandTimeoutMs: 10_000,
      maxConnectionsPerDomain: 2,
      maxMessagesPerConnection: 2,
      // Long: a parked connection must still be there for the next job of its destination however
      // slowly a loaded machine brings that job (the reuse test waits on no timer).
      connectionIdleMs: 60_000,
      retrySchedule: [200, 400],
      maxLifetimeMs: 3_600_000,
      queuePollMs: 100,
      queueBatch: 10,
      attemptTimeoutMs: 30_000,
      claimLeaseMs: 60_000,
      drainTimeoutMs: 10_000,
      outboundLimits: { windowMs: 3_600_000, perAccount: 0, perTenant: 0, perDomain: 0 },
      ...overrides,
    };
    const stack = new RelayStack(parts, dns, remote, settings, dkimKey, tenant.id);
    stack.mda = await startMda({
      bus,
      blobs,
      pool,
      directory: createPostgresDirectory(pool),
      notifier: createMemoryNotifier(),
      logger: createLogger('mda-test', 'silent'),
      config: {
        group: uniqueName('mda'),
        acceptedTopic: settings.acceptedTopic,
        outboundTopic: settings.outboundTopic,
        deadLetterTopic: uniqueName('mail.accepted.dlq'),
        maxAttempts: 3,
        topicPartitions: 2,
        concurrency: 2,
        maxForwardsPerMessage: 25,
        databaseBodyBytes: databaseBodyBytesDefault,
        vacation: { minDays: 1, maxDays: 30 },
        ...mdaOverrides,
        // No blob collection here: the relay tests read bodies of events they publish themselves.
        housekeeping: { ...housekeepingDefaults, intervalSeconds: 0 },
      },
    });
    await stack.startRelay();
    return stack;
  }

  async startRelay(): Promise<MtaRelay> {
    this.relay = await startMtaRelay({
      bus: this.bus,
      blobs: this.blobs,
      pool: this.pool,
      directory: createPostgresDirectory(this.pool),
      logger: createLogger('relay-test', process.env.RELAY_TEST_LOG ? 'debug' : 'silent'),
      config: this.settings,
      limits: this.openLimits(),
    });
    return this.relay;
  }

  async stopRelay(): Promise<void> {
    await this.relay?.close();
    this.relay = undefined;
  }

  /**
   * Another relay process over the same queue, bus and remote world (what a second pod is); the
   * caller closes it. `overrides` (e.g. its own consumer group) apply to it alone; `reach` gives it
   * other ways to its backends (a fault proxy in front of the database, another blob store), a logger
   * and a limits client of its own.
   */
  startAnotherRelay(
    overrides: Partial<RelaySettings> = {},
    reach: { pool?: Pool; blobs?: BlobStore; logger?: Logger; limits?: Limits } = {},
  ): Promise<MtaRelay> {
    const pool = reach.pool ?? this.pool;
    return startMtaRelay({
      bus: this.bus,
      blobs: reach.blobs ?? this.blobs,
      pool,
      directory: createPostgresDirectory(pool),
      logger: reach.logger ?? createLogger('relay-test-2', process.env.RELAY_TEST_LOG ? 'debug' : 'silent'),
      config: { ...this.settings, ...overrides },
      limits: reach.limits ?? this.openLimits(),
    });
  }

  /**
   * Stores a message and publishes its MailAccepted as smtp-ingress would (MX unless `authenticatedUser`
   * makes it a submission), for the mda to resolve; resolves with the event id.
   */
  async acceptMail(
    input: JobInput & {
      authenticatedUser?: string;
      authentication?: { method: string; result: string; properties?: Record<string, string> }[];
    },
  ): Promise<string> {
    const job = await this.storeJob(input);
    const eventId = randomUUID();
    const submission = input.authenticatedUser !== undefined;
    await this.bus.publish(this.settings.acceptedTopic, [
      {
        key: eventId,
        value: encodeMailAccepted({
          eventId,
          receivedAt: job.queuedAt,
          clientIp: '192.0.2.10',
          helo: 'client.test',
          authenticatedUser: input.authenticatedUser ?? '',
          mailFrom: input.from,
          recipients: input.to.map((address) => ({ address })),
          blobKey: job.blobKey,
          size: job.size,
          sha256: job.sha256,
          kind: submission ? SubmissionKind.SUBMISSION : SubmissionKind.MX,
          port: submission ? 587 : 25,
          ...(input.authentication
            ? { authenticationResults: { results: input.authentication, header: 'mx.miemail.test; test' } }
            : {}),
        }),
      },
    ]);
    return eventId;
  }

  /** Stores a message and publishes its OutboundMessage as the mda would; resolves with the job id. */
  async sendJob(input: JobInput): Promise<string> {
    const job = await this.storeJob(input);
    const record = { key: job.destinationDomain!, value: encodeOutboundMessage(job) };
    this.published.set(job.eventId!, record);
    await this.bus.publish(this.settings.outboundTopic, [record]);
    return job.eventId!;
  }

  /**
   * Publishes a job sendJob sent again, byte for byte and under the same key, as the bus does when a
   * relay died before committing its offset or the mda's own event was redelivered.
   */
  async redeliver(jobId: string): Promise<void> {
    const record = this.published.get(jobId);
    if (!record) throw new Error(`job ${jobId} was not sent by this stack`);
    await this.bus.publish(this.settings.outboundTopic, [record]);
  }

  /**
   * Stores a message and puts its job straight into the deferred queue, due at `nextAttemptAt` (as
   * a job that met a temporary failure before); resolves with the queue row's id and the job id.
   */
  async queueJob(input: JobInput & { nextAttemptAt: Date }): Promise<{ id: string; jobId: string }> {
    const job = await this.storeJob(input);
    await deferRelayJob(this.pool, {
      jobId: job.eventId!,
      originalEventId: job.originalEventId!,
      mailFrom: job.mailFrom!,
      destinationDomain: job.destinationDomain!,
      job: encodeOutboundMessage(job),
      blobKey: job.blobKey!,
      attempts: 1,
      queuedAt: new Date(),
      nextAttemptAt: input.nextAttemptAt,
      expiresAt: new Date(Date.now() + this.settings.maxLifetimeMs),
      lastError: '451 4.3.0 earlier attempt',
      recipients: input.to.map((recipient) => ({ recipient, reply: '451 4.3.0 earlier attempt' })),
    });
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM relay_queue WHERE job_id = $1', [
      job.eventId,
    ]);
    return { id: String(rows[0]!.id), jobId: job.eventId! };
  }

  private async storeJob(input: JobInput): Promise<OutboundMessageInit> {
    const raw = Buffer.from(
      [
        `From: ${input.headerFrom ?? `Yo <${input.from || `MAILER-DAEMON@${LOCAL_DOMAIN}`}>`}`,
        `To: ${input.to.join(', ')}`,
        `Subject: ${input.subject}`,
        'Date: Thu, 26 Nov 2026 06:00:00 +0000',
        `Message-ID: <${randomUUID()}@${LOCAL_DOMAIN}>`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        `Body of ${input.subject}.`,
        '',
      ].join('\r\n'),
    );
    const blobs = input.blobs ?? this.blobs;
    const blob = await blobs.put(Readable.from([raw]));
    if (input.bodyGone) await blobs.delete(blob.key);
    const domain = input.to[0]!.slice(input.to[0]!.lastIndexOf('@') + 1);
    const job: OutboundMessageInit = {
      eventId: randomUUID(),
      originalEventId: randomUUID(),
      mailFrom: input.from,
      destinationDomain: domain,
      recipients: input.to.map((address) => ({ address, notify: input.notify?.[address] ?? [] })),
      blobKey: blob.key,
      size: BigInt(blob.size),
      sha256: blob.sha256,
      queuedAt: timestampFromDate(input.queuedAt ?? new Date()),
      isBounce: input.isBounce ?? false,
      enteredBy: input.enteredBy ?? (input.isBounce ? SubmissionKind.UNSPECIFIED : SubmissionKind.SUBMISSION),
      tenantId: input.tenantId ?? (input.isBounce ? '' : this.tenantId),
      ...(input.chargedTo ? { chargedTo: input.chargedTo, chargedTenantId: this.tenantId } : {}),
    };
    return job;
  }

  /**
   * The environment of a relay process (src/main.ts, as a pod runs it) over this stack: its bus
   * topics and consumer group, DNS and remote world, a quick queue poll, no outbound limits (what
   * these tests count is exactly-once); `overrides` on top.
   */
  relayProcessEnv(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      ...this.env(),
      RELAY_CONSUMER_GROUP: this.settings.group,
      RELAY_OUTBOUND_TOPIC: this.settings.outboundTopic,
      RELAY_ACCEPTED_TOPIC: this.settings.acceptedTopic,
      RELAY_DEAD_LETTER_TOPIC: this.settings.deadLetterTopic,
      RELAY_DNS_SERVERS: this.dns.address,
      RELAY_SMTP_PORT: String(this.remote.port),
      RELAY_ALLOWED_NETWORKS: '127.0.0.0/8',
      RELAY_QUEUE_POLL: '100ms',
      RELAY_LIMIT_PER_ACCOUNT: '0',
      RELAY_LIMIT_PER_TENANT: '0',
      RELAY_LIMIT_PER_DOMAIN: '0',
      ...overrides,
    };
  }

  /** How many copies of the message with this Subject the remote world received. */
  copiesOf(subject: string): number {
    return this.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}\r\n`)).length;
  }

  async outcomes(
    jobId: string,
  ): Promise<{ recipient: string; outcome: string; reply: string; attempts: number }[]> {
    const { rows } = await this.pool.query(
      'SELECT recipient, outcome, reply, attempts FROM relay_outcomes WHERE job_id = $1 ORDER BY recipient',
      [jobId],
    );
    return rows;
  }

  async waitForOutcomes(jobId: string, count: number) {
    await eventually(
      `${count} outcomes of job ${jobId}`,
      async () => (await this.outcomes(jobId)).length >= count,
      30_000,
    );
    return this.outcomes(jobId);
  }

  /** The job waiting in the deferred queue (not while a relay attempts it); null when it is not. */
  async queued(jobId: string): Promise<{ attempts: number; recipients: string[] } | null> {
    const { rows } = await this.pool.query<{ attempts: number; recipients: string[] }>(
      `SELECT q.attempts, array(SELECT recipient FROM relay_queue_recipients r WHERE r.job_id = q.job_id
         ORDER BY recipient) AS recipients FROM relay_queue q
        WHERE q.job_id = $1 AND (q.claimed_until IS NULL OR q.claimed_until <= now())`,
      [jobId],
    );
    return rows[0] ?? null;
  }

  /** The raw bytes of every message in the INBOX of a local account, oldest first. */
  async inbox(address: string): Promise<Buffer[]> {
    const { rows } = await this.pool.query<{ blob_key: string }>(
      `SELECT m.blob_key FROM mailbox_messages mm
         JOIN mailboxes mb ON mb.id = mm.mailbox_id
         JOIN accounts a ON a.id = mb.account_id
         JOIN messages m ON m.id = mm.message_id
        WHERE lower(a.address) = lower($1) AND mb.name = 'INBOX' ORDER BY mm.uid`,
      [address],
    );
    const messages: Buffer[] = [];
    for (const { blob_key } of rows) {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.blobs.get(blob_key)) chunks.push(chunk as Buffer);
      messages.push(Buffer.concat(chunks));
    }
    return messages;
  }

  override async close(): Promise<void> {
    await this.relay?.close();
    await this.mda?.close();
    await super.close();
  }
}
