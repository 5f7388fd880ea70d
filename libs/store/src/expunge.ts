import { freeOrphans } from './imap/account-transaction.js';
import { inTransaction } from './transaction.js';
import type { MailboxWriter } from './mailbox-writer.js';

export interface ExpungeRequest {
  accountId: string;
  mailboxId: string;
  uids: readonly number[];
  /** How the change is published: 'move' for the second half of an IMAP MOVE. Default 'expunge'. */
  kind?: 'expunge' | 'move';
  /**
   * Remove only those of `uids` whose stored flags hold \Deleted when the account lock is held (IMAP
   * EXPUNGE): the caller chose them from a session's view, which may miss another session's -FLAGS.
   */
  onlyDeleted?: boolean;
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
 * After the commit, the change is published on the writer's feed.
 */
export async function expungeMessages(
  writer: MailboxWriter,
  request: ExpungeRequest,
): Promise<ExpungeResult> {
  const { pool, changes } = writer;
  const { accountId, mailboxId } = request;
  const uids = [...new Set(request.uids)].sort((a, b) => a - b);
  if (uids.length === 0) return { expunged: [], modseq: null };
  // One statement for the account lock (first, an init plan), the removal, the new MODSEQ and the
  // VANISHED records; a second frees what no mailbox holds any more (it must see the removal).
  const outcome = await inTransaction(pool, async (client): Promise<ExpungeResult> => {
    const removed = await client.query<{ uid: string; message_id: string; modseq: string }>({
      name: 'expunge-messages',
      text: `WITH account AS (
           SELECT id FROM accounts WHERE id = $1 FOR UPDATE
         ), removed AS (
           DELETE FROM mailbox_messages
           WHERE account_id = $1 AND mailbox_id = $2 AND uid = ANY($3::bigint[]) AND EXISTS (SELECT 1 FROM account)
             AND (NOT $4::boolean OR '\\Deleted' = ANY(flags))
           RETURNING uid, message_id
         ), allocated AS (
           UPDATE mailboxes SET highestmodseq = highestmodseq + 1
           WHERE id = $2 AND account_id = $1 AND EXISTS (SELECT 1 FROM removed)
           RETURNING highestmodseq AS modseq
         ), recorded AS (
           INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $2, r.uid, a.modseq FROM removed r, allocated a
         )
         SELECT r.uid, r.message_id, a.modseq FROM removed r, allocated a ORDER BY r.uid`,
      values: [accountId, mailboxId, uids, request.onlyDeleted ?? false],
    });
    const first = removed.rows[0];
    if (!first) return { expunged: [], modseq: null };
    await freeOrphans(
      client,
      accountId,
      removed.rows.map((row) => row.message_id),
    );
    return { expunged: removed.rows.map((row) => Number(row.uid)), modseq: Number(first.modseq) };
  });
  if (outcome.modseq === null) return { expunged: [], modseq: null };
  await changes.publish(accountId, { mailboxId, modseq: outcome.modseq, kind: request.kind ?? 'expunge' });
  return outcome;
}
