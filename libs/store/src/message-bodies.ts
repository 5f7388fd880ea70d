import { withOtherBodies, type BlobStore } from '@correo/blobs';
import { packBytes } from '@correo/bus';
import type pg from 'pg';
import type { Pool } from './pool.js';

/*
 * Small bodies kept in PostgreSQL (migrations/0340_message_bodies.sql). The mda writes a body here, in
 * the filing transaction that first names its key (file_deliveries, migrations/0380), instead of a blob file:
 * the filing's WAL flush makes it durable, with no file, fsync or rename of its own. Every reader
 * (IMAP FETCH, POP3, the relay, webmail, export, dead-letter replay) goes through the blob store, which
 * withStoredBodies extends with this table; the collector deletes a row when it collects its key.
 */

/** One body to keep in the database, under its blob key (content addressed, as in the blob store). */
export interface StoredBody {
  blobKey: string;
  bytes: Uint8Array;
}

/**
 * The INSERT of `bodies` into message_bodies for a statement that writes them among other rows (IMAP
 * APPEND, only when `condition` holds; the mda's filing writes its own in file_deliveries); parameters
 * from `$first` on. null when there is nothing to keep.
 */
export function storedBodiesInsert(
  bodies: readonly StoredBody[],
  first: number,
  condition = 'TRUE',
): { text: string; values: unknown[] } | null {
  const unique = [...new Map(bodies.map((b) => [b.blobKey, b])).values()];
  if (unique.length === 0) return null;
  // One binary parameter for all the bytes (a bytea[] would travel as hex text).
  const packed = packBytes(unique.map((b) => b.bytes));
  return {
    text: `INSERT INTO message_bodies (blob_key, bytes)
           SELECT b.key, substring($${first + 1}::bytea FROM b.start FOR b.length)
             FROM unnest($${first}::text[], $${first + 2}::int[], $${first + 3}::int[]) AS b(key, start, length)
            WHERE ${condition}
           ON CONFLICT (blob_key) DO NOTHING`,
    values: [unique.map((b) => b.blobKey), packed.bytes, packed.starts, packed.lengths],
  };
}

/** Removes the rows of collected keys, in the collector's transaction (blob-collection.ts). */
export async function deleteStoredBodies(client: pg.PoolClient, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await client.query('DELETE FROM message_bodies WHERE blob_key = ANY($1::text[])', [keys]);
}

async function storedBody(pool: Pool, key: string): Promise<Buffer | undefined> {
  const { rows } = await pool.query<{ bytes: Buffer }>({
    name: 'correo-message-body',
    text: 'SELECT bytes FROM message_bodies WHERE blob_key = $1',
    values: [key],
  });
  return rows[0]?.bytes;
}

/**
 * The blob store with message_bodies beside it. Which is asked first depends on what a miss costs: a
 * file store learns of a missing file from one failed open, cheaper than a query, so the table is
 * asked only for keys the files lack; an S3 store pays a request for a miss, so the table (one
 * primary-key lookup) is asked first. Writes, listing and deletion stay the store's: rows are written
 * by the filing and deleted by the collector, each in its own transaction.
 */
export function withStoredBodies(blobs: BlobStore, pool: Pool): BlobStore {
  // Idempotent: a service that writes bodies here (the IMAP gateway's APPEND) wraps what it is given,
  // which production wiring (libs/backends) has wrapped already; a second fallback would cost a miss
  // two queries.
  if (readingStoredBodies.has(blobs)) return blobs;
  const wrapped = withOtherBodies(
    blobs,
    (key) => storedBody(pool, key),
    blobs.kind === 's3' ? 'first' : 'fallback',
  );
  readingStoredBodies.add(wrapped);
  return wrapped;
}

const readingStoredBodies = new WeakSet<BlobStore>();
