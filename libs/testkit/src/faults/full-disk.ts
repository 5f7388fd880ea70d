import { execFile } from 'node:child_process';
import { open, mkdtemp, rm, rmdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Fault } from './fault.js';

const run = promisify(execFile);

/** A small file system of its own that a test fills to the last byte and empties again. */
export interface FullDisk extends Fault {
  /** The mount point: give it to the service as its spool (SMTP_SPOOL_DIR). */
  dir: string;
  /** Bytes still free on it now. */
  free(): Promise<number>;
  /** Heals, unmounts and removes the mount point. */
  close(): Promise<void>;
}

/**
 * A tmpfs of `sizeBytes` (mount -t tmpfs: needs root, as the test machine and CI run). inject()
 * fills it with one file until the kernel answers ENOSPC; heal() deletes the file. Where mounting is
 * not allowed this throws and says so: the fault cannot be faked by a directory on the real disk.
 */
export async function startFullDisk(name: string, sizeBytes = 4 * 1024 * 1024): Promise<FullDisk> {
  const dir = await mkdtemp('/var/tmp/correo-full-disk-');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=1777`, 'correo-fault', dir]);
  } catch (error) {
    await rmdir(dir).catch(() => {});
    throw new Error(
      `cannot mount a tmpfs for the full-disk fault (needs root or CAP_SYS_ADMIN): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const filler = join(dir, '.correo-fault-filler');
  const free = async () => {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  };
  const heal = () => rm(filler, { force: true });
  return {
    name,
    dir,
    free,
    async inject() {
      const file = await open(filler, 'a');
      const block = Buffer.alloc(64 * 1024, 0x78);
      try {
        for (;;) await file.write(block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await file.close().catch(() => {});
      }
      // What is left is under one block: smaller and smaller writes take the last bytes too.
      const rest = await open(filler, 'a');
      try {
        for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
          for (;;) {
            try {
              await rest.write(Buffer.alloc(size, 0x78));
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
              break;
            }
          }
        }
      } finally {
        await rest.close().catch(() => {});
      }
    },
    heal,
    async close() {
      await heal().catch(() => {});
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rmdir(dir).catch(() => {});
    },
  };
}
