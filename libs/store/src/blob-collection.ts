import type pg from 'pg';
import { deleteStoredBodies } from './message-bodies.js';
import type { Pool } from './pool.js';

/*
 * The blob collector: deletes message bodies nothing in the store refers to any more
 * (migrations/0060_blob_collection.sql keeps the candidate list).
 *
 * Why a concurrent writer never loses its bytes. A writer stores a blob (put), then, in a transaction,
 * inserts a row naming it (messages, relay_queue); the insert trigger takes the blob's advisory lock
 * SHARED and holds it until commit. The collector takes the same lock EXCLUSIVE (trying only, never
 * waiting), then checks for references and deletes the bytes while still holding it, then records
 * collected_at and commits.
 * - Writer's insert first: the collector cannot get the lock and leaves the key for a later run, when
 *   the writer has committed and its trigger has taken the blob off the candidate list.
 * - Collector first: the writer's trigger waits until the collection committed, then finds the
 *   collected_at fence and fails with BlobCollectedError. The bytes it stored earlier may be gone, so
 *   it stores them again (that put starts after the deletion) and retries with
 *   reviveCollectedBlob, which lifts the fence in the writer's own transaction.
 * - The fence outlives the collection by `fenceSeconds`, so a writer whose put came before the
 *   deletion but whose insert comes after the commit still meets it. A writer must therefore
 *   reference what it stored within `fenceSeconds` (IMAP APPEND: within its command).
 * A blob whose candidacy is younger than its grace period is never touched: released blobs wait for
 * in-flight bus events that name the same bytes (mail.outbound, a relay attempt), unclaimed ones for
 * the delivery of an accepted event still in the bus.
 */

/** A writer referenced a blob whose bytes the collector deleted: store the bytes again and retry. */
export class BlobCollectedError extends Error {
  constructor(readonly blobKey: string) {
    super(`blob ${blobKey} was collected; store its bytes again`);
    this.name = 'BlobCollectedError';
  }
}

/** Turns the insert trigger's SQLSTATE CB001 into BlobCollectedError; anything else is rethrown. */
export function asBlobCollected(error: unknown): unknown {
  const pgError = error as { code?: string; detail?: string };
  if (pgError?.code === 'CB001') return new BlobCollectedError(pgError.detail ?? '');
  return error;
}

/** What the collector needs of the blob store (@correo/blobs BlobStore satisfies it). */
export interface CollectableBlobStore {
  delete(key: string): Promise<void>;
  list(): AsyncIterable<string>;
}

export interface BlobCollectionPolicy {
  /** How long a blob whose last reference was deleted waits before its bytes go. */
  releasedGraceSeconds: number;
  /** How long a blob found in the store with no reference waits (an accepted event may still name it). */
  unclaimedGraceSeconds: number;
  /** How long a collected key keeps refusing writers that stored it before the deletion. */
  fenceSeconds: number;
  /** Keys per collecting transaction; the locks of one batch are held while its bytes are deleted. */
  batchSize?: number;
}

/** Test hooks for deterministic interleavings; production passes none. */
export interface BlobCollectionHooks {
  /** The batch's locks are held and these keys were found unreferenced; their bytes are not deleted yet. */
  beforeDelete?(keys: readonly string[]): Promise<void>;
}

export interface BlobCollectionResult {
  /** Blob keys whose bytes were deleted. */
  collected: string[];
  /** Candidates dropped because a reference had come back. */
  revived: number;
  /** Expired fences removed. */
  fencesLifted: number;
}

const DEFAULT_BATCH = 100;

/**
 * The SQL condition "a row of the store names the blob `key`" (an SQL expression): a stored message, a
 * deferred relay job, a dead letter not replayed yet.
 */
function referenced(key: string): string {
  return `(EXISTS (SELECT 1 FROM messages m WHERE m.blob_key = ${key})
    OR EXISTS (SELECT 1 FROM relay_queue q WHERE q.blob_key = ${key})
    OR EXISTS (SELECT 1 FROM dead_letters d WHERE d.blob_key = ${key} AND d.replay_count = 0))`;
}

/** A candidate whose grace period has passed; $2 and $3 are the two grace periods in seconds. */
const DUE = `since < now() - make_interval(secs => CASE reason WHEN 'released' THEN $2::float8 ELSE $3::float8 END)`;

/**
 * Deletes the bytes of every candidate whose grace period has passed and that nothing references,
 * batch by batch, then lifts fences older than `fenceSeconds`. Safe to run from several processes
 * at once (each key is collected under its exclusive lock; the second collector finds it done).
 */
export async function collectBlobs(
  pool: Pool,
  blobs: CollectableBlobStore,
  policy: BlobCollectionPolicy,
  hooks: BlobCollectionHooks = {},
): Promise<BlobCollectionResult> {
  const result: BlobCollectionResult = { collected: [], revived: 0, fencesLifted: 0 };
  const batchSize = policy.batchSize ?? DEFAULT_BATCH;
  let after = '';
  for (;;) {
    const { rows } = await pool.query<{ blob_key: string }>(
      `SELECT blob_key FROM blob_candidates
       WHERE collected_at IS NULL AND blob_key > $1 AND ${DUE}
       ORDER BY blob_key LIMIT $4`,
      [after, policy.releasedGraceSeconds, policy.unclaimedGraceSeconds, batchSize],
    );
    if (rows.length === 0) break;
    const keys = rows.map((row) => row.blob_key);
    after = keys[keys.length - 1]!;
    const batch = await collectBatch(pool, blobs, policy, keys, hooks);
    result.collected.push(...batch.collected);
    result.revived += batch.revived;
  }
  const lifted = await pool.query(
    `DELETE FROM blob_candidates WHERE collected_at < now() - make_interval(secs => $1)`,
    [policy.fenceSeconds],
  );
  result.fencesLifted = lifted.rowCount ?? 0;
  return result;
}

async function collectBatch(
  pool: Pool,
  blobs: CollectableBlobStore,
  policy: BlobCollectionPolicy,
  keys: string[],
  hooks: BlobCollectionHooks,
): Promise<{ collected: string[]; revived: number }> {
  const client = await pool.connect();
  const deleted: string[] = [];
  let revived = 0;
  try {
    await client.query('BEGIN');
    // Only try: a key whose lock a writer holds is being referenced right now; it waits for the next run.
    // The collector never waits for a lock, so it cannot close a deadlock cycle with writers (who take
    // keys one statement at a time, in no global order) and never holds a key while waiting for another.
    const locked = await client.query<{ k: string }>(
      'SELECT k FROM unnest($1::text[]) AS k WHERE pg_try_advisory_xact_lock(blob_lock_key(k))',
      [keys],
    );
    // Likewise the candidate rows: one an expunge or account deletion is re-recording right now waits
    // for the next run, so no lock the collector holds ever waits on another transaction.
    const rows = await client.query<{ blob_key: string }>(
      `SELECT blob_key FROM blob_candidates WHERE blob_key = ANY($1::text[]) AND collected_at IS NULL
       FOR UPDATE SKIP LOCKED`,
      [locked.rows.map((row) => row.k)],
    );
    const mine = rows.rows.map((row) => row.blob_key);
    // No writer of these keys is between its insert and its commit now: what is committed is all there is.
    const revivedRows = await client.query(
      `DELETE FROM blob_candidates WHERE blob_key = ANY($1::text[]) AND ${referenced('blob_candidates.blob_key')}`,
      [mine],
    );
    revived = revivedRows.rowCount ?? 0;
    const due = await client.query<{ blob_key: string }>(
      `SELECT blob_key FROM blob_candidates
       WHERE blob_key = ANY($1::text[]) AND collected_at IS NULL AND ${DUE}
       ORDER BY blob_key`,
      [mine, policy.releasedGraceSeconds, policy.unclaimedGraceSeconds],
    );
    const unreferenced = due.rows.map((row) => row.blob_key);
    await hooks.beforeDelete?.(unreferenced);
    let failure: unknown;
    for (const key of unreferenced) {
      try {
        await blobs.delete(key);
      } catch (error) {
        failure = error;
        break;
      }
      deleted.push(key);
    }
    // Fence what is gone even when a later delete failed: a writer that put before must learn of it.
    await markCollected(client, deleted);
    await client.query('COMMIT');
    if (failure !== undefined) throw failure;
    return { collected: deleted, revived };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function markCollected(client: pg.PoolClient, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await client.query('UPDATE blob_candidates SET collected_at = now() WHERE blob_key = ANY($1::text[])', [
    keys,
  ]);
  // The POP3 octet count is derived from the bytes; it goes with them.
  await client.query('DELETE FROM pop3_octets WHERE blob_key = ANY($1::text[])', [keys]);
  // A small body kept in the database is part of the store (message-bodies.ts): it goes under the same
  // lock, in the same transaction that fences the key.
  await deleteStoredBodies(client, keys);
}

/**
 * Lists the blob store and records every blob nothing references as an `unclaimed` candidate (the
 * body of an intake that was refused after it was stored). Keys already listed keep their date, so
 * the grace period counts from the first sighting. Resolves the number of new candidates.
 */
export async function recordUnclaimedBlobs(
  pool: Pool,
  blobs: CollectableBlobStore,
  pageSize = 1000,
): Promise<number> {
  let found = 0;
  let page: string[] = [];
  const flush = async () => {
    if (page.length === 0) return;
    const inserted = await pool.query(
      `INSERT INTO blob_candidates (blob_key, reason)
       SELECT k, 'unclaimed' FROM unnest($1::text[]) AS k WHERE NOT ${referenced('k')}
       ON CONFLICT (blob_key) DO NOTHING`,
      [page],
    );
    found += inserted.rowCount ?? 0;
    page = [];
  };
  for await (const key of blobs.list()) {
    page.push(key);
    if (page.length >= pageSize) await flush();
  }
  await flush();
  return found;
}

/**
 * Runs a writer's `write` (a transaction that references blobs it has just stored); when the collector
 * deleted one of those blobs in between, `restore` stores its bytes again, the fence is lifted and the
 * write is retried, at most `maxRestores` times (one per blob the write references is always enough).
 */
export async function writeReferencingStoredBlobs<T>(
  pool: Pool,
  restore: (blobKey: string) => Promise<void>,
  write: () => Promise<T>,
  maxRestores: number,
): Promise<T> {
  for (let restored = 0; ; restored++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof BlobCollectedError) || restored >= maxRestores) throw error;
      await restore(error.blobKey);
      await reviveCollectedBlob(pool, error.blobKey);
    }
  }
}

/**
 * For a writer that met BlobCollectedError and has stored the bytes again: lifts the fence so its
 * retried insert goes through. Safe because that put began after the collection committed, so the
 * bytes exist again; the key cannot be collected again before the retry, since a new candidacy
 * waits out its grace period first.
 */
export async function reviveCollectedBlob(client: { query: Pool['query'] }, blobKey: string): Promise<void> {
  await client.query('DELETE FROM blob_candidates WHERE blob_key = $1 AND collected_at IS NOT NULL', [
    blobKey,
  ]);
}
