import type { Pool } from './pool.js';

export interface ExpungeRequest {
  accountId: string;
  mailboxId: string;
  uids: readonly number[];
}

export interface ExpungeResult {
  /** The UIDs really removed (ascending); those already gone are skipped. */
  expunged: number[];
  /** The mailbox's new HIGHESTMODSEQ, the MODSEQ of every expunged UID; null when nothing changed. */
  modseq: number | null;
}

/**
 * Removes messages from a mailbox as an IMAP EXPUNGE does (POP3's UPDATE state uses it too), in one
 * transaction: the mailbox_messages rows go, each UID is recorded in `expunged` with one new MODSEQ
 * (for QRESYNC VANISHED), HIGHESTMODSEQ moves on, message rows no mailbox holds any more are deleted
 * and the account's used_bytes shrinks by their size. Blobs stay: they are shared by content.
 *
 * The account row is locked first, as deliverToMailbox does, so an expunge and a delivery to the
 * same account are serialised in one lock order and cannot deadlock or hand out a stale MODSEQ.
 */
export async function expungeMessages(pool: Pool, request: ExpungeRequest): Promise<ExpungeResult> {
  const { accountId, mailboxId } = request;
  const uids = [...new Set(request.uids)].sort((a, b) => a - b);
  if (uids.length === 0) return { expunged: [], modseq: null };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
    const removed = await client.query<{ uid: string; message_id: string }>(
      `DELETE FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 AND uid = ANY($3::bigint[])
       RETURNING uid, message_id`,
      [accountId, mailboxId, uids],
    );
    if (removed.rows.length === 0) {
      await client.query('COMMIT');
      return { expunged: [], modseq: null };
    }
    const expunged = removed.rows.map((row) => Number(row.uid)).sort((a, b) => a - b);
    const bumped = await client.query<{ highestmodseq: string }>(
      `UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 AND account_id = $2
       RETURNING highestmodseq`,
      [mailboxId, accountId],
    );
    const modseq = Number(bumped.rows[0]!.highestmodseq);
    await client.query('INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $1, unnest($2::bigint[]), $3', [
      mailboxId,
      expunged,
      modseq,
    ]);
    const freed = await client.query<{ size: string }>(
      `DELETE FROM messages m
       WHERE m.account_id = $1 AND m.id = ANY($2::bigint[])
         AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.account_id = $1 AND mm.message_id = m.id)
       RETURNING m.size`,
      [accountId, removed.rows.map((row) => row.message_id)],
    );
    const freedBytes = freed.rows.reduce((sum, row) => sum + Number(row.size), 0);
    if (freedBytes > 0) {
      await client.query('UPDATE accounts SET used_bytes = greatest(0, used_bytes - $2) WHERE id = $1', [
        accountId,
        freedBytes,
      ]);
    }
    await client.query('COMMIT');
    return { expunged, modseq };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
