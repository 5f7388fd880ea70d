import type pg from 'pg';
import type { Pool } from '../pool.js';
import { inTransaction } from '../transaction.js';

/**
 * Runs `work` in one transaction that first locks the account row, the lock order deliverToMailbox and
 * expungeMessages use: every change to one account's mailboxes is serialised, so MODSEQs commit in the
 * order they were handed out and a session reading "modseq > known" never skips a change.
 * Resolves null when the account does not exist.
 */
export async function inAccountTransaction<T>(
  pool: Pool,
  accountId: string,
  work: (client: pg.PoolClient, account: { quotaBytes: number | null; usedBytes: number }) => Promise<T>,
): Promise<T | null> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ quota_bytes: string | null; used_bytes: string }>(
      'SELECT quota_bytes, used_bytes FROM accounts WHERE id = $1 FOR UPDATE',
      [accountId],
    );
    const row = rows[0];
    if (!row) return null; // nothing written: committing the empty transaction is harmless
    return work(client, {
      quotaBytes: row.quota_bytes === null ? null : Number(row.quota_bytes),
      usedBytes: Number(row.used_bytes),
    });
  });
}

/** Hands out the next MODSEQ of a mailbox (and `uids` new UIDs); null when the mailbox is gone. */
export async function allocate(
  client: pg.PoolClient,
  accountId: string,
  mailboxId: string,
  uids = 0,
): Promise<{ firstUid: number; modseq: number; uidvalidity: number } | null> {
  const { rows } = await client.query<{ first_uid: string; modseq: string; uidvalidity: string }>(
    `UPDATE mailboxes SET uidnext = uidnext + $3, highestmodseq = highestmodseq + 1
     WHERE id = $1 AND account_id = $2
     RETURNING uidnext - $3 AS first_uid, highestmodseq AS modseq, uidvalidity`,
    [mailboxId, accountId, uids],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    firstUid: Number(row.first_uid),
    modseq: Number(row.modseq),
    uidvalidity: Number(row.uidvalidity),
  };
}

/** Deletes the message rows no mailbox holds any more and gives their bytes back to the quota. */
export async function freeOrphans(
  client: { query: Pool['query'] },
  accountId: string,
  messageIds: string[],
): Promise<void> {
  if (messageIds.length === 0) return;
  const freed = await client.query<{ size: string }>(
    `DELETE FROM messages m WHERE m.account_id = $1 AND m.id = ANY($2::bigint[])
       AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.account_id = $1 AND mm.message_id = m.id)
     RETURNING m.size`,
    [accountId, messageIds],
  );
  const bytes = freed.rows.reduce((sum, row) => sum + Number(row.size), 0);
  if (bytes > 0) {
    await client.query('UPDATE accounts SET used_bytes = greatest(0, used_bytes - $2) WHERE id = $1', [
      accountId,
      bytes,
    ]);
  }
}
