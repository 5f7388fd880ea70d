import { randomUUID } from 'node:crypto';
import type { BlobStore } from '@correo/blobs';
import { createPostgresDirectory } from '@correo/directory';
import type { Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import type { Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { openTestStack } from '@correo/testkit/stack';
import type { StackKind, TestAccount, TestStack } from '@correo/testkit/stack';
import type { TlsMaterial } from '@correo/tls';
import { defaultPop3GatewayConfig, startPop3Gateway } from '../../src/index.js';
import type { Pop3Gateway, Pop3GatewayConfig, Pop3GatewayDeps } from '../../src/index.js';

export interface Delivered {
  uid: number;
  blobKey: string;
  raw: Buffer;
}

/**
 * A test stack (openTestStack: fresh database, blobs, limits, notify of its kind) with POP3 gateways
 * started over it. Messages go in through deliver, as the mda files them.
 */
export class Pop3TestStack {
  private constructor(
    /** The backends; for what this class does not wrap (openLimits for a second pod, env...). */
    readonly parts: TestStack,
    readonly tls: TlsMaterial,
  ) {}

  static async create(kind: StackKind): Promise<Pop3TestStack> {
    const parts = await openTestStack(kind);
    try {
      return new Pop3TestStack(parts, await parts.tls());
    } catch (error) {
      await parts.close();
      throw error;
    }
  }

  get kind(): StackKind {
    return this.parts.kind;
  }
  get pool(): Pool {
    return this.parts.pool;
  }
  get blobs(): BlobStore {
    return this.parts.blobs;
  }
  get limits(): Limits {
    return this.parts.limits;
  }
  get notifier(): Notifier {
    return this.parts.notifier;
  }
  get password(): string {
    return this.parts.password;
  }
  get domainName(): string {
    return this.parts.domainName;
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
    this.parts.defer(() => gateway.close());
    return gateway;
  }

  account(localPart: string): Promise<TestAccount> {
    return this.parts.account(localPart);
  }

  /** Stores the blob and files it into INBOX exactly as the mda does. */
  async deliver(accountId: string, address: string, raw: Buffer | string): Promise<Delivered> {
    const { uid, blobKey, raw: bytes } = await this.parts.deliver(accountId, address, raw);
    return { uid, blobKey, raw: bytes };
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

  close(): Promise<void> {
    return this.parts.close();
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
