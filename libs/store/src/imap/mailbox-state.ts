import type { Pool } from '../pool.js';

/** A message's place in a mailbox as a session tracks it. */
export interface ImapMessageState {
  uid: number;
  modseq: number;
  flags: string[];
}

export interface ImapMailboxHeader {
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  /** UIDs from here up are recent and claimed by no session yet (see claimImapRecent). */
  firstRecentUid: number;
}

export interface ImapMailboxSnapshot extends ImapMailboxHeader {
  /** Ascending UID order: the session's message numbers. */
  messages: ImapMessageState[];
  /** The keywords the messages carry, sorted (SELECT's FLAGS). */
  keywords: string[];
}

export interface ImapMailboxChanges extends ImapMailboxHeader {
  /** Messages appended or whose flags changed after `since`, ascending UID. */
  changed: ImapMessageState[];
  /** UIDs expunged after `since`, ascending. */
  expunged: number[];
}

/** A row as json_build_array(uid, modseq, flags) gives it: one JSON.parse for a whole mailbox. */
type StateTuple = [number, number, string[]];

const toState = ([uid, modseq, flags]: StateTuple): ImapMessageState => ({ uid, modseq, flags });

interface HeaderRow {
  uidvalidity: string;
  uidnext: string;
  highestmodseq: string;
  first_recent_uid: string;
}

const toHeader = (row: HeaderRow): ImapMailboxHeader => ({
  uidvalidity: Number(row.uidvalidity),
  uidnext: Number(row.uidnext),
  highestmodseq: Number(row.highestmodseq),
  firstRecentUid: Number(row.first_recent_uid),
});

/**
 * Claims \Recent (RFC 3501 2.3.2) for one IMAP4rev1 session: every unclaimed UID below `uidnext` (the
 * UIDNEXT the session has seen) becomes this session's, so that of all sessions on all pods exactly one
 * gets each message as recent. Returns the claimed UIDs as [from, to), empty when another session was
 * first (or the mailbox is gone). `seenFrom` is the first unclaimed UID the session read with its
 * snapshot (read here when not given).
 *
 * A compare-and-set, not a locking read: when a delivery wakes the 100 sessions of one mailbox at once,
 * one wins and the others' UPDATEs match no row once it commits, so they take no row lock, write no WAL
 * and wait for no flush (with SELECT ... FOR UPDATE each one locked the row, then committed with a WAL
 * flush, one after the other, holding a pool connection meanwhile). A loser reads the new mark and
 * tries again only if its UIDNEXT is above it, so no UID is left out when sessions saw different UIDNEXTs.
 */
export async function claimImapRecent(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  uidnext: number,
  seenFrom?: number,
): Promise<{ from: number; to: number }> {
  const none = { from: uidnext, to: uidnext };
  let from = seenFrom ?? (await readFirstRecentUid(pool, accountId, mailboxId));
  while (from !== null && from < uidnext) {
    const claimed = await pool.query({
      name: 'imap-claim-recent',
      text: `UPDATE mailboxes SET first_recent_uid = $3
             WHERE id = $1 AND account_id = $2 AND first_recent_uid = $4`,
      values: [mailboxId, accountId, uidnext, from],
    });
    if (claimed.rowCount) return { from, to: uidnext };
    // Another session moved the mark first (it only rises): claim what it left, if anything.
    from = await readFirstRecentUid(pool, accountId, mailboxId);
  }
  return none;
}

async function readFirstRecentUid(pool: Pool, accountId: string, mailboxId: string): Promise<number | null> {
  const { rows } = await pool.query<{ first_recent_uid: string }>({
    name: 'imap-first-recent-uid',
    text: 'SELECT first_recent_uid FROM mailboxes WHERE id = $1 AND account_id = $2',
    values: [mailboxId, accountId],
  });
  return rows[0] ? Number(rows[0].first_recent_uid) : null;
}

/**
 * What SELECT needs: the mailbox header, every message's UID, MODSEQ and flags, and the keywords in use
 * (for FLAGS). Null if gone. One statement, so one snapshot and one round trip (it was a REPEATABLE READ
 * transaction of four statements and a separate query for the keywords). With `name`, also null when
 * the mailbox is no longer called that (a caller's earlier lookup by name went stale).
 */
export async function openImapMailbox(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  name?: string,
): Promise<ImapMailboxSnapshot | null> {
  const { rows } = await pool.query<HeaderRow & { keywords: string[]; messages: StateTuple[] | null }>({
    name: 'imap-open-mailbox',
    text: `SELECT mb.uidvalidity, mb.uidnext, mb.highestmodseq, mb.first_recent_uid,
         ARRAY(SELECT DISTINCT f FROM mailbox_messages, unnest(flags) f
               WHERE account_id = $2 AND mailbox_id = $1 AND NOT starts_with(f, '\\') ORDER BY 1) AS keywords,
         (SELECT json_agg(json_build_array(uid, modseq, flags) ORDER BY uid) FROM mailbox_messages
          WHERE account_id = $2 AND mailbox_id = $1) AS messages
       FROM mailboxes mb WHERE mb.id = $1 AND mb.account_id = $2 AND ($3::text IS NULL OR mb.name = $3)`,
    values: [mailboxId, accountId, name ?? null],
  });
  const row = rows[0];
  if (!row) return null;
  return { ...toHeader(row), keywords: row.keywords, messages: (row.messages ?? []).map(toState) };
}

/**
 * Everything that changed in a mailbox after MODSEQ `since`: how a session catches up after a
 * notification (or a QRESYNC client after reconnecting). Null when the mailbox is gone. One statement
 * (one snapshot, one round trip): a selected session runs it after every change it hears of.
 */
export async function readImapChanges(
  pool: Pool,
  accountId: string,
  mailboxId: string,
  since: number,
): Promise<ImapMailboxChanges | null> {
  const { rows } = await pool.query<HeaderRow & { changed: StateTuple[] | null; expunged: number[] | null }>({
    name: 'imap-read-changes',
    text: `SELECT mb.uidvalidity, mb.uidnext, mb.highestmodseq, mb.first_recent_uid,
         CASE WHEN mb.highestmodseq > $3 THEN
           (SELECT json_agg(json_build_array(uid, modseq, flags) ORDER BY uid) FROM mailbox_messages
            WHERE account_id = $2 AND mailbox_id = $1 AND modseq > $3) END AS changed,
         CASE WHEN mb.highestmodseq > $3 THEN
           (SELECT json_agg(uid ORDER BY uid) FROM expunged WHERE mailbox_id = $1 AND modseq > $3) END AS expunged
       FROM mailboxes mb WHERE mb.id = $1 AND mb.account_id = $2`,
    values: [mailboxId, accountId, since],
  });
  const row = rows[0];
  if (!row) return null;
  return { ...toHeader(row), changed: (row.changed ?? []).map(toState), expunged: row.expunged ?? [] };
}

/** UIDs expunged after `since` among `within` ([low, high] UID ranges, or all): QRESYNC VANISHED (EARLIER). */
export async function readImapVanished(
  pool: Pool,
  mailboxId: string,
  since: number,
  within: Array<[number, number]> | null,
): Promise<number[]> {
  const { rows } = await pool.query<{ uid: string }>(
    `SELECT uid FROM expunged WHERE mailbox_id = $1 AND modseq > $2
       AND ($3::bigint[] IS NULL OR EXISTS (
         SELECT 1 FROM unnest($3::bigint[], $4::bigint[]) AS r(lo, hi) WHERE uid BETWEEN r.lo AND r.hi))
     ORDER BY uid`,
    [mailboxId, since, within?.map((r) => r[0]) ?? null, within?.map((r) => r[1]) ?? null],
  );
  return rows.map((row) => Number(row.uid));
}

export interface ImapMailboxStatus extends ImapMailboxHeader {
  messages: number;
  unseen: number;
  deleted: number;
  /** Sum of the messages' sizes (STATUS=SIZE). */
  size: number;
  /** Messages no session has claimed as \Recent yet (STATUS RECENT, IMAP4rev1). */
  recent: number;
}

/** STATUS of several folders in one query (LIST-STATUS asks for many at once). */
export async function readImapStatus(
  pool: Pool,
  accountId: string,
  mailboxIds: string[],
): Promise<Map<string, ImapMailboxStatus>> {
  const { rows } = await pool.query<{
    id: string;
    uidvalidity: string;
    uidnext: string;
    highestmodseq: string;
    messages: string;
    unseen: string;
    deleted: string;
    size: string;
    recent: string;
    first_recent_uid: string;
  }>(
    `SELECT mb.id, mb.uidvalidity, mb.uidnext, mb.highestmodseq, mb.first_recent_uid,
       count(mm.uid) AS messages,
       count(mm.uid) FILTER (WHERE NOT ('\\Seen' = ANY(mm.flags))) AS unseen,
       count(mm.uid) FILTER (WHERE '\\Deleted' = ANY(mm.flags)) AS deleted,
       coalesce(sum(m.size), 0) AS size,
       count(mm.uid) FILTER (WHERE mm.uid >= mb.first_recent_uid) AS recent
     FROM mailboxes mb
     LEFT JOIN mailbox_messages mm ON mm.mailbox_id = mb.id AND mm.account_id = mb.account_id
     LEFT JOIN messages m ON m.id = mm.message_id AND m.account_id = mm.account_id
     WHERE mb.account_id = $1 AND mb.id = ANY($2::bigint[])
     GROUP BY mb.id`,
    [accountId, mailboxIds],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        uidvalidity: Number(row.uidvalidity),
        uidnext: Number(row.uidnext),
        highestmodseq: Number(row.highestmodseq),
        firstRecentUid: Number(row.first_recent_uid),
        messages: Number(row.messages),
        unseen: Number(row.unseen),
        deleted: Number(row.deleted),
        size: Number(row.size),
        recent: Number(row.recent),
      },
    ]),
  );
}

/** The account's storage use and limit, for QUOTA (RFC 9208). */
export async function readImapQuota(
  pool: Pool,
  accountId: string,
): Promise<{ usedBytes: number; quotaBytes: number | null } | null> {
  const { rows } = await pool.query<{ used_bytes: string; quota_bytes: string | null }>(
    'SELECT used_bytes, quota_bytes FROM accounts WHERE id = $1',
    [accountId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    usedBytes: Number(row.used_bytes),
    quotaBytes: row.quota_bytes === null ? null : Number(row.quota_bytes),
  };
}
