import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GroupCommit } from '@correo/bus/group-commit';
import { BLOB_ROOT, blobPath, isBlobKey } from './blob-key.js';
import { DigestMeter } from './digest-meter.js';
import { BlobNotFoundError } from './port.js';
import type { BlobStore, ByteRange, PutOptions, StoredBlob } from './port.js';

export interface FsBlobStoreOptions {
  /** The blob root; temporary files live under `<dir>/tmp` so the final rename never crosses filesystems. */
  dir: string;
}

/** The embedded adapter: one file per blob under the data directory. */
export function createFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  const root = options.dir;
  const tmpDir = join(root, 'tmp');
  // Directories this process already made: a mkdir per message is a syscall (and a path walk)
  // on the 250's critical path for nothing. Created once; nothing here removes them.
  const made = new Set<string>();
  const ensureDir = async (dir: string) => {
    if (made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    made.add(dir);
  };

  // Group commit for directory entries: renames that land while a round of directory fsyncs is in
  // flight wait for the next round, which fsyncs each directory they touched once, all at once (the
  // filesystem journals them in one commit). Each put still resolves only after the fsync of its
  // own directory that started after its rename: the same guarantee, fewer flushes under load.
  const directorySyncs = new GroupCommit<string>({
    commit: async (dirs) => {
      await Promise.all([...new Set(dirs)].map(syncDirectory));
    },
  });

  function finalPath(key: string): string {
    return join(root, blobPath(key));
  }

  return {
    kind: 'fs',

    async put(
      source: Readable | AsyncIterable<Uint8Array>,
      putOptions: PutOptions = {},
    ): Promise<StoredBlob> {
      await ensureDir(tmpDir);
      const tmp = join(tmpDir, randomUUID());
      const meter = new DigestMeter(putOptions.maxBytes);
      try {
        const file = await open(tmp, 'wx').catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
          // The temporary directory was removed since it was made (a clean-up): make it again.
          made.delete(tmpDir);
          await ensureDir(tmpDir);
          return open(tmp, 'wx');
        });
        // flush: fsync before close, so the rename below never publishes an unwritten file.
        await pipeline(source, meter, file.createWriteStream({ flush: true }));
        const { sha256, size } = meter.result();
        const target = finalPath(sha256);
        await ensureDir(dirname(target));
        // Same bytes under the same name: replacing an existing copy is harmless and atomic.
        await rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
          // Its directory was removed since (an emptied prefix directory): make it again.
          made.delete(dirname(target));
          await ensureDir(dirname(target));
          await rename(tmp, target);
        });
        await directorySyncs.submit(dirname(target));
        return { key: sha256, sha256, size };
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    async get(key: string, range?: ByteRange): Promise<Readable> {
      if (!isBlobKey(key)) throw new BlobNotFoundError(key);
      // Opening first turns a missing file into BlobNotFoundError before any stream exists.
      const handle = await open(finalPath(key), 'r').catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? new BlobNotFoundError(key) : err;
      });
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async stat(key: string): Promise<{ size: number } | null> {
      if (!isBlobKey(key)) return null;
      try {
        return { size: (await stat(finalPath(key))).size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },

    async delete(key: string): Promise<void> {
      if (!isBlobKey(key)) return;
      await rm(finalPath(key), { force: true });
    },

    async *list(): AsyncIterable<string> {
      const blobsDir = join(root, BLOB_ROOT);
      const shards = await readdir(blobsDir, { withFileTypes: true }).catch(missingAsEmpty);
      for (const shard of shards) {
        if (!shard.isDirectory()) continue;
        const names = await readdir(join(blobsDir, shard.name)).catch(missingAsEmpty);
        for (const name of names) if (isBlobKey(name)) yield name;
      }
    },

    async ping(): Promise<void> {
      try {
        await mkdir(tmpDir, { recursive: true });
        await access(tmpDir, constants.R_OK | constants.W_OK);
      } catch (err) {
        throw new Error(`blob directory ${root} is not usable: ${(err as Error).message}`, { cause: err });
      }
    },

    async close(): Promise<void> {},
  };
}

/** A directory that does not exist yet lists as empty (no blob stored so far). */
function missingAsEmpty(err: NodeJS.ErrnoException): never[] {
  if (err.code === 'ENOENT') return [];
  throw err;
}

/** A rename is durable only once its directory entry is on disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
