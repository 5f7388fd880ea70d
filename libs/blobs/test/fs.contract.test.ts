import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
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

test('directories removed behind the store (a clean-up of empty ones) are made again on the next put', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'correo-blobs-'));
  try {
    const store = createFsBlobStore({ dir });
    const first = await store.put(Readable.from([Buffer.from('first body')]));
    // The store remembers which directories it made; a collector may remove them while it runs.
    await rm(join(dir, 'tmp'), { recursive: true });
    await rm(join(dir, 'sha256'), { recursive: true });
    const again = await store.put(Readable.from([Buffer.from('first body')]));
    assert.equal(again.key, first.key);
    assert.deepEqual(await store.stat(again.key), { size: 'first body'.length });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
