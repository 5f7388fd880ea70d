import { randomUUID } from 'node:crypto';
import { createPostgresDirectory } from '@correo/directory';
import type { Limits } from '@correo/limits';
import { createLogger } from '@correo/telemetry';
import { openTestStack, TestStack } from '@correo/testkit/stack';
import type { StackKind, TestStackOptions } from '@correo/testkit/stack';
import type { TlsMaterial } from '@correo/tls';
import { defaultPop3GatewayConfig, startPop3Gateway } from '../../src/index.js';
import type { Pop3Gateway, Pop3GatewayConfig, Pop3GatewayDeps } from '../../src/index.js';

/**
 * A test stack (openTestStack: fresh database, blobs, limits, notify of its kind) with POP3 gateways
 * started over it. Messages go in through deliver, as the mda files them.
 */
export class Pop3TestStack extends TestStack {
  private constructor(
    opened: TestStack,
    readonly tls: TlsMaterial,
  ) {
    super(opened);
  }

  static async create(kind: StackKind, options: TestStackOptions = {}): Promise<Pop3TestStack> {
    const opened = await openTestStack(kind, options);
    return new Pop3TestStack(opened, await opened.certificate());
  }

  /** A gateway on free ports over this stack's backends; `limits` lets two gateways share or not. */
  async startGateway(
    overrides: Partial<Pop3GatewayConfig> = {},
    limits: Limits = this.limits,
    extra: Pick<Pop3GatewayDeps, 'loginPolicy' | 'trustedProxies'> = {},
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
    this.defer(() => gateway.close());
    return gateway;
  }

  async inbox(accountId: string): Promise<{ id: string; uidvalidity: number; highestmodseq: number }> {
    const { rows } = await this.pool.query<{ id: string; uidvalidity: string; highestmodseq: string }>(
      `SELECT id, uidvalidity, highestmodseq FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`,
      [accountId],
    );
    const row = rows[0]!;
    return { id: row.id, uidvalidity: Number(row.uidvalidity), highestmodseq: Number(row.highestmodseq) };
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
