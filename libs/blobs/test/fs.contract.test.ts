import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBlobStore } from '../src/fs-store.js';
import { blobContract } from './contract.js';

blobContract('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'correo-blobs-'));
  return {
    store: createFsBlobStore({ dir }),
    unreachable() {
      // A path below a device file can never become a directory.
      return createFsBlobStore({ dir: join('/dev/null', 'blobs') });
    },
    async temporaryLeftovers() {
      return readdir(join(dir, 'tmp')).catch(() => []);
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
});
