import { randomUUID } from 'node:crypto';
import type { MessageFacts } from '../src/delivery.js';
import type { Pool } from '../src/pool.js';

/** A new tenant with one domain and one account `user@<random>.test`. */
export async function createAccount(pool: Pool): Promise<{ accountId: string; address: string }> {
  const domain = `${randomUUID().slice(0, 8)}.test`;
  const address = `user@${domain}`;
  const tenant = await pool.query<{ id: string }>('INSERT INTO tenants (name) VALUES ($1) RETURNING id', [
    randomUUID(),
  ]);
  const d = await pool.query<{ id: string }>(
    'INSERT INTO domains (tenant_id, name) VALUES ($1, $2) RETURNING id',
    [tenant.rows[0]!.id, domain],
  );
  const a = await pool.query<{ id: string }>(
    `INSERT INTO accounts (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'user', $3) RETURNING id`,
    [tenant.rows[0]!.id, d.rows[0]!.id, address],
  );
  return { accountId: a.rows[0]!.id, address };
}

/** The facts of a message stored under `blobKey`, with no headers worth reading. */
export function messageFacts(blobKey: string, size: number): MessageFacts {
  return {
    blobKey,
    sha256: blobKey,
    size,
    internalDate: new Date(),
    subject: null,
    from: null,
    to: null,
    cc: null,
    messageId: null,
    date: null,
    inReplyTo: null,
    envelope: null,
    bodystructure: null,
    searchText: '',
  };
}
