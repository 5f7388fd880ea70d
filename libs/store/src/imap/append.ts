import { asBlobCollected } from '../blob-collection.js';
import { messagesInsert, type MessageFacts } from '../delivery.js';
import type { MailboxWriter } from '../mailbox-writer.js';
import { storedBodiesInsert, type StoredBody } from '../message-bodies.js';

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
  /**
   * The name the caller knows the mailbox by (a session's earlier lookup): the APPEND files nothing and
   * answers 'nonexistent' when the mailbox is no longer called that (renamed meanwhile).
   */
  mailboxName?: string;
  /**
   * Bodies kept in message_bodies instead of the blob store (small ones, held in memory): written by
   * the same statement, so the commit that files the message makes its body durable, with no blob file,
   * fsync or rename of its own. Their keys are the messages' blob keys.
   */
  bodies?: StoredBody[];
}

export type AppendOutcome =
  | { kind: 'appended'; uidvalidity: number; uids: number[]; modseq: number; recentClaimed: boolean }
  | { kind: 'nonexistent' }
  | { kind: 'over-quota'; quotaBytes: number; usedBytes: number };

/**
 * IMAP APPEND, stored like a delivery (same rows, same quota accounting, UID and MODSEQ from the
 * mailbox row) but without a bus event, so without an idempotency key. Published after the commit.
 *
 * One statement, its own transaction: the account lock (first, the order deliveries and expunges
 * take), the quota check, the UIDs and MODSEQ, the charge, the messages rows, the mailbox rows and the
 * bodies kept in the database. It was seven round trips, then five (BEGIN, three, COMMIT), each a
 * wake-up of a PostgreSQL backend and of this thread (most of both sides' CPU per APPEND in the IMAP
 * benchmark's profile).
 */
export async function appendImapMessages(
  writer: MailboxWriter,
  request: AppendRequest,
): Promise<AppendOutcome> {
  const { accountId, mailboxId, messages } = request;
  const bytes = messages.reduce((sum, m) => sum + m.facts.size, 0);
  const flags = messages.map(({ flags }) => JSON.stringify([...new Set(flags)].sort()));
  const rows = messagesInsert(
    messages.map(({ facts }) => ({ accountId, message: facts, receivedEventId: null })),
    '(SELECT array_agg(id ORDER BY n) FROM drawn)',
    8,
  );
  const bodies = storedBodiesInsert(
    request.bodies ?? [],
    8 + rows.values.length,
    'EXISTS (SELECT 1 FROM allocated)',
  );
  // The quota is judged on the locked row (the FOR UPDATE returns its newest version, and the account
  // lock comes first, as in every change to the account); the writes run only when it fits and the
  // mailbox exists, so a refused APPEND writes nothing. Data-modifying CTEs all run, on one snapshot:
  // nothing here reads what another writer may have committed meanwhile but the two rows it locks.
  // The ids are drawn once (a CTE with a volatile function is evaluated once), one per element of the
  // flags array, which numbers the messages. Not generate_series(1, $4): PostgreSQL costs a generic plan
  // for 1,000 rows of it, so the generic plan always lost to a custom one and the statement was planned
  // again on every call (0.2-0.4 ms, a third of its PostgreSQL CPU); an unnest of a parameter is costed
  // as a few rows either way, and the plan prepared once is kept (test: imap-mailbox.test.ts).
  const result = await writer.pool
    .query<AllocatedRow>({
      name: bodies ? 'imap-append-with-bodies' : 'imap-append',
      text: `WITH account AS (
           SELECT quota_bytes, used_bytes FROM accounts WHERE id = $1 FOR UPDATE
         ), fits AS (
           SELECT 1 FROM account WHERE quota_bytes IS NULL OR used_bytes + $3 <= quota_bytes
         ), allocated AS (
           UPDATE mailboxes SET uidnext = uidnext + $4, highestmodseq = highestmodseq + 1,
             first_recent_uid = CASE WHEN first_recent_uid = $5::bigint AND uidnext = $5::bigint
               THEN uidnext + $4 ELSE first_recent_uid END
           WHERE id = $2 AND account_id = $1 AND ($7::text IS NULL OR name = $7) AND EXISTS (SELECT 1 FROM fits)
           RETURNING uidnext - $4 AS first_uid, highestmodseq AS modseq, uidvalidity, first_recent_uid
         ), charged AS (
           UPDATE accounts SET used_bytes = used_bytes + $3 WHERE id = $1 AND EXISTS (SELECT 1 FROM allocated)
         ), drawn AS (
           SELECT f.n, f.flags, nextval(pg_get_serial_sequence('messages', 'id')) AS id
           FROM unnest($6::jsonb[]) WITH ORDINALITY AS f(flags, n) WHERE EXISTS (SELECT 1 FROM allocated)
         ), inserted AS (
           ${rows.text}
         ), filed AS (
           INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, flags)
           SELECT $1, $2, a.first_uid + d.n - 1, d.id, a.modseq, ARRAY(SELECT jsonb_array_elements_text(d.flags))
           FROM allocated a, drawn d
         )${bodies ? `, bodies AS (${bodies.text})` : ''}
         SELECT a.quota_bytes, a.used_bytes, m.first_uid, m.modseq, m.uidvalidity, m.first_recent_uid
         FROM account a LEFT JOIN allocated m ON true`,
      values: [
        accountId,
        mailboxId,
        bytes,
        messages.length,
        request.claimRecentFrom ?? null,
        flags,
        request.mailboxName ?? null,
        ...rows.values,
        ...(bodies?.values ?? []),
      ],
    })
    .catch((error: unknown) => {
      throw asBlobCollected(error);
    });
  const outcome = appendOutcome(result.rows[0], request, bytes);
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

/** What the APPEND statement answers: the locked account's quota, and what it allocated (null: nothing). */
interface AllocatedRow {
  quota_bytes: string | null;
  used_bytes: string;
  first_uid: string | null;
  modseq: string | null;
  uidvalidity: string | null;
  first_recent_uid: string | null;
}

function appendOutcome(row: AllocatedRow | undefined, request: AppendRequest, bytes: number): AppendOutcome {
  if (!row) return { kind: 'nonexistent' }; // no such account: nothing written
  const quotaBytes = row.quota_bytes === null ? null : Number(row.quota_bytes);
  const usedBytes = Number(row.used_bytes);
  if (quotaBytes !== null && usedBytes + bytes > quotaBytes) {
    return { kind: 'over-quota', quotaBytes, usedBytes };
  }
  if (row.modseq === null || row.first_uid === null || row.uidvalidity === null) {
    return { kind: 'nonexistent' };
  }
  const firstUid = Number(row.first_uid);
  const count = request.messages.length;
  const uids = request.messages.map((_, i) => firstUid + i);
  // The mark moved to the new UIDNEXT only if this statement moved it (it was below before).
  const recentClaimed =
    request.claimRecentFrom !== undefined && Number(row.first_recent_uid) === firstUid + count;
  return {
    kind: 'appended',
    uidvalidity: Number(row.uidvalidity),
    uids,
    modseq: Number(row.modseq),
    recentClaimed,
  };
}
