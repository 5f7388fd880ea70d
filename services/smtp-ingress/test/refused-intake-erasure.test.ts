import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresBus } from '@correo/bus';
import { collectBlobs, recordUnclaimedBlobs } from '@correo/store';
import { pythonSmtp, testBackends } from '@correo/testkit';
import { PASSWORD, USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';

/*
 * A submission whose body reached the blob store but whose event could not be published gets 451 and
 * leaves a body no row will ever name. The blob collector (libs/store blob-collection.ts) finds it by
 * listing the store and deletes it once the unclaimed grace period has passed (docs/security.md).
 */
let fixture: IngressFixture;
before(async () => {
  fixture = await startIngressFixture({ kind: 'embedded' });
});
after(async () => {
  await fixture?.stop();
});

async function storedKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const key of fixture.blobs.list()) keys.add(key);
  return keys;
}

test('the body of a submission refused with 451 after it was stored is collected after the grace period', async () => {
  const closedBus = createPostgresBus({ connectionString: testBackends().databaseUrl });
  await closedBus.close();
  const refusing = await fixture.startIngress({ bus: closedBus });
  const before = await storedKeys();
  try {
    // Python's smtplib, over implicit TLS with AUTH, as a mail client submits.
    const run = await pythonSmtp({
      host: '127.0.0.1',
      port: refusing.ports.submissions,
      mode: 'ssl',
      user: USER,
      password: PASSWORD,
      // Past SMTP_INLINE_BODY_BYTES: this body reaches the blob store before the publish (a smaller
      // one would ride in the event, which was never published, and leave nothing behind).
      send: {
        from: USER,
        to: ['el@suemail.test'],
        message: `Subject: refused\r\n\r\n${'never delivered\r\n'.repeat(10_000)}`,
      },
    });
    assert.match(`${run.replies.at(-1)?.join(' ')} ${run.error ?? ''}`, /451 4\.3\.0 /, JSON.stringify(run));
  } finally {
    await refusing.close();
  }
  const orphans = [...(await storedKeys())].filter((key) => !before.has(key));
  assert.equal(orphans.length, 1, 'the refused body is in the store');
  const orphan = orphans[0]!;

  const policy = { releasedGraceSeconds: 0, unclaimedGraceSeconds: 3600, fenceSeconds: 3600 };
  assert.ok((await recordUnclaimedBlobs(fixture.pool, fixture.blobs)) >= 1);
  assert.ok(!(await collectBlobs(fixture.pool, fixture.blobs, policy)).collected.includes(orphan));
  assert.notEqual(await fixture.blobs.stat(orphan), null, 'kept while an event might still name it');

  await fixture.pool.query(
    `UPDATE blob_candidates SET since = since - interval '1 hour 1 second' WHERE blob_key = $1`,
    [orphan],
  );
  assert.ok((await collectBlobs(fixture.pool, fixture.blobs, policy)).collected.includes(orphan));
  assert.equal(await fixture.blobs.stat(orphan), null);
});
