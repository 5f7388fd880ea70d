import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPostgresDirectory } from '@correo/directory';
import { createLogger } from '@correo/telemetry';
import { openTestStack, TestStack } from '@correo/testkit/stack';
import type { StackKind, TestStackOptions } from '@correo/testkit/stack';
import type { LineClient } from '@correo/testkit';
import type { TlsMaterial } from '@correo/tls';
import { defaultImapGatewayConfig, startImapGateway } from '../../src/index.js';
import type { ImapGateway, ImapGatewayConfig, ImapGatewayDeps } from '../../src/index.js';

/**
 * A test stack (openTestStack: fresh database, blobs, limits, notify of its kind) with IMAP gateways
 * started over it. Messages arrive through deliver, which notifies as the mda's deliveries do.
 */
export class ImapTestStack extends TestStack {
  private constructor(
    opened: TestStack,
    readonly tls: TlsMaterial,
  ) {
    super(opened);
  }

  static async create(kind: StackKind, options: TestStackOptions = {}): Promise<ImapTestStack> {
    const opened = await openTestStack(kind, options);
    return new ImapTestStack(opened, await opened.certificate());
  }

  /**
   * A gateway on free ports with its own notifier connection (as a separate pod would have); `deps`
   * may give it its own limits client and lease timing too.
   */
  async gateway(
    overrides: Partial<ImapGatewayConfig> = {},
    deps: Pick<Partial<ImapGatewayDeps>, 'loginPolicy' | 'trustedProxies' | 'limits' | 'leaseTiming'> = {},
  ): Promise<ImapGateway> {
    const gateway = await startImapGateway({
      config: defaultImapGatewayConfig({ ports: { imap: 0, imaps: 0 }, hostname: 'imap.test', ...overrides }),
      pool: this.pool,
      blobs: this.blobs,
      directory: createPostgresDirectory(this.pool),
      limits: this.limits,
      notifier: this.openNotifier(),
      logger: createLogger('imap-test', 'silent'),
      tls: this.tls,
      ...deps,
    });
    this.defer(() => gateway.close());
    return gateway;
  }
}

/** Runs a command that must succeed (tagged OK) and returns its untagged responses. */
export async function okCommand(client: LineClient, line: string): Promise<string[]> {
  const done = await client.command(line);
  assert.match(done.status, /^OK/, `${line}: ${done.status}`);
  return done.untagged;
}

/**
 * APPENDs `message` (a string as UTF-8) to `mailbox` with a non-synchronizing literal, optionally with
 * an internal date ("24-Mar-2007 23:30:00 +0200"); the APPEND must succeed.
 */
export async function appendMessage(
  client: LineClient,
  mailbox: string,
  message: string | Buffer,
  date?: string,
): Promise<void> {
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  const tag = client.allocateTag();
  client.write(
    Buffer.concat([
      Buffer.from(`${tag} APPEND ${mailbox} ${date ? `"${date}" ` : ''}{${bytes.length}+}\r\n`),
      bytes,
      Buffer.from('\r\n'),
    ]),
  );
  const done = await client.collect(tag);
  assert.match(done.status, /^OK /, `APPEND ${mailbox}: ${done.status}`);
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
