import type { MailboxWriter } from '../mailbox-writer.js';
import type { Pool } from '../pool.js';
import { inAccountTransaction } from './account-transaction.js';

/** One annotation (RFC 5464): its lowercased entry name and value. */
export interface ImapMetadataEntry {
  entry: string;
  value: Buffer;
}

/** How far below a requested entry GETMETADATA reads (RFC 5464 4.2.2). */
export type ImapMetadataDepth = '0' | '1' | 'infinity';

/**
 * The entries of the server (`mailboxId` null) or of one of the account's mailboxes that the requested
 * names (lowercased) cover to `depth`, in entry order. Scoped by account: another account's mailbox id
 * finds nothing.
 */
export async function readImapMetadata(
  pool: Pool,
  accountId: string,
  mailboxId: string | null,
  entries: readonly string[],
  depth: ImapMetadataDepth,
): Promise<ImapMetadataEntry[]> {
  const { rows } = await pool.query<{ entry: string; value: Buffer }>(
    `SELECT entry, value FROM imap_metadata
      WHERE account_id = $1 AND mailbox_id IS NOT DISTINCT FROM $2 AND (
        entry = ANY($3::text[])
        OR ($4 <> '0' AND EXISTS (
          SELECT 1 FROM unnest($3::text[]) AS asked(name)
           WHERE starts_with(entry, asked.name || '/')
             AND ($4 = 'infinity' OR strpos(substr(entry, length(asked.name) + 2), '/') = 0))))
      ORDER BY entry`,
    [accountId, mailboxId, entries, depth],
  );
  return rows.map((row) => ({ entry: row.entry, value: row.value }));
}

/** Per-account limits on annotations (IMAP_METADATA_MAX_ENTRIES, IMAP_METADATA_MAX_SIZE). */
export interface ImapMetadataLimits {
  /** Entries an account may hold, server and mailbox ones together. */
  maxEntries: number;
  /** Octets of one value. */
  maxSize: number;
}

export type SetMetadataOutcome =
  { kind: 'set' } | { kind: 'nonexistent' } | { kind: 'maxsize'; maxSize: number } | { kind: 'toomany' };

/**
 * SETMETADATA: writes (value) or deletes (null) every entry, all or none (RFC 5464 4.3), under the
 * account lock so that two sessions cannot both pass the count limit, then publishes a 'metadata'
 * change with the entry names. `mailboxId` null: the server.
 */
export async function writeImapMetadata(
  writer: MailboxWriter,
  accountId: string,
  mailboxId: string | null,
  values: ReadonlyArray<{ entry: string; value: Buffer | null }>,
  limits: ImapMetadataLimits,
): Promise<SetMetadataOutcome> {
  if (values.some(({ value }) => value !== null && value.length > limits.maxSize)) {
    return { kind: 'maxsize', maxSize: limits.maxSize };
  }
  const outcome = await inAccountTransaction(
    writer.pool,
    accountId,
    async (client): Promise<SetMetadataOutcome> => {
      if (mailboxId !== null) {
        const found = await client.query('SELECT 1 FROM mailboxes WHERE account_id = $1 AND id = $2', [
          accountId,
          mailboxId,
        ]);
        if (!found.rowCount) return { kind: 'nonexistent' };
      }
      // The last value given for an entry wins, as if they were set one after another.
      const last = new Map(values.map(({ entry, value }) => [entry, value]));
      const removed = [...last].filter(([, value]) => value === null).map(([entry]) => entry);
      const written = [...last].filter((pair): pair is [string, Buffer] => pair[1] !== null);
      if (removed.length) {
        await client.query(
          `DELETE FROM imap_metadata
          WHERE account_id = $1 AND mailbox_id IS NOT DISTINCT FROM $2 AND entry = ANY($3::text[])`,
          [accountId, mailboxId, removed],
        );
      }
      for (const [entry, value] of written) {
        await client.query(
          `INSERT INTO imap_metadata (account_id, mailbox_id, entry, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, coalesce(mailbox_id, 0), entry)
         DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
          [accountId, mailboxId, entry, value],
        );
      }
      if (written.length) {
        const { rows } = await client.query<{ count: string }>(
          'SELECT count(*) AS count FROM imap_metadata WHERE account_id = $1',
          [accountId],
        );
        // Thrown so that the transaction rolls back what this command wrote.
        if (Number(rows[0]!.count) > limits.maxEntries) throw new TooManyEntries();
      }
      return { kind: 'set' };
    },
  ).catch((error: unknown) => {
    if (error instanceof TooManyEntries) return { kind: 'toomany' } as const;
    throw error;
  });
  if (outcome?.kind !== 'set') return outcome ?? { kind: 'nonexistent' };
  // Told after the commit, like every mailbox write: NOTIFY's MailboxMetadataChange / ServerMetadataChange.
  await writer.changes.publish(accountId, {
    mailboxId: mailboxId ?? '',
    modseq: 0,
    kind: 'metadata',
    entries: [...new Set(values.map((v) => v.entry))],
  });
  return outcome;
}

class TooManyEntries extends Error {}
