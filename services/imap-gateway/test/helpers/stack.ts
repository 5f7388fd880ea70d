import { randomUUID } from 'node:crypto';
import { createPostgresDirectory } from '@correo/directory';
import type { BlobStore } from '@correo/blobs';
import type { Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import type { Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { openTestStack } from '@correo/testkit/stack';
import type { StackKind, TestAccount, TestStack } from '@correo/testkit/stack';
import type { TlsMaterial } from '@correo/tls';
import { defaultImapGatewayConfig, mailboxChannel, startImapGateway } from '../../src/index.js';
import type { ImapGateway, ImapGatewayConfig, ImapGatewayDeps } from '../../src/index.js';

/**
 * A test stack (openTestStack: fresh database, blobs, limits, notify of its kind) with IMAP gateways
 * started over it. Messages arrive through deliver plus the mda's notification, as in production.
 */
export class ImapTestStack {
  private constructor(
    /** The backends; for what this class does not wrap (openLimits, env...). */
    readonly parts: TestStack,
    readonly tls: TlsMaterial,
  ) {}

  static async create(kind: StackKind): Promise<ImapTestStack> {
    const parts = await openTestStack(kind);
    try {
      return new ImapTestStack(parts, await parts.tls());
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
  /** The mda's notifier: deliveries are announced through it. */
  get notifier(): Notifier {
    return this.parts.notifier;
  }
  get password(): string {
    return this.parts.password;
  }
  get domainName(): string {
    return this.parts.domainName;
  }

  /** A gateway on free ports with its own notifier connection (as a separate pod would have). */
  async gateway(
    overrides: Partial<ImapGatewayConfig> = {},
    deps: Pick<Partial<ImapGatewayDeps>, 'loginLimiter'> = {},
  ): Promise<ImapGateway> {
    const gateway = await startImapGateway({
      config: defaultImapGatewayConfig({ ports: { imap: 0, imaps: 0 }, hostname: 'imap.test', ...overrides }),
      pool: this.pool,
      blobs: this.blobs,
      directory: createPostgresDirectory(this.pool),
      limits: this.limits,
      notifier: this.parts.openNotifier(),
      logger: createLogger('imap-test', 'silent'),
      tls: this.tls,
      ...deps,
    });
    this.parts.defer(() => gateway.close());
    return gateway;
  }

  /** A provisioned account (with the default folders: INBOX, Sent, Drafts, Trash, Junk, Archive). */
  account(localPart: string): Promise<TestAccount> {
    return this.parts.account(localPart);
  }

  /** Stores the blob, files it as the mda does and publishes the mda's notification. */
  async deliver(
    accountId: string,
    address: string,
    raw: Buffer | string,
    mailboxName = 'INBOX',
  ): Promise<{ uid: number; mailboxId: string }> {
    const filed = await this.parts.deliver(accountId, address, raw, mailboxName);
    await this.notifier.publish(
      mailboxChannel(accountId),
      JSON.stringify({ mailboxId: filed.mailboxId, uid: filed.uid, modseq: filed.modseq, kind: 'append' }),
    );
    return { uid: filed.uid, mailboxId: filed.mailboxId };
  }

  async uids(accountId: string, mailboxName = 'INBOX'): Promise<number[]> {
    const { rows } = await this.pool.query<{ uid: string }>(
      `SELECT mm.uid FROM mailbox_messages mm JOIN mailboxes mb ON mb.id = mm.mailbox_id
       WHERE mb.account_id = $1 AND mb.name = $2 ORDER BY mm.uid`,
      [accountId, mailboxName],
    );
    return rows.map((row) => Number(row.uid));
  }

  close(): Promise<void> {
    return this.parts.close();
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
