import type { Pool } from './pool.js';
import { ensureMailbox } from './mailboxes.js';

export interface Pop3MaildropMessage {
  uid: number;
  /** messages.id */
  messageId: string;
  blobKey: string;
  /** messages.size: the blob's bytes as stored. */
  size: number;
  /** The octets RETR sends before dot-stuffing; null until computed once for this blob. */
  octets: number | null;
}

export interface Pop3MaildropSnapshot {
  mailboxId: string;
  uidvalidity: number;
  /** In ascending UID order, which is POP3's message numbering for the session. */
  messages: Pop3MaildropMessage[];
}

/** The account's INBOX (or `mailboxName`) as it is now, for one POP3 session. */
export async function readPop3Maildrop(
  pool: Pool,
  accountId: string,
  mailboxName = 'INBOX',
): Promise<Pop3MaildropSnapshot> {
  const mailboxId = await ensureMailbox(pool, accountId, mailboxName);
  const { rows } = await pool.query<{
    uidvalidity: string;
    uid: string | null;
    message_id: string | null;
    blob_key: string | null;
    size: string | null;
    octets: string | null;
  }>(
    // One statement, so the UIDVALIDITY and the message list come from the same snapshot.
    `SELECT mb.uidvalidity, mm.uid, m.id AS message_id, m.blob_key, m.size, o.octets
     FROM mailboxes mb
     LEFT JOIN mailbox_messages mm ON mm.mailbox_id = mb.id AND mm.account_id = mb.account_id
     LEFT JOIN messages m ON m.id = mm.message_id AND m.account_id = mm.account_id
     LEFT JOIN pop3_octets o ON o.blob_key = m.blob_key
     WHERE mb.id = $1 AND mb.account_id = $2
     ORDER BY mm.uid`,
    [mailboxId, accountId],
  );
  const first = rows[0];
  if (!first) throw new Error(`mailbox ${mailboxId} of account ${accountId} vanished`);
  const messages = rows
    .filter((row) => row.uid !== null)
    .map((row) => ({
      uid: Number(row.uid),
      messageId: row.message_id!,
      blobKey: row.blob_key!,
      size: Number(row.size),
      octets: row.octets === null ? null : Number(row.octets),
    }));
  return { mailboxId, uidvalidity: Number(first.uidvalidity), messages };
}

/** Keeps computed POP3 sizes; a blob's count never changes, so a concurrent writer's row is as good. */
export async function recordPop3Octets(
  pool: Pool,
  counts: readonly { blobKey: string; octets: number }[],
): Promise<void> {
  if (counts.length === 0) return;
  await pool.query(
    `INSERT INTO pop3_octets (blob_key, octets)
     SELECT * FROM unnest($1::text[], $2::bigint[])
     ON CONFLICT (blob_key) DO NOTHING`,
    [counts.map((count) => count.blobKey), counts.map((count) => count.octets)],
  );
}
