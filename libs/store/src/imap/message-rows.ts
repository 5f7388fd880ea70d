import { readStoredBodyStructure, readStoredEnvelope } from '@correo/mime';
import type { BodyStructure, Envelope } from '@correo/mime';
import type { Pool } from '../pool.js';

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
}

export interface ReadMessagesOptions {
  envelope?: boolean;
  bodystructure?: boolean;
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
  const { rows } = await pool.query<{
    uid: string;
    modseq: string;
    flags: string[];
    blob_key: string;
    size: string;
    internal_date: Date;
    envelope_json: unknown;
    bodystructure_json: unknown;
  }>({
    // Named (four texts at most): PostgreSQL parses and plans each once per connection, not per FETCH;
    // parsing and planning were most of its CPU per command in the IMAP benchmark's profile.
    name: `imap-read-messages-${options.envelope ? 'e' : ''}${options.bodystructure ? 'b' : ''}`,
    text: `SELECT mm.uid, mm.modseq, mm.flags, m.blob_key, m.size, m.internal_date,
       ${options.envelope ? 'm.envelope_json' : 'NULL AS envelope_json'},
       ${options.bodystructure ? 'm.bodystructure_json' : 'NULL AS bodystructure_json'}
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
    };
  });
}
