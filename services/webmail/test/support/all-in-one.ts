import assert from 'node:assert/strict';
import { swaks, type AllInOneProcess } from '@correo/testkit';
import type { MailHost } from '../../../../e2e/test/support/mailbox-reader.js';

/** The all-in-one's IMAP listener as imaplib reaches it (its self-signed certificate, its name). */
export function imapHostOf(stack: AllInOneProcess): MailHost {
  return { address: stack.host, port: stack.ports.imap, serverName: 'mx.correo.test', caFile: stack.caFile };
}

/** A mail account made through admin-api, as an operator would. */
export async function createAccount(
  stack: Pick<AllInOneProcess, 'adminUrl' | 'adminToken'>,
  account: { address: string; password: string },
): Promise<void> {
  const created = await fetch(`${stack.adminUrl}/v1/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(account),
  });
  assert.equal(created.status, 201, await created.text());
}

/** A message from outside, through the MX, by swaks; `extra` are more swaks arguments. */
export async function deliver(
  stack: Pick<AllInOneProcess, 'ports'>,
  from: string,
  to: string,
  subject: string,
  extra: string[] = [],
): Promise<void> {
  const run = await swaks([
    '--server',
    `127.0.0.1:${stack.ports.mx}`,
    '--from',
    from,
    '--to',
    to,
    '--header',
    `Subject: ${subject}`,
    ...extra,
  ]);
  assert.equal(run.exitCode, 0, run.output);
}
