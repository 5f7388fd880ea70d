import { readStoredEnvelope } from '@correo/mime';
import type { Envelope } from '@correo/mime';
import { sortKeyColumns } from '../delivery.js';
import type { MessageSortKeys } from '../delivery.js';
import type { Pool } from '../pool.js';

/** What the sort keys are derived from for a row stored before they were kept. */
export interface ImapSortKeySource {
  messageRowId: string;
  /** The stored ENVELOPE; null when none is stored. */
  envelope: Envelope | null;
  messageId: string | null;
  inReplyTo: string | null;
}

/**
 * What SORT and THREAD read about one message of the selected mailbox: columns only, no blob. Either
 * the kept keys, or (rows stored before they were kept) what to derive them from.
 */
export type ImapSortRow = {
  uid: number;
  size: number;
  internalDate: Date;
  /** The Date header; null when absent or unparseable (SORT DATE then uses the internal date). */
  sentDate: Date | null;
  /** The decoded Subject (THREAD asks whether it marks a reply or forward). */
  subject: string | null;
} & ({ keys: MessageSortKeys; source: null } | { keys: null; source: ImapSortKeySource });

/** The sort rows of `uids` (UIDs no longer in the mailbox are absent), in UID order. */
export async function readImapSortRows(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  uids: readonly number[],
): Promise<ImapSortRow[]> {
  if (uids.length === 0) return [];
  const { rows } = await pool.query<{
    uid: string;
    size: string;
    internal_date: Date;
    header_date: Date | null;
    filled: boolean;
    id: string;
    sort_subject: string | null;
    sort_from: string | null;
    sort_to: string | null;
    sort_cc: string | null;
    sort_display_from: string | null;
    sort_display_to: string | null;
    thread_message_id: string | null;
    thread_references: string[] | null;
    header_subject: string | null;
    envelope_json: unknown;
    header_message_id: string | null;
    header_in_reply_to: string | null;
  }>(
    `SELECT mm.uid, m.size, m.internal_date, m.header_date, m.sort_keys_filled AS filled, m.id,
       m.sort_subject, m.sort_from, m.sort_to, m.sort_cc, m.sort_display_from, m.sort_display_to,
       m.thread_message_id, m.thread_references,
       m.header_subject,
       CASE WHEN m.sort_keys_filled THEN NULL ELSE m.envelope_json END AS envelope_json,
       CASE WHEN m.sort_keys_filled THEN NULL ELSE m.header_message_id END AS header_message_id,
       CASE WHEN m.sort_keys_filled THEN NULL ELSE m.header_in_reply_to END AS header_in_reply_to
     FROM mailbox_messages mm
     JOIN messages m ON m.id = mm.message_id AND m.account_id = mm.account_id
     WHERE mm.account_id = $1 AND mm.mailbox_id = $2 AND mm.uid = ANY($3::bigint[])
     ORDER BY mm.uid`,
    [accountId, mailboxId, uids],
  );
  return rows.map((row): ImapSortRow => {
    const columns = {
      uid: Number(row.uid),
      size: Number(row.size),
      internalDate: row.internal_date,
      sentDate: row.header_date,
      subject: row.header_subject,
    };
    if (!row.filled) {
      const source = {
        messageRowId: row.id,
        envelope:
          row.envelope_json === null
            ? null
            : readStoredEnvelope(row.envelope_json, `UID ${row.uid} of mailbox ${mailboxId}`),
        messageId: row.header_message_id,
        inReplyTo: row.header_in_reply_to,
      };
      return { ...columns, keys: null, source };
    }
    const keys = {
      subject: row.sort_subject ?? '',
      from: row.sort_from ?? '',
      to: row.sort_to ?? '',
      cc: row.sort_cc ?? '',
      displayFrom: row.sort_display_from ?? '',
      displayTo: row.sort_display_to ?? '',
      messageId: row.thread_message_id,
      references: row.thread_references ?? [],
    };
    return { ...columns, keys, source: null };
  });
}

/** Rows written per UPDATE when old rows get their keys. */
const FILL_BATCH = 1000;

/** Writes the keys derived for rows stored before they were kept; later SORTs read them directly. */
export async function fillSortKeys(
  pool: Pool,
  accountId: string,
  filled: readonly { messageRowId: string; keys: MessageSortKeys }[],
): Promise<void> {
  for (let i = 0; i < filled.length; i += FILL_BATCH) {
    const batch = filled.slice(i, i + FILL_BATCH).map(({ messageRowId, keys }) => {
      const [subject, from, to, cc, displayFrom, displayTo, messageId, refs] = sortKeyColumns(keys);
      return { id: messageRowId, subject, from, to, cc, displayFrom, displayTo, messageId, refs };
    });
    await pool.query(
      `UPDATE messages m SET sort_subject = k.subject, sort_from = k."from", sort_to = k."to",
         sort_cc = k.cc, sort_display_from = k."displayFrom", sort_display_to = k."displayTo",
         thread_message_id = k."messageId", thread_references = k.refs, sort_keys_filled = TRUE
       FROM jsonb_to_recordset($2::jsonb) AS k(id bigint, subject text, "from" text, "to" text, cc text,
         "displayFrom" text, "displayTo" text, "messageId" text, refs text[])
       WHERE m.account_id = $1 AND m.id = k.id`,
      [accountId, JSON.stringify(batch)],
    );
  }
}
