import { readStoredBodyStructure, readStoredEnvelope } from '@correo/mime';
import type { BodyStructure, Envelope } from '@correo/mime';
import type { Pool } from '../pool.js';
// The same expressions as the SQL SEARCH: the gateway's answer from these columns must be the store's.
import { HEADER_DATE_SQL, INTERNAL_DAY_SQL } from './search.js';

/**
 * The columns SEARCH tests: the summary columns it tests as substrings (libs/store imap/search.ts
 * HEADER_COLUMNS and TEXT_COLUMNS), as stored, null where the column is NULL (an empty search string
 * tells the two apart), and the days its date keys compare.
 */
export interface ImapSearchFacts {
  subject: string | null;
  from: string | null;
  to: string | null;
  cc: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  /** The stored ENVELOPE's date (`envelope_json->>'date'`): the Date header as written. */
  date: string | null;
  /** The day BEFORE, ON and SINCE compare, as PostgreSQL writes a date (YYYY-MM-DD under DateStyle ISO). */
  internalDay: string;
  /** The day SENTBEFORE, SENTON and SENTSINCE compare, likewise; null without a usable Date header. */
  sentDay: string | null;
}

/** What FETCH reads about one message of the selected mailbox without opening its blob. */
export interface ImapMessageRow {
  uid: number;
  modseq: number;
  flags: string[];
  blobKey: string;
  size: number;
  internalDate: Date;
  /** Undefined unless asked for. */
  envelope?: Envelope;
  /** With part offsets; undefined unless asked for, null when none is stored (read the whole message). */
  bodystructure?: BodyStructure | null;
  /** Undefined unless asked for. */
  search?: ImapSearchFacts;
}

export interface ReadMessagesOptions {
  envelope?: boolean;
  bodystructure?: boolean;
  /** The summary columns SEARCH tests (the gateway answers SEARCH from them in memory). */
  search?: boolean;
}

/**
 * The rows of `uids` (one batch of a FETCH: callers slice big sets, so one query serves many messages
 * and JSON columns are read only when the FETCH needs them). UIDs no longer in the mailbox are absent.
 * The JSON is read through @correo/mime's stored shape: a row it cannot read throws StoredShapeError.
 */
export async function readImapMessages(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  uids: readonly number[],
  options: ReadMessagesOptions = {},
): Promise<ImapMessageRow[]> {
  if (uids.length === 0) return [];
  const variant = `${options.envelope ? 'e' : ''}${options.bodystructure ? 'b' : ''}${options.search ? 's' : ''}`;
  const { rows } = await pool.query<{
    uid: string;
    modseq: string;
    flags: string[];
    blob_key: string;
    size: string;
    internal_date: Date;
    envelope_json: unknown;
    bodystructure_json: unknown;
    header_subject: string | null;
    header_from: string | null;
    header_to: string | null;
    header_cc: string | null;
    header_message_id: string | null;
    header_in_reply_to: string | null;
    header_date: string | null;
    internal_day: string;
    sent_day: string | null;
  }>({
    // Named (eight texts at most): PostgreSQL parses and plans each once per connection, not per FETCH;
    // parsing and planning were most of its CPU per command in the IMAP benchmark's profile.
    name: `imap-read-messages-${variant}`,
    text: `SELECT mm.uid, mm.modseq, mm.flags, m.blob_key, m.size, m.internal_date,
       ${options.envelope ? 'm.envelope_json' : 'NULL AS envelope_json'},
       ${options.bodystructure ? 'm.bodystructure_json' : 'NULL AS bodystructure_json'}${
         options.search
           ? `, m.header_subject, m.header_from, m.header_to, m.header_cc, m.header_message_id,
       m.header_in_reply_to, ${HEADER_DATE_SQL} AS header_date,
       ${INTERNAL_DAY_SQL}::text AS internal_day,
       m.sent_day::text AS sent_day`
           : ''
       }
     FROM mailbox_messages mm
     JOIN messages m ON m.id = mm.message_id AND m.account_id = mm.account_id
     WHERE mm.account_id = $1 AND mm.mailbox_id = $2 AND mm.uid = ANY($3::bigint[])
     ORDER BY mm.uid`,
    values: [accountId, mailboxId, uids],
  });
  return rows.map((row) => {
    const where = `UID ${row.uid} of mailbox ${mailboxId}`;
    return {
      uid: Number(row.uid),
      modseq: Number(row.modseq),
      flags: row.flags,
      blobKey: row.blob_key,
      size: Number(row.size),
      internalDate: row.internal_date,
      ...(options.envelope ? { envelope: readStoredEnvelope(row.envelope_json, where) } : {}),
      ...(options.bodystructure
        ? {
            bodystructure:
              row.bodystructure_json === null ? null : readStoredBodyStructure(row.bodystructure_json, where),
          }
        : {}),
      ...(options.search
        ? {
            search: {
              subject: row.header_subject,
              from: row.header_from,
              to: row.header_to,
              cc: row.header_cc,
              messageId: row.header_message_id,
              inReplyTo: row.header_in_reply_to,
              date: row.header_date,
              internalDay: row.internal_day,
              sentDay: row.sent_day,
            },
          }
        : {}),
    };
  });
}
