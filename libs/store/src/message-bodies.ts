import { withOtherBodies, type BlobStore } from '@correo/blobs';
import type pg from 'pg';
import type { Pool } from './pool.js';

/*
 * Small bodies kept in PostgreSQL (migrations/0340_message_bodies.sql). The mda writes a body here, in
 * the filing transaction that first names its key (file_deliveries, migrations/0380), instead of a blob file:
 * the filing's WAL flush makes it durable, with no file, fsync or rename of its own. Every reader
 * (IMAP FETCH, POP3, the relay, webmail, export, dead-letter replay) goes through the blob store, which
 * withStoredBodies extends with this table; the collector deletes a row when it collects its key.
 */

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
  return withOtherBodies(blobs, (key) => storedBody(pool, key), blobs.kind === 's3' ? 'first' : 'fallback');
}
