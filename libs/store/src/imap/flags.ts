import type { MailboxWriter } from '../mailbox-writer.js';
import type { Pool } from '../pool.js';
import { allocate, inAccountTransaction } from './account-transaction.js';
import type { ImapMessageState } from './mailbox-state.js';

export interface StoreFlagsRequest {
  accountId: string;
  mailboxId: string;
  uids: readonly number[];
  operation: 'replace' | 'add' | 'remove';
  flags: readonly string[];
  /** CONDSTORE UNCHANGEDSINCE: leave alone (and report) messages whose MODSEQ is above it. */
  unchangedSince?: number | null;
}

export interface StoreFlagsResult {
  /** Messages whose flags really changed, with their new flags and MODSEQ. */
  changed: ImapMessageState[];
  /** UIDs left alone because their MODSEQ was above UNCHANGEDSINCE (the MODIFIED response code). */
  modified: number[];
  /** Every UID of the request still in the mailbox, with its flags after the operation. */
  current: ImapMessageState[];
}

/**
 * STORE: changes the flags of several messages at once. Only messages whose flag set really changes
 * get the one new MODSEQ of this operation (RFC 7162 allows messages changed together to share it),
 * published after the commit.
 */
export async function storeImapFlags(
  writer: MailboxWriter,
  request: StoreFlagsRequest,
): Promise<StoreFlagsResult> {
  const { accountId, mailboxId } = request;
  const flags = [...new Set(request.flags)].filter((flag) => flag !== '\\Recent');
  const empty: StoreFlagsResult = { changed: [], modified: [], current: [] };
  if (request.uids.length === 0) return empty;
  const result = await inAccountTransaction(writer.pool, accountId, async (client) => {
    const { rows } = await client.query<{ uid: string; modseq: string; flags: string[]; next: string[] }>(
      `SELECT uid, modseq, flags,
         CASE $4
           WHEN 'replace' THEN ARRAY(SELECT DISTINCT f FROM unnest($5::text[]) f ORDER BY f)
           WHEN 'add' THEN ARRAY(SELECT DISTINCT f FROM unnest(flags || $5::text[]) f ORDER BY f)
           ELSE ARRAY(SELECT f FROM unnest(flags) f WHERE f <> ALL($5::text[]) ORDER BY f)
         END AS next
       FROM mailbox_messages WHERE account_id = $1 AND mailbox_id = $2 AND uid = ANY($3::bigint[])
       ORDER BY uid FOR UPDATE`,
      [accountId, mailboxId, request.uids, request.operation, flags],
    );
    const limit = request.unchangedSince ?? null;
    const modified: number[] = [];
    const toChange: { uid: number; flags: string[] }[] = [];
    const current = new Map<number, ImapMessageState>();
    for (const row of rows) {
      const uid = Number(row.uid);
      const state = { uid, modseq: Number(row.modseq), flags: row.flags };
      current.set(uid, state);
      if (limit !== null && state.modseq > limit) {
        modified.push(uid);
        continue;
      }
      if (!sameFlags(row.flags, row.next)) toChange.push({ uid, flags: row.next });
    }
    const changed: ImapMessageState[] = [];
    if (toChange.length) {
      const allocated = await allocate(client, accountId, mailboxId);
      if (!allocated) return empty;
      await client.query(
        `UPDATE mailbox_messages mm SET flags = c.flags, modseq = $3
         FROM jsonb_to_recordset($4::jsonb) AS c(uid bigint, flags text[])
         WHERE mm.account_id = $1 AND mm.mailbox_id = $2 AND mm.uid = c.uid`,
        [accountId, mailboxId, allocated.modseq, JSON.stringify(toChange)],
      );
      for (const { uid, flags: next } of toChange) {
        const state = { uid, modseq: allocated.modseq, flags: next };
        changed.push(state);
        current.set(uid, state);
      }
    }
    return { changed, modified, current: [...current.values()].sort((a, b) => a.uid - b.uid) };
  });
  if (!result) return empty;
  const modseq = result.changed[0]?.modseq;
  if (modseq !== undefined) await writer.changes.publish(accountId, { mailboxId, modseq, kind: 'flags' });
  return result;
}

function sameFlags(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((flag) => set.has(flag));
}

/** The keywords in use in a mailbox, for the FLAGS response of SELECT. */
export async function readImapKeywords(pool: Pool, accountId: string, mailboxId: string): Promise<string[]> {
  const { rows } = await pool.query<{ flag: string }>(
    `SELECT DISTINCT f AS flag FROM mailbox_messages, unnest(flags) f
     WHERE account_id = $1 AND mailbox_id = $2 AND NOT starts_with(f, '\\') ORDER BY 1`,
    [accountId, mailboxId],
  );
  return rows.map((row) => row.flag);
}
