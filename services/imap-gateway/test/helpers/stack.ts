import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createFsBlobStore, createS3BlobStore } from '@correo/blobs';
import type { BlobStore } from '@correo/blobs';
import { createPostgresDirectory, createProvisioning } from '@correo/directory';
import { createMemoryLimits, createRedisLimits, MemoryLimitsState } from '@correo/limits';
import type { Limits } from '@correo/limits';
import { analyzeMessage, messageSummary } from '@correo/mime';
import { createMemoryNotifier, createRedisNotifier, MailboxChangeFeed, MemoryBus } from '@correo/notify';
import type { Notifier } from '@correo/notify';
import { createPool, deliverToMailbox, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { freshDatabase, testBackends, uniqueName } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { loadTlsMaterial } from '@correo/tls';
import type { TlsMaterial } from '@correo/tls';
import { defaultImapGatewayConfig, startImapGateway } from '../../src/index.js';
import type { ImapGateway, ImapGatewayConfig, ImapGatewayDeps } from '../../src/index.js';

/** embedded: files, in-process limits and notify. distributed: MinIO, Redis limits and notify. */
export type StackKind = 'embedded' | 'distributed';

/**
 * Real Postgres (fresh database, migrated), real blobs, limits and notify, and gateways started
 * against them. Messages arrive through deliverToMailbox, which notifies as the mda's deliveries do.
 */
export class ImapTestStack {
  readonly password = 'correct horse battery staple';
  private readonly gateways: ImapGateway[] = [];
  private readonly notifiers: Notifier[] = [];
  readonly domainName = `${uniqueName('imap').toLowerCase()}.test`;
  private domain: Promise<unknown> | undefined;

  private constructor(
    readonly kind: StackKind,
    readonly db: FreshDatabase,
    readonly pool: Pool,
    readonly blobs: BlobStore,
    readonly limits: Limits,
    /** The mda's notifier: deliveries are announced through it. */
    readonly notifier: Notifier,
    readonly tls: TlsMaterial,
    private readonly newNotifier: () => Notifier,
    private readonly cleanup: () => Promise<void>,
  ) {}

  static async create(kind: StackKind): Promise<ImapTestStack> {
    const db = await freshDatabase();
    await migrate(db.url);
    const pool = createPool(db.url);
    const tlsDir = await mkdtemp(join(tmpdir(), 'imap-tls-'));
    const tls = await loadTlsMaterial({ dataDir: tlsDir, hostname: 'localhost' });
    if (kind === 'embedded') {
      const blobDir = await mkdtemp(join(tmpdir(), 'imap-blobs-'));
      // One in-process bus per stack, so parallel test files never hear each other.
      const bus = new MemoryBus();
      const newNotifier = () => createMemoryNotifier({ bus });
      return new ImapTestStack(
        kind,
        db,
        pool,
        createFsBlobStore({ dir: blobDir }),
        createMemoryLimits({ state: new MemoryLimitsState() }),
        newNotifier(),
        tls,
        newNotifier,
        async () => {
          await rm(blobDir, { recursive: true, force: true });
          await rm(tlsDir, { recursive: true, force: true });
        },
      );
    }
    const backends = testBackends();
    const blobs = createS3BlobStore({ ...backends.s3, keyPrefix: `${uniqueName('imap')}/` });
    await blobs.ensureBucket();
    // Every test run shares one Redis: its own channel namespace keeps notifications apart.
    const channelPrefix = uniqueName('notify');
    const newNotifier = () =>
      createRedisNotifier({ url: backends.redisUrl, channelPrefix: `${channelPrefix}.` });
    return new ImapTestStack(
      kind,
      db,
      pool,
      blobs,
      createRedisLimits({ url: backends.redisUrl, keyPrefix: `${uniqueName('imap')}:` }),
      newNotifier(),
      tls,
      newNotifier,
      () => rm(tlsDir, { recursive: true, force: true }),
    );
  }

  /** A gateway on free ports with its own notifier connection (as a separate pod would have). */
  async gateway(
    overrides: Partial<ImapGatewayConfig> = {},
    deps: Pick<Partial<ImapGatewayDeps>, 'loginLimiter'> = {},
  ): Promise<ImapGateway> {
    const notifier = this.newNotifier();
    this.notifiers.push(notifier);
    const gateway = await startImapGateway({
      config: defaultImapGatewayConfig({ ports: { imap: 0, imaps: 0 }, hostname: 'imap.test', ...overrides }),
      pool: this.pool,
      blobs: this.blobs,
      directory: createPostgresDirectory(this.pool),
      limits: this.limits,
      notifier,
      logger: createLogger('imap-test', 'silent'),
      tls: this.tls,
      ...deps,
    });
    this.gateways.push(gateway);
    return gateway;
  }

  /** A provisioned account (with the default folders: INBOX, Sent, Drafts, Trash, Junk, Archive). */
  async account(localPart: string): Promise<{ accountId: string; address: string }> {
    const operator = createProvisioning(this.pool);
    this.domain ??= operator
      .createTenant({ name: uniqueName('tenant') })
      .then((tenant) =>
        operator.createDomain({ name: this.domainName, tenantId: tenant.id, verified: true }),
      );
    await this.domain;
    const address = `${localPart}@${this.domainName}`;
    const account = await operator.createAccount({ address, password: this.password });
    return { accountId: account.id, address };
  }

  /** Stores the blob, files it as the mda does and publishes the mda's notification. */
  async deliver(
    accountId: string,
    address: string,
    raw: Buffer | string,
    mailboxName = 'INBOX',
  ): Promise<{ uid: number; mailboxId: string }> {
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
    const blob = await this.blobs.put(Readable.from([bytes]));
    const analysis = await analyzeMessage(await this.blobs.get(blob.key));
    const changes = new MailboxChangeFeed(this.notifier, createLogger('imap-test', 'silent'));
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
    return { uid: outcome.uid, mailboxId: outcome.mailboxId };
  }

  async uids(accountId: string, mailboxName = 'INBOX'): Promise<number[]> {
    const { rows } = await this.pool.query<{ uid: string }>(
      `SELECT mm.uid FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
       WHERE mb.account_id = $1 AND mb.name = $2 ORDER BY mm.uid`,
      [accountId, mailboxName],
    );
    return rows.map((row) => Number(row.uid));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.gateways.map((gateway) => gateway.close()));
    await Promise.allSettled([
      this.limits.close(),
      this.notifier.close(),
      this.blobs.close(),
      ...this.notifiers.map((n) => n.close()),
    ]);
    await this.pool.end();
    await this.db.drop();
    await this.cleanup();
  }
}

/** A short message with CRLF line ends, as smtp-ingress stores them. */
export function rawMessage(
  subject: string,
  body: string[] = ['Hello.'],
  from = 'Sender <sender@remote.test>',
): string {
  return [
    `From: ${from}`,
    'To: Someone <someone@example.test>',
    `Subject: ${subject}`,
    `Message-ID: <${randomUUID()}@remote.test>`,
    'Date: Thu, 26 Nov 2026 06:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    ...body,
    '',
  ].join('\r\n');
}
