import type { Pool } from '../pool.js';

/**
 * What the newer FETCH items read (SAVEDATE, EMAILID, THREADID, PREVIEW): read apart from
 * readImapMessages, and only when a FETCH asks for one of them, so the common FETCH pays nothing.
 */
export interface ImapMessageExtras {
  uid: number;
  /** When the message was put in this mailbox (delivery, APPEND, COPY or MOVE): SAVEDATE. */
  savedAt: Date;
  /** The message row: the same across COPY and MOVE, which place the same row again. */
  messageId: string;
  /** The thread's root message row, fixed when the message was stored. */
  threadRootId: string;
  /** Kept PREVIEW text; null until first computed. */
  preview: string | null;
}

export async function readImapMessageExtras(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  uids: readonly number[],
): Promise<Map<number, ImapMessageExtras>> {
  const extras = new Map<number, ImapMessageExtras>();
  if (uids.length === 0) return extras;
  const { rows } = await pool.query<{
    uid: string;
    created_at: Date;
    message_id: string;
    thread_root: string;
    preview: string | null;
  }>(
    `SELECT mm.uid, mm.created_at, mm.message_id, coalesce(m.thread_id, m.id) AS thread_root, m.preview
     FROM mailbox_messages mm
     JOIN messages m ON m.id = mm.message_id AND m.account_id = mm.account_id
     WHERE mm.account_id = $1 AND mm.mailbox_id = $2 AND mm.uid = ANY($3::bigint[])`,
    [accountId, mailboxId, uids],
  );
  for (const row of rows) {
    const uid = Number(row.uid);
    extras.set(uid, {
      uid,
      savedAt: row.created_at,
      messageId: row.message_id,
      threadRootId: row.thread_root,
      preview: row.preview,
    });
  }
  return extras;
}

/** Keeps computed PREVIEW texts (message row id -> text); a row that has one keeps it. */
export async function keepImapPreviews(
  pool: Pool,
  accountId: string,
  previews: ReadonlyMap<string, string>,
): Promise<void> {
  if (previews.size === 0) return;
  await pool.query(
    `UPDATE messages m SET preview = p.preview
     FROM unnest($2::bigint[], $3::text[]) AS p(id, preview)
     WHERE m.account_id = $1 AND m.id = p.id AND m.preview IS NULL`,
    [accountId, [...previews.keys()], [...previews.values()]],
  );
}
