import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';

/**
 * A message held while it is verified: the Authentication-Results header must lead the stored
 * message, but its results exist only after the whole message was read, and the blob store names a
 * blob by the hash of its bytes from the first one. A message up to `memoryBytes` stays in memory
 * (most mail: a file create, write, two reads and an unlink per message cost more than the checks);
 * a bigger one spills to a local file, so memory stays bounded for any size and any number of sessions.
 */
export interface MessageSpool {
  /** Exclusive create, owner-only permissions when it spills to disk. */
  writer(): Writable;
  /** Every call reads the spooled message from its start. */
  reader(): Readable;
  /**
   * The whole message as one Buffer when it stayed in memory (after the writer finished), else
   * undefined: the checks and the stored copy then read it without a stream per pass.
   */
  whole(): Buffer | undefined;
  remove(): Promise<void>;
}

// Big reads: each chunk is a round trip through the libuv thread pool, and a message passes twice.
const CHUNK_BYTES = 1024 * 1024;
/** Default in-memory part: with the per-IP and global session caps this bounds spool memory. */
export const SPOOL_MEMORY_BYTES = 256 * 1024;

export function openMessageSpool(
  dir: string,
  eventId: string,
  memoryBytes = SPOOL_MEMORY_BYTES,
): MessageSpool {
  const path = join(dir, `correo-spool-${eventId}.eml`);
  let chunks: Buffer[] = [];
  let held = 0;
  let file: WriteStream | undefined;
  let spilled = false;

  const writeToFile = (chunk: Buffer, callback: (error?: Error | null) => void) => {
    if (file!.write(chunk)) callback();
    else file!.once('drain', () => callback());
  };

  return {
    writer: () =>
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (spilled) return writeToFile(chunk, callback);
          if (held + chunk.length <= memoryBytes) {
            chunks.push(chunk);
            held += chunk.length;
            return callback();
          }
          spilled = true;
          file = createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: CHUNK_BYTES });
          file.once('error', (error) => this.destroy(error));
          const earlier = Buffer.concat(chunks);
          chunks = [];
          held = 0;
          file.write(earlier);
          writeToFile(chunk, callback);
        },
        final(callback) {
          if (!file) return callback();
          file.end((error?: Error | null) => callback(error));
        },
      }),
    reader: () =>
      spilled
        ? createReadStream(path, { highWaterMark: CHUNK_BYTES })
        : Readable.from(chunks, { objectMode: false }),
    whole: () => {
      if (spilled) return undefined;
      if (chunks.length !== 1) chunks = [Buffer.concat(chunks, held)];
      return chunks[0];
    },
    remove: async () => {
      chunks = [];
      if (spilled) await rm(path, { force: true });
    },
  };
}
