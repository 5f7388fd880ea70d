import { Readable } from 'node:stream';
import { BlobNotFoundError, type BlobStore, type ByteRange } from './port.js';

/** Bodies held somewhere besides the blob store, by blob key: the bytes, or undefined. */
export type BodyLookup = (key: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

/** `bytes` cut to `range` as the stores cut it (HTTP Range: `end` inclusive; past the end: to the end). */
function inRange(bytes: Uint8Array, range: ByteRange | undefined): Buffer {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!range) return all;
  return all.subarray(range.start, range.end === undefined ? undefined : range.end + 1);
}

/**
 * The blob store, reading also bodies that `lookup` holds: before the store (`first`: bytes already in
 * memory, such as a batch's bodies carried in their events) or only for keys the store does not have
 * (`fallback`: small bodies kept in PostgreSQL, libs/store message-bodies.ts). Writes, listing and
 * deletion stay the store's.
 */
export function withOtherBodies(
  blobs: BlobStore,
  lookup: BodyLookup,
  order: 'first' | 'fallback',
): BlobStore {
  const fromLookup = async (key: string, range?: ByteRange) => {
    const bytes = await lookup(key);
    return bytes === undefined ? undefined : Readable.from([inRange(bytes, range)]);
  };
  return {
    kind: blobs.kind,
    put: (source, options) => blobs.put(source, options),
    async get(key, range) {
      if (order === 'first') return (await fromLookup(key, range)) ?? blobs.get(key, range);
      try {
        return await blobs.get(key, range);
      } catch (error) {
        if (!(error instanceof BlobNotFoundError)) throw error;
        const found = await fromLookup(key, range);
        if (!found) throw error;
        return found;
      }
    },
    async stat(key) {
      if (order === 'first') {
        const bytes = await lookup(key);
        if (bytes) return { size: bytes.byteLength };
      }
      const stored = await blobs.stat(key);
      if (stored || order === 'first') return stored;
      const bytes = await lookup(key);
      return bytes ? { size: bytes.byteLength } : null;
    },
    delete: (key) => blobs.delete(key),
    list: () => blobs.list(),
    ping: () => blobs.ping(),
    close: () => blobs.close(),
  };
}
