import type pg from 'pg';
import type { Pool } from '../pool.js';
import { freeOrphans, inAccountTransaction } from './account-transaction.js';

/** One folder of an account as IMAP LIST, STATUS and SELECT see it. Names use '/' as the delimiter. */
export interface ImapMailbox {
  id: string;
  name: string;
  specialUse: string | null;
  subscribed: boolean;
}

export const MAILBOX_DELIMITER = '/';

export async function listImapMailboxes(pool: Pool, accountId: string): Promise<ImapMailbox[]> {
  const { rows } = await pool.query<{
    id: string;
    name: string;
    special_use: string | null;
    subscribed: boolean;
  }>('SELECT id, name, special_use, subscribed FROM mailboxes WHERE account_id = $1 ORDER BY name', [
    accountId,
  ]);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    specialUse: row.special_use,
    subscribed: row.subscribed,
  }));
}

export async function findImapMailbox(
  pool: Pool,
  accountId: string,
  name: string,
): Promise<ImapMailbox | null> {
  const { rows } = await pool.query<{
    id: string;
    name: string;
    special_use: string | null;
    subscribed: boolean;
  }>({
    // Named: SELECT and APPEND look a mailbox up by name every time (parsed and planned once per connection).
    name: 'imap-find-mailbox',
    text: 'SELECT id, name, special_use, subscribed FROM mailboxes WHERE account_id = $1 AND name = $2',
    values: [accountId, name],
  });
  const row = rows[0];
  return row ? { id: row.id, name: row.name, specialUse: row.special_use, subscribed: row.subscribed } : null;
}

export type CreateMailboxOutcome = { kind: 'created'; id: string } | { kind: 'exists' };

/**
 * Creates `name` and any missing parents (RFC 9051 6.3.4 lets a server create the superior
 * hierarchy); answers 'exists' when `name` itself is taken. Neither is subscribed: the subscription
 * list is the client's (SUBSCRIBE), so LIST RETURN (SUBSCRIBED), LIST (SUBSCRIBED) and LSUB show only
 * what it chose (RFC 5258 3, RFC 3501 6.3.9), as in Dovecot. The account's default folders, made by the
 * directory, stay subscribed.
 */
export async function createImapMailbox(
  pool: Pool,
  accountId: string,
  name: string,
  specialUse: string | null = null,
): Promise<CreateMailboxOutcome> {
  const outcome = await inAccountTransaction(pool, accountId, async (client) => {
    const parts = name.split(MAILBOX_DELIMITER);
    for (let i = 1; i < parts.length; i++) {
      await client.query(
        `INSERT INTO mailboxes (account_id, name, subscribed) VALUES ($1, $2, false)
         ON CONFLICT (account_id, name) DO NOTHING`,
        [accountId, parts.slice(0, i).join(MAILBOX_DELIMITER)],
      );
    }
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO mailboxes (account_id, name, special_use, subscribed) VALUES ($1, $2, $3, false)
       ON CONFLICT (account_id, name) DO NOTHING RETURNING id`,
      [accountId, name, specialUse],
    );
    if (rows[0]) await adoptLingeringSubscriptions(client, accountId, prefixesAndSelf(name));
    return rows[0] ? ({ kind: 'created', id: rows[0].id } as const) : ({ kind: 'exists' } as const);
  });
  return outcome ?? { kind: 'exists' };
}

export type DeleteMailboxOutcome = 'deleted' | 'nonexistent' | 'has-children';

/**
 * Deletes a folder with its messages. A folder with children is refused ([HASCHILDREN]): we keep no
 * \Noselect placeholders, so deleting a parent would orphan its children's names.
 */
export async function deleteImapMailbox(
  pool: Pool,
  accountId: string,
  name: string,
): Promise<DeleteMailboxOutcome> {
  const outcome = await inAccountTransaction(
    pool,
    accountId,
    async (client): Promise<DeleteMailboxOutcome> => {
      const children = await client.query(
        `SELECT 1 FROM mailboxes WHERE account_id = $1 AND starts_with(name, $2) LIMIT 1`,
        [accountId, name + MAILBOX_DELIMITER],
      );
      if (children.rowCount) return 'has-children';
      const found = await client.query<{ id: string; subscribed: boolean }>(
        'SELECT id, subscribed FROM mailboxes WHERE account_id = $1 AND name = $2 FOR UPDATE',
        [accountId, name],
      );
      const mailboxId = found.rows[0]?.id;
      if (!mailboxId) return 'nonexistent';
      // The name stays subscribed without its mailbox (RFC 9051 6.3.7): LIST shows it \NonExistent.
      if (found.rows[0]!.subscribed) {
        await client.query(
          'INSERT INTO lingering_subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING',
          [accountId, name],
        );
      }
      const held = await client.query<{ message_id: string }>(
        'DELETE FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 RETURNING message_id',
        [accountId, mailboxId],
      );
      await freeOrphans(
        client,
        accountId,
        held.rows.map((row) => row.message_id),
      );
      await client.query('DELETE FROM mailboxes WHERE id = $1 AND account_id = $2', [mailboxId, accountId]);
      return 'deleted';
    },
  );
  return outcome ?? 'nonexistent';
}

export type RenameMailboxOutcome = 'renamed' | 'nonexistent' | 'exists';

/**
 * Renames a folder and its children. Renaming INBOX moves its messages (UIDs kept) into a new folder
 * and leaves INBOX empty, as RFC 9051 6.3.6 asks; the moved UIDs count as expunged from INBOX.
 */
export async function renameImapMailbox(
  pool: Pool,
  accountId: string,
  from: string,
  to: string,
): Promise<RenameMailboxOutcome> {
  const outcome = await inAccountTransaction(
    pool,
    accountId,
    async (client): Promise<RenameMailboxOutcome> => {
      const source = await client.query<{ id: string; uidnext: string }>(
        'SELECT id, uidnext FROM mailboxes WHERE account_id = $1 AND name = $2 FOR UPDATE',
        [accountId, from],
      );
      const sourceRow = source.rows[0];
      if (!sourceRow) return 'nonexistent';
      const taken = await client.query(
        `SELECT 1 FROM mailboxes WHERE account_id = $1 AND (name = $2 OR starts_with(name, $3)) LIMIT 1`,
        [accountId, to, to + MAILBOX_DELIMITER],
      );
      if (taken.rowCount) return 'exists';
      const parts = to.split(MAILBOX_DELIMITER);
      for (let i = 1; i < parts.length; i++) {
        await client.query(
          // A parent RENAME makes is not subscribed, as one CREATE makes.
          `INSERT INTO mailboxes (account_id, name, subscribed) VALUES ($1, $2, false)
           ON CONFLICT (account_id, name) DO NOTHING`,
          [accountId, parts.slice(0, i).join(MAILBOX_DELIMITER)],
        );
      }
      if (from === 'INBOX') {
        const created = await client.query<{ id: string }>(
          'INSERT INTO mailboxes (account_id, name, uidnext) VALUES ($1, $2, $3) RETURNING id',
          [accountId, to, sourceRow.uidnext],
        );
        const moved = await client.query<{ uid: string }>(
          `UPDATE mailbox_messages SET mailbox_id = $3 WHERE account_id = $1 AND mailbox_id = $2 RETURNING uid`,
          [accountId, sourceRow.id, created.rows[0]!.id],
        );
        if (moved.rowCount) {
          const bumped = await client.query<{ highestmodseq: string }>(
            'UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq',
            [sourceRow.id],
          );
          await client.query(
            'INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING',
            [sourceRow.id, moved.rows.map((row) => row.uid), bumped.rows[0]!.highestmodseq],
          );
        }
        await adoptLingeringSubscriptions(client, accountId, prefixesAndSelf(to));
        return 'renamed';
      }
      await client.query(
        `UPDATE mailboxes SET name = $3 || substr(name, length($2) + 1)
       WHERE account_id = $1 AND (name = $2 OR starts_with(name, $2 || '/'))`,
        [accountId, from, to],
      );
      await adoptLingeringSubscriptions(client, accountId, prefixesAndSelf(to));
      return 'renamed';
    },
  );
  return outcome ?? 'nonexistent';
}

/** SUBSCRIBE / UNSUBSCRIBE; false when the folder does not exist. */
export async function setImapSubscription(
  pool: Pool,
  accountId: string,
  name: string,
  subscribed: boolean,
): Promise<boolean> {
  const result = await pool.query(
    'UPDATE mailboxes SET subscribed = $3 WHERE account_id = $1 AND name = $2',
    [accountId, name, subscribed],
  );
  if (result.rowCount === 1 || subscribed) return result.rowCount === 1;
  const lingering = await pool.query(
    'DELETE FROM lingering_subscriptions WHERE account_id = $1 AND name = $2',
    [accountId, name],
  );
  return lingering.rowCount === 1;
}

/** Subscribed names whose mailbox was deleted (LIST (SUBSCRIBED) shows them \NonExistent), by name. */
export async function listLingeringSubscriptions(pool: Pool, accountId: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    'SELECT name FROM lingering_subscriptions WHERE account_id = $1 ORDER BY name',
    [accountId],
  );
  return rows.map((row) => row.name);
}

function prefixesAndSelf(name: string): string[] {
  const parts = name.split(MAILBOX_DELIMITER);
  return parts.map((_, i) => parts.slice(0, i + 1).join(MAILBOX_DELIMITER));
}

/** Mailboxes made under names still subscribed from an earlier life are subscribed again. */
async function adoptLingeringSubscriptions(
  client: pg.PoolClient,
  accountId: string,
  names: string[],
): Promise<void> {
  await client.query(
    `WITH adopted AS (
       DELETE FROM lingering_subscriptions l WHERE l.account_id = $1 AND l.name = ANY($2::text[])
         AND EXISTS (SELECT 1 FROM mailboxes m WHERE m.account_id = $1 AND m.name = l.name)
       RETURNING l.name)
     UPDATE mailboxes SET subscribed = true WHERE account_id = $1 AND name IN (SELECT name FROM adopted)`,
    [accountId, names],
  );
}
