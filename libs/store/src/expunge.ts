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
 * call (one transaction): the mailbox_messages rows go, each UID is recorded in `expunged` with one new MODSEQ
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
  // One call (migrations/0390_imap_expunge_call.sql): the account lock, the removal, the new MODSEQ and
  // the VANISHED records in one statement, then the freeing of what no mailbox holds any more in a
  // second that sees the removal; one round trip and one commit. Its statements run plans made once
  // per connection, lookups by key (migrations/0480_imap_expunge_generic_plans.sql).
  // One UID (a client expunging the message it just marked) calls the same steps without what serves
  // many (migrations/0502_imap_expunge_one_call.sql).
  const onlyDeleted = request.onlyDeleted ?? false;
  const { rows } = await pool.query<{ expunged_uid: string; expunged_modseq: string }>(
    uids.length === 1
      ? {
          name: 'expunge-message',
          text: 'SELECT expunged_uid, expunged_modseq FROM correo_expunge_message($1, $2, $3, $4)',
          values: [accountId, mailboxId, uids[0], onlyDeleted],
        }
      : {
          name: 'expunge-messages',
          text: 'SELECT expunged_uid, expunged_modseq FROM correo_expunge_messages($1, $2, $3::bigint[], $4)',
          values: [accountId, mailboxId, uids, onlyDeleted],
        },
  );
  const first = rows[0];
  const outcome: ExpungeResult = first
    ? { expunged: rows.map((row) => Number(row.expunged_uid)), modseq: Number(first.expunged_modseq) }
    : { expunged: [], modseq: null };
  if (outcome.modseq === null) return { expunged: [], modseq: null };
  await changes.publish(accountId, { mailboxId, modseq: outcome.modseq, kind: request.kind ?? 'expunge' });
  return outcome;
}
