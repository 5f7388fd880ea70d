import { BlobCollectedError, asBlobCollected } from './blob-collection.js';
import type { Pool } from './pool.js';

/*
 * The operator's record of dead letters (migrations/0050_dead_letters.sql): what failed, why, and
 * whether it was replayed. Filled from the dead-letter topics by each consuming service.
 */

export interface NewDeadLetter {
  group: string;
  topic: string;
  partition: number;
  /** Decimal string: Kafka offsets exceed 2^53. */
  offset: string;
  key: string | undefined;
  headers: Record<string, string>;
  value: Buffer;
  error: string;
  attempts: number;
  failedAt: Date;
  /** The body the original message names; kept for the replay while the letter waits (0061 migration). */
  blobKey?: string | undefined;
}

export interface StoredDeadLetter extends NewDeadLetter {
  /** The row id: admin-api's handle and the pagination key. */
  id: string;
  archivedAt: Date;
  replayCount: number;
  lastReplayedAt: Date | null;
}

/** pending: never replayed; replayed: replayed at least once. */
export type DeadLetterState = 'pending' | 'replayed' | 'all';

interface Row {
  id: string;
  consumer_group: string;
  topic: string;
  partition: number;
  offset: string;
  message_key: string | null;
  headers: Record<string, string>;
  value: Buffer;
  error: string;
  attempts: number;
  failed_at: Date;
  archived_at: Date;
  replay_count: number;
  last_replayed_at: Date | null;
}

const COLUMNS = `id, consumer_group, topic, partition, "offset"::text AS "offset", message_key, headers, value,
  error, attempts, failed_at, archived_at, replay_count, last_replayed_at`;

const STATE_FILTER: Record<DeadLetterState, string> = {
  pending: 'replay_count = 0',
  replayed: 'replay_count > 0',
  all: 'true',
};

function toLetter(row: Row): StoredDeadLetter {
  return {
    id: row.id,
    group: row.consumer_group,
    topic: row.topic,
    partition: row.partition,
    offset: row.offset,
    key: row.message_key ?? undefined,
    headers: row.headers,
    value: row.value,
    error: row.error,
    attempts: row.attempts,
    failedAt: row.failed_at,
    archivedAt: row.archived_at,
    replayCount: row.replay_count,
    lastReplayedAt: row.last_replayed_at,
  };
}

/** Records a dead letter once per original position; false when it was already there (a redelivery). */
export async function archiveDeadLetter(pool: Pool, letter: NewDeadLetter): Promise<boolean> {
  const insert = (blobKey: string | null) =>
    pool.query(
      `INSERT INTO dead_letters (consumer_group, topic, partition, "offset", message_key, headers, value, error,
       attempts, failed_at, blob_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (consumer_group, topic, partition, "offset") DO NOTHING`,
      [
        letter.group,
        letter.topic,
        letter.partition,
        letter.offset,
        letter.key ?? null,
        JSON.stringify(letter.headers),
        letter.value,
        letter.error,
        letter.attempts,
        letter.failedAt,
        blobKey,
      ],
    );
  // A body already collected cannot be kept for the replay; the letter is archived without it.
  const inserted = await insert(letter.blobKey || null).catch((error: unknown) => {
    if (asBlobCollected(error) instanceof BlobCollectedError) return insert(null);
    throw error;
  });
  return inserted.rowCount === 1;
}

export async function listDeadLetters(
  pool: Pool,
  page: { limit: number; afterId: string; state: DeadLetterState },
): Promise<{ items: StoredDeadLetter[]; nextCursor: string | null }> {
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS} FROM dead_letters WHERE ${STATE_FILTER[page.state]} AND id > $1 ORDER BY id LIMIT $2`,
    [page.afterId, page.limit + 1],
  );
  const items = rows.slice(0, page.limit).map(toLetter);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > page.limit && last ? last.id : null };
}

/** Dead letters of `group` not replayed yet: the dead-letter queue an operator has to look at. */
export async function countWaitingDeadLetters(pool: Pool, group: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM dead_letters WHERE consumer_group = $1 AND replay_count = 0',
    [group],
  );
  return Number(rows[0]!.n);
}

export async function getDeadLetter(pool: Pool, id: string): Promise<StoredDeadLetter | null> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
  return rows[0] ? toLetter(rows[0]) : null;
}

/** Counts a replay once the message is back on its topic; null when there is no such letter. */
export async function recordDeadLetterReplay(pool: Pool, id: string): Promise<StoredDeadLetter | null> {
  const { rows } = await pool.query<Row>(
    `UPDATE dead_letters SET replay_count = replay_count + 1, last_replayed_at = now() WHERE id = $1
     RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0] ? toLetter(rows[0]) : null;
}
