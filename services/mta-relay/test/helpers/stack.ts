import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFsBlobStore, createS3BlobStore } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import { createKafkaBus, createPostgresBus } from '@correo/bus';
import type { Bus } from '@correo/bus';
import { createPostgresDirectory, createProvisioning } from '@correo/directory';
import { rotateDkimKey } from '@correo/dkim';
import type { DkimKey } from '@correo/dkim';
import { housekeepingDefaults, startMda } from '@correo/mda';
import type { Mda } from '@correo/mda';
import { createMemoryNotifier } from '@correo/notify';
import { SubmissionKind, encodeOutboundMessage, timestampFromDate } from '@correo/proto';
import type { OutboundMessageInit } from '@correo/proto';
import { createPool, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { freshDatabase, startDnsServer, testBackends, uniqueName } from '@correo/testkit';
import type { FreshDatabase, TestDnsServer } from '@correo/testkit';
import type { RelaySettings } from '../../src/config.js';
import { startMtaRelay } from '../../src/relay.js';
import type { MtaRelay } from '../../src/relay.js';
import { startRemoteMta } from './remote-mta.js';
import type { RemoteMta } from './remote-mta.js';

/** Polls until `check` is true; the deadline only keeps a broken build from hanging, it asserts no speed. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const LOCAL_DOMAIN = 'miemail.test';

/** embedded: the Postgres bus and file blobs. distributed: Kafka and S3 (MinIO). */
export type StackKind = 'embedded' | 'distributed';

/**
 * One sending site: PostgreSQL (fresh database), the Postgres bus, file blobs, the real mda (it files
 * DSNs into the sender's INBOX) and the relay under test; plus the outside world: a DNS server and
 * remote SMTP servers on 127.0.0.1 and 127.0.0.2 (STARTTLS) and 127.0.0.4 (none) sharing one port.
 * Relay settings: strict.test requires TLS, two messages per connection; `overrides` replaces any.
 */
export class RelayStack {
  relay: MtaRelay | undefined;
  private mda: Mda | undefined;

  private constructor(
    readonly db: FreshDatabase,
    readonly pool: Pool,
    readonly bus: Bus,
    readonly blobs: BlobStore,
    private readonly blobDir: string | undefined,
    readonly dns: TestDnsServer,
    readonly remote: RemoteMta,
    readonly settings: RelaySettings,
    readonly dkimKey: DkimKey,
    /** The tenant that owns LOCAL_DOMAIN and its accounts. */
    readonly tenantId: string,
  ) {}

  static async create(kind: StackKind, overrides: Partial<RelaySettings> = {}): Promise<RelayStack> {
    const db = await freshDatabase();
    await migrate(db.url);
    const pool = createPool(db.url);
    let bus: Bus;
    let blobs: BlobStore;
    let blobDir: string | undefined;
    if (kind === 'embedded') {
      bus = createPostgresBus({ connectionString: db.url, pollIntervalMs: 100, partitions: 2 });
      blobDir = await mkdtemp(join(tmpdir(), 'relay-blobs-'));
      blobs = createFsBlobStore({ dir: blobDir });
    } else {
      const backends = testBackends();
      bus = createKafkaBus({
        brokers: backends.kafkaBrokers,
        clientId: uniqueName('relay-test'),
        defaultPartitions: 2,
        replicationFactor: 1,
      });
      const s3 = createS3BlobStore({ ...backends.s3, keyPrefix: `${uniqueName('relay')}/` });
      await s3.ensureBucket();
      blobs = s3;
    }
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
    const remote = await startRemoteMta([
      { address: '127.0.0.1', starttls: true },
      { address: '127.0.0.2', starttls: true },
      { address: '127.0.0.4', starttls: false },
    ]);
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
      requireTlsDomains: ['strict.test'],
      connectTimeoutMs: 2_000,
      commandTimeoutMs: 10_000,
      maxConnectionsPerDomain: 2,
      maxMessagesPerConnection: 2,
      connectionIdleMs: 1_000,
      retrySchedule: [200, 400],
      maxLifetimeMs: 3_600_000,
      queuePollMs: 100,
      queueBatch: 10,
      queueLeaseMs: 60_000,
      ...overrides,
    };
    const stack = new RelayStack(db, pool, bus, blobs, blobDir, dns, remote, settings, dkimKey, tenant.id);
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
    });
    return this.relay;
  }

  async stopRelay(): Promise<void> {
    await this.relay?.close();
    this.relay = undefined;
  }

  /**
   * Stores a message and publishes its OutboundMessage as the mda would; resolves with the job id. By
   * default a user of the stack's tenant submitted it, with the envelope sender in From.
   */
  async sendJob(input: {
    from: string;
    to: string[];
    subject: string;
    queuedAt?: Date;
    isBounce?: boolean;
    headerFrom?: string;
    enteredBy?: SubmissionKind;
    tenantId?: string;
  }): Promise<string> {
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
    const blob = await this.blobs.put(Readable.from([raw]));
    const domain = input.to[0]!.slice(input.to[0]!.lastIndexOf('@') + 1);
    const job: OutboundMessageInit = {
      eventId: randomUUID(),
      originalEventId: randomUUID(),
      mailFrom: input.from,
      destinationDomain: domain,
      recipients: input.to.map((address) => ({ address })),
      blobKey: blob.key,
      size: BigInt(blob.size),
      sha256: blob.sha256,
      queuedAt: timestampFromDate(input.queuedAt ?? new Date()),
      isBounce: input.isBounce ?? false,
      enteredBy: input.enteredBy ?? (input.isBounce ? SubmissionKind.UNSPECIFIED : SubmissionKind.SUBMISSION),
      tenantId: input.tenantId ?? (input.isBounce ? '' : this.tenantId),
    };
    await this.bus.publish(this.settings.outboundTopic, [{ key: domain, value: encodeOutboundMessage(job) }]);
    return job.eventId!;
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
    await waitUntil(
      `${count} outcomes of job ${jobId}`,
      async () => (await this.outcomes(jobId)).length >= count,
    );
    return this.outcomes(jobId);
  }

  async queued(jobId: string): Promise<{ attempts: number; recipients: string[] } | null> {
    const { rows } = await this.pool.query<{ attempts: number; recipients: string[] }>(
      `SELECT q.attempts, array(SELECT recipient FROM relay_queue_recipients r WHERE r.job_id = q.job_id
         ORDER BY recipient) AS recipients FROM relay_queue q WHERE q.job_id = $1`,
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

  async close(): Promise<void> {
    await this.relay?.close();
    await this.mda?.close();
    await Promise.allSettled([this.bus.close(), this.blobs.close(), this.remote.close(), this.dns.close()]);
    await this.pool.end();
    await this.db.drop();
    if (this.blobDir) await rm(this.blobDir, { recursive: true, force: true });
  }
}
