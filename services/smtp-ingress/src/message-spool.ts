import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * A message on local disk while it is verified: the Authentication-Results header must lead the stored
 * message, but its results exist only after the whole message was read, and the blob store names a
 * blob by the hash of its bytes from the first one. Spooling keeps memory bounded for any size.
 */
export interface MessageSpool {
  /** Exclusive create, owner-only permissions. */
  writer(): Writable;
  /** Every call reads the spooled message from its start. */
  reader(): Readable;
  remove(): Promise<void>;
}

// Big reads: each chunk is a round trip through the libuv thread pool, and a message passes twice.
const CHUNK_BYTES = 1024 * 1024;

export function openMessageSpool(dir: string, eventId: string): MessageSpool {
  const path = join(dir, `correo-spool-${eventId}.eml`);
  return {
    writer: () => createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: CHUNK_BYTES }),
    reader: () => createReadStream(path, { highWaterMark: CHUNK_BYTES }),
    remove: () => rm(path, { force: true }),
  };
}
