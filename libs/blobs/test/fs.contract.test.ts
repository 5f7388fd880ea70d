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

test('many puts at once (their directory fsyncs batched) each resolve with a readable blob in its own shard', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'correo-blobs-'));
  try {
    const store = createFsBlobStore({ dir });
    const bodies = Array.from({ length: 200 }, (_, i) => Buffer.from(`batched body ${i}`));
    const stored = await Promise.all(bodies.map((body) => store.put(Readable.from([body]))));
    const shards = new Set(stored.map(({ key }) => key.slice(0, 2)));
    assert.ok(shards.size > 1 && shards.size < stored.length, 'some shards shared, several used');
    for (const [i, { key, size }] of stored.entries()) {
      assert.equal(size, bodies[i]!.length);
      assert.deepEqual(
        await readdir(join(dir, 'sha256', key.slice(0, 2))).then((n) => n.includes(key)),
        true,
      );
    }
    assert.deepEqual(await readdir(join(dir, 'tmp')), [], 'no temporary file left');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
