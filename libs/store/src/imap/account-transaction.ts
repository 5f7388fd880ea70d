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

/**
 * Deletes the message rows no mailbox holds any more and gives their bytes back to the quota, in one
 * statement. Runs after (not within) the statement that removed the mailbox rows: a statement does not
 * see its own deletions, so only a later one finds the messages no mailbox holds.
 */
export async function freeOrphans(
  client: { query: Pool['query'] },
  accountId: string,
  messageIds: string[],
): Promise<void> {
  if (messageIds.length === 0) return;
  await client.query({
    name: 'free-orphan-messages',
    text: `WITH freed AS (
         DELETE FROM messages m WHERE m.account_id = $1 AND m.id = ANY($2::bigint[])
           AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.account_id = $1 AND mm.message_id = m.id)
         RETURNING m.size
       )
       UPDATE accounts SET used_bytes = greatest(0, used_bytes - f.bytes)
       FROM (SELECT coalesce(sum(size), 0) AS bytes FROM freed) f
       WHERE id = $1 AND f.bytes > 0`,
    values: [accountId, messageIds],
  });
}
