import { insertMessages, type MessageFacts } from '../delivery.js';
import type { MailboxWriter } from '../mailbox-writer.js';
import { inTransaction } from '../transaction.js';

export interface AppendRequest {
  accountId: string;
  mailboxId: string;
  /** One message, or several for MULTIAPPEND: stored all or none. */
  messages: { facts: MessageFacts; flags: readonly string[] }[];
  /**
   * An IMAP4rev1 session with the mailbox selected read-write claims \Recent for what it appends in the
   * same statement, when both the mailbox's UIDNEXT and its first unclaimed UID are this one (the
   * session's UIDNEXT: no message arrived that it has not seen, and all it holds were claimed): a
   * compare-and-set as claimImapRecent's, saving that statement and its commit.
   */
  claimRecentFrom?: number;
}

export type AppendOutcome =
  | { kind: 'appended'; uidvalidity: number; uids: number[]; modseq: number; recentClaimed: boolean }
  | { kind: 'nonexistent' }
  | { kind: 'over-quota'; quotaBytes: number; usedBytes: number };

/**
 * IMAP APPEND, stored like a delivery (same rows, same quota accounting, UID and MODSEQ from the
 * mailbox row) but without a bus event, so without an idempotency key. Published after the commit.
 *
 * Three statements in the transaction: the account lock (first, the order deliveries and expunges
 * take), the quota check, the UIDs and MODSEQ, the charge and the message ids in one; the messages
 * rows; the mailbox rows. It was seven round trips, each a wake-up of a PostgreSQL backend and of
 * this thread (most of both sides' CPU per APPEND in the IMAP benchmark's profile).
 */
export async function appendImapMessages(
  writer: MailboxWriter,
  request: AppendRequest,
): Promise<AppendOutcome> {
  const { accountId, mailboxId, messages } = request;
  const bytes = messages.reduce((sum, m) => sum + m.facts.size, 0);
  const outcome = await inTransaction(writer.pool, async (client): Promise<AppendOutcome> => {
    // The quota is judged on the locked row (the FOR UPDATE returns its newest version); the UPDATEs
    // run only when it fits and the mailbox exists, so a refused APPEND writes nothing.
    const { rows } = await client.query<{
      quota_bytes: string | null;
      used_bytes: string;
      first_uid: string | null;
      modseq: string | null;
      uidvalidity: string | null;
      ids: string[] | null;
      first_recent_uid: string | null;
    }>({
      name: 'imap-append-allocate',
      text: `WITH account AS (
           SELECT quota_bytes, used_bytes FROM accounts WHERE id = $1 FOR UPDATE
         ), fits AS (
           SELECT 1 FROM account WHERE quota_bytes IS NULL OR used_bytes + $3 <= quota_bytes
         ), allocated AS (
           UPDATE mailboxes SET uidnext = uidnext + $4, highestmodseq = highestmodseq + 1,
             first_recent_uid = CASE WHEN first_recent_uid = $5::bigint AND uidnext = $5::bigint
               THEN uidnext + $4 ELSE first_recent_uid END
           WHERE id = $2 AND account_id = $1 AND EXISTS (SELECT 1 FROM fits)
           RETURNING uidnext - $4 AS first_uid, highestmodseq AS modseq, uidvalidity, first_recent_uid
         ), charged AS (
           UPDATE accounts SET used_bytes = used_bytes + $3 WHERE id = $1 AND EXISTS (SELECT 1 FROM allocated)
         )
         SELECT a.quota_bytes, a.used_bytes, m.first_uid, m.modseq, m.uidvalidity, m.first_recent_uid,
                CASE WHEN m.modseq IS NOT NULL THEN ARRAY(
                  SELECT nextval(pg_get_serial_sequence('messages', 'id'))::text FROM generate_series(1, $4)
                ) END AS ids
         FROM account a LEFT JOIN allocated m ON true`,
      values: [accountId, mailboxId, bytes, messages.length, request.claimRecentFrom ?? null],
    });
    const row = rows[0];
    if (!row) return { kind: 'nonexistent' }; // no such account: nothing written
    const quotaBytes = row.quota_bytes === null ? null : Number(row.quota_bytes);
    const usedBytes = Number(row.used_bytes);
    if (quotaBytes !== null && usedBytes + bytes > quotaBytes) {
      return { kind: 'over-quota', quotaBytes, usedBytes };
    }
    if (row.modseq === null || row.first_uid === null || row.uidvalidity === null || !row.ids) {
      return { kind: 'nonexistent' };
    }
    const firstUid = Number(row.first_uid);
    const modseq = Number(row.modseq);
    const messageIds = await insertMessages(
      client,
      messages.map(({ facts }) => ({ accountId, message: facts, receivedEventId: null })),
      row.ids,
    );
    const uids = messages.map((_, i) => firstUid + i);
    await client.query({
      name: 'imap-append-file',
      text: `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, flags)
         SELECT $1, $2, f.uid, f.message_id, $3, ARRAY(SELECT jsonb_array_elements_text(f.flags))
         FROM unnest($4::bigint[], $5::bigint[], $6::jsonb[]) AS f(uid, message_id, flags)`,
      values: [
        accountId,
        mailboxId,
        modseq,
        uids,
        messageIds,
        messages.map(({ flags }) => JSON.stringify([...new Set(flags)].sort())),
      ],
    });
    // The mark moved to the new UIDNEXT only if this statement moved it (it was below before).
    const recentClaimed =
      request.claimRecentFrom !== undefined && Number(row.first_recent_uid) === firstUid + messages.length;
    return { kind: 'appended', uidvalidity: Number(row.uidvalidity), uids, modseq, recentClaimed };
  });
  if (outcome.kind === 'appended') {
    const { modseq, uids } = outcome;
    await writer.changes.publish(accountId, {
      mailboxId,
      uid: uids[uids.length - 1]!,
      modseq,
      kind: 'append',
    });
  }
  return outcome;
}
