import type { MailboxWriter } from '../mailbox-writer.js';
import type { Pool } from '../pool.js';
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
 *
 * One statement, so one round trip (it was a transaction of six). It first reads the messages without
 * locking anything (`probe`): a STORE that changes none of them (flags already so, or every one
 * modified since UNCHANGEDSINCE) is answered from that read alone, ordered at the statement's snapshot
 * like any read, and takes no lock and writes nothing, so its commit has no WAL record to flush (a
 * client setting \Seen again, or the same flags twice, cost a transaction with row locks and a flush:
 * h-imapperf4's profile). Otherwise it is the STORE it was: the account row is locked first (an init plan of `target`,
 * before any message row), as every write to an account's mailboxes does, so MODSEQs commit in the
 * order they are handed out; every requested row is locked and its next flags computed again from its
 * latest version (FOR UPDATE re-reads a row changed since the snapshot), the mailbox's MODSEQ moves on
 * only when one of them really changes, and the statement's implicit transaction holds the locks until
 * it commits; the answer comes from the locked rows (one expunged meanwhile is left out).
 *
 * The statement is a function (migrations/0492_imap_store_call.sql) for the sake of its plan: one kept
 * plan, per-UID lookups through the primary key (the migration says why). A STORE of one message, the
 * common one, calls correo_store_flag (0501): the same steps as a few small statements, whose set-up
 * costs PostgreSQL less than the large statement's.
 */
export async function storeImapFlags(
  writer: MailboxWriter,
  request: StoreFlagsRequest,
): Promise<StoreFlagsResult> {
  const { accountId, mailboxId } = request;
  const flags = [...new Set(request.flags)].filter((flag) => flag !== '\\Recent');
  if (request.uids.length === 0) return { changed: [], modified: [], current: [] };
  const limit = request.unchangedSince ?? null;
  // Ascending and once each: the rows are read, and locked, in this order (see the statement).
  const uids = [...new Set(request.uids)].sort((a, b) => a - b);
  const { rows } = await writer.pool.query<{
    stored_uid: string;
    stored_modseq: string;
    stored_flags: string[];
    new_modseq: string | null;
    new_flags: string[] | null;
  }>(
    uids.length === 1
      ? {
          name: 'imap-store-flag',
          text: 'SELECT * FROM correo_store_flag($1, $2, $3, $4, $5::text[], $6::bigint)',
          values: [accountId, mailboxId, uids[0], request.operation, flags, limit],
        }
      : {
          name: 'imap-store-flags',
          text: 'SELECT * FROM correo_store_flags($1, $2, $3::bigint[], $4, $5::text[], $6::bigint)',
          values: [accountId, mailboxId, uids, request.operation, flags, limit],
        },
  );
  const changed: ImapMessageState[] = [];
  const modified: number[] = [];
  const current: ImapMessageState[] = [];
  for (const row of rows) {
    const uid = Number(row.stored_uid);
    if (row.new_modseq !== null && row.new_flags !== null) {
      const state = { uid, modseq: Number(row.new_modseq), flags: row.new_flags };
      changed.push(state);
      current.push(state);
      continue;
    }
    const modseq = Number(row.stored_modseq);
    if (limit !== null && modseq > limit) modified.push(uid);
    current.push({ uid, modseq, flags: row.stored_flags });
  }
  const modseq = changed[0]?.modseq;
  if (modseq !== undefined) await writer.changes.publish(accountId, { mailboxId, modseq, kind: 'flags' });
  return { changed, modified, current };
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
