import assert from 'node:assert/strict';
import { collectBlobs, recordUnclaimedBlobs } from '@correo/store';
import type { IngressFixture } from './ingress-fixture.js';

/**
 * The blob side of a submission refused with 451 after its body was stored (the bus refused the
 * event): exactly one new blob is in the store, it is that body (it contains `text`), the blob
 * collector keeps it while an event might still name it and deletes it once the unclaimed grace
 * period has passed (libs/store blob-collection.ts; docs/security.md). `before`: the keys of the
 * store before the submission (fixture.blobKeys()).
 */
export async function expectRefusedBodyCollected(
  fixture: IngressFixture,
  before: Set<string>,
  text: string,
): Promise<void> {
  const orphans = [...(await fixture.blobKeys())].filter((key) => !before.has(key));
  assert.equal(orphans.length, 1, `the refused body is the one new blob: ${orphans.join(', ')}`);
  const orphan = orphans[0]!;
  assert.ok((await fixture.blobBytes(orphan)).toString('latin1').includes(text), 'it is the refused body');
  assert.ok(
    !fixture.events.some((e) => e.event.blobKey === orphan),
    'no published event names the refused body',
  );

  const policy = { releasedGraceSeconds: 0, unclaimedGraceSeconds: 3600, fenceSeconds: 3600 };
  assert.ok((await recordUnclaimedBlobs(fixture.pool, fixture.blobs)) >= 1);
  assert.ok(!(await collectBlobs(fixture.pool, fixture.blobs, policy)).collected.includes(orphan));
  assert.notEqual(await fixture.blobs.stat(orphan), null, 'kept while an event might still name it');

  // The grace period ends (what the clock does): the collector deletes it.
  await fixture.pool.query(
    `UPDATE blob_candidates SET since = since - interval '1 hour 1 second' WHERE blob_key = $1`,
    [orphan],
  );
  assert.ok((await collectBlobs(fixture.pool, fixture.blobs, policy)).collected.includes(orphan));
  assert.equal(await fixture.blobs.stat(orphan), null, 'no orphan is left in the blob store');
}
