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
import { createMemoryNotifier, createRedisNotifier, MailboxChangeFeed } from '@correo/notify';
import type { Notifier } from '@correo/notify';
import { createPool, deliverToMailbox, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { freshDatabase, testBackends, uniqueName } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { loadTlsMaterial } from '@correo/tls';
import type { TlsMaterial } from '@correo/tls';
import { defaultPop3GatewayConfig, startPop3Gateway } from '../../src/index.js';
import type { Pop3Gateway, Pop3GatewayConfig, Pop3GatewayDeps } from '../../src/index.js';

/** embedded: files, in-process limits and notify. distributed: MinIO, Redis limits and notify. */
export type StackKind = 'embedded' | 'distributed';

export interface Delivered {
  uid: number;
  blobKey: string;
  raw: Buffer;
}

/**
 * Real Postgres (fresh database, migrated), real blobs, real limits and notify, and gateways
 * started against them. Messages go in through deliverToMailbox, as the mda files them.
 */
export class Pop3TestStack {
  readonly password = 'correct horse battery staple';
  private readonly gateways: Pop3Gateway[] = [];
  private readonly tenant: Promise<string>;
  private readonly domain: Promise<unknown>;
  readonly domainName = `${uniqueName('pop').toLowerCase()}.test`;

  private constructor(
    readonly kind: StackKind,
    readonly db: FreshDatabase,
    readonly pool: Pool,
    readonly blobs: BlobStore,
    readonly limits: Limits,
    readonly notifier: Notifier,
    readonly tls: TlsMaterial,
    private readonly cleanup: () => Promise<void>,
  ) {
    const operator = createProvisioning(pool);
    this.tenant = operator.createTenant({ name: uniqueName('tenant') }).then((tenant) => tenant.id);
    this.domain = this.tenant.then((tenantId) =>
      operator.createDomain({ name: this.domainName, tenantId, verified: true }),
    );
  }

  static async create(kind: StackKind): Promise<Pop3TestStack> {
    const db = await freshDatabase();
    await migrate(db.url);
    const pool = createPool(db.url);
    const tlsDir = await mkdtemp(join(tmpdir(), 'pop3-tls-'));
    const tls = await loadTlsMaterial({ dataDir: tlsDir, hostname: 'localhost' });
    if (kind === 'embedded') {
      const blobDir = await mkdtemp(join(tmpdir(), 'pop3-blobs-'));
      return new Pop3TestStack(
        kind,
        db,
        pool,
        createFsBlobStore({ dir: blobDir }),
        // Its own state, so parallel test files never share locks or login counters.
        createMemoryLimits({ state: new MemoryLimitsState() }),
        createMemoryNotifier(),
        tls,
        async () => {
          await rm(blobDir, { recursive: true, force: true });
          await rm(tlsDir, { recursive: true, force: true });
        },
      );
    }
    const backends = testBackends();
    const blobs = createS3BlobStore({ ...backends.s3, keyPrefix: `${uniqueName('pop3')}/` });
    await blobs.ensureBucket();
    // Every test run shares one Redis: its own channel namespace keeps notifications apart.
    const channelPrefix = uniqueName('notify');
    return new Pop3TestStack(
      kind,
      db,
      pool,
      blobs,
      createRedisLimits({ url: backends.redisUrl, keyPrefix: `${uniqueName('pop3')}:` }),
      createRedisNotifier({ url: backends.redisUrl, channelPrefix: `${channelPrefix}.` }),
      tls,
      () => rm(tlsDir, { recursive: true, force: true }),
    );
  }

  /** A gateway on free ports over this stack's backends; `limits` lets two gateways share or not. */
  async startGateway(
    overrides: Partial<Pop3GatewayConfig> = {},
    limits: Limits = this.limits,
    extra: Pick<Pop3GatewayDeps, 'loginLimiter'> = {},
  ): Promise<Pop3Gateway> {
    const gateway = await startPop3Gateway({
      config: defaultPop3GatewayConfig({ ports: { pop3: 0, pop3s: 0 }, hostname: 'pop.test', ...overrides }),
      pool: this.pool,
      blobs: this.blobs,
      directory: createPostgresDirectory(this.pool),
      limits,
      notifier: this.notifier,
      logger: createLogger('pop3-test', 'silent'),
      tls: this.tls,
      ...extra,
    });
    this.gateways.push(gateway);
    return gateway;
  }

  /** Resolves with the account id. */
  async account(localPart: string): Promise<{ accountId: string; address: string }> {
    await this.domain;
    const address = `${localPart}@${this.domainName}`;
    const account = await createProvisioning(this.pool).createAccount({ address, password: this.password });
    return { accountId: account.id, address };
  }

  /** Stores the blob and files it into INBOX exactly as the mda does. */
  async deliver(accountId: string, address: string, raw: Buffer | string): Promise<Delivered> {
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
    const blob = await this.blobs.put(Readable.from([bytes]));
    const analysis = await analyzeMessage(await this.blobs.get(blob.key));
    const changes = new MailboxChangeFeed(this.notifier, createLogger('pop3-test', 'silent'));
    const outcome = await deliverToMailbox(
      { pool: this.pool, changes },
      {
        eventId: randomUUID(),
        recipient: address,
        accountId,
        message: { blobKey: blob.key, internalDate: new Date(), ...messageSummary(analysis) },
      },
    );
    if (outcome.kind !== 'delivered') throw new Error(`delivery failed: ${outcome.kind}`);
    return { uid: outcome.uid, blobKey: blob.key, raw: bytes };
  }

  async inboxUids(accountId: string): Promise<number[]> {
    const { rows } = await this.pool.query<{ uid: string }>(
      `SELECT mm.uid FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
       WHERE mb.account_id = $1 AND mb.name = 'INBOX' ORDER BY mm.uid`,
      [accountId],
    );
    return rows.map((row) => Number(row.uid));
  }

  async inbox(accountId: string): Promise<{ id: string; uidvalidity: number; highestmodseq: number }> {
    const { rows } = await this.pool.query<{ id: string; uidvalidity: string; highestmodseq: string }>(
      `SELECT id, uidvalidity, highestmodseq FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`,
      [accountId],
    );
    const row = rows[0]!;
    return { id: row.id, uidvalidity: Number(row.uidvalidity), highestmodseq: Number(row.highestmodseq) };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.gateways.map((gateway) => gateway.close()));
    await Promise.allSettled([this.limits.close(), this.notifier.close(), this.blobs.close()]);
    await this.pool.end();
    await this.db.drop();
    await this.cleanup();
  }
}

/** A short message with the given subject and body lines, CRLF line ends as smtp-ingress stores. */
export function rawMessage(subject: string, body: string[] = ['Hello.']): string {
  return [
    'From: Sender <sender@remote.test>',
    'To: someone@example.test',
    `Subject: ${subject}`,
    `Message-ID: <${randomUUID()}@remote.test>`,
    'Date: Thu, 26 Nov 2026 06:00:00 +0000',
    '',
    ...body,
    '',
  ].join('\r\n');
}
