import type pg from 'pg';
import type { Pool } from './pool.js';

/**
 * The id of the account's mailbox `name`, creating it when missing. Safe against a concurrent
 * creation: the loser's insert does nothing and both read the same row.
 */
export async function ensureMailbox(
  db: Pool | pg.PoolClient,
  accountId: string,
  name: string,
  specialUse: string | null = null,
): Promise<string> {
  // Look first: INSERT ... ON CONFLICT would burn an identity value on every delivery.
  const existing = await findMailbox(db, accountId, name);
  if (existing) return existing;
  const created = await db.query<{ id: string }>(
    `INSERT INTO mailboxes (account_id, name, special_use) VALUES ($1, $2, $3)
     ON CONFLICT (account_id, name) DO NOTHING RETURNING id`,
    [accountId, name, specialUse],
  );
  if (created.rows[0]) return created.rows[0].id;
  const raced = await findMailbox(db, accountId, name);
  if (!raced) throw new Error(`mailbox ${name} of account ${accountId} vanished while being created`);
  return raced;
}

async function findMailbox(
  db: Pool | pg.PoolClient,
  accountId: string,
  name: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2',
    [accountId, name],
  );
  return rows[0]?.id;
}
