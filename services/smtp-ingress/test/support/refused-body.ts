import assert from 'node:assert/strict';
import { collectBlobs, recordUnclaimedBlobs } from '@correo/store';
import { pythonSmtp } from '@correo/testkit';
import { PASSWORD, USER, type IngressFixture } from './ingress-fixture.js';

/** The whole reply to a DATA whose body or event could not be made durable. */
export const BACKEND_FAILURE: [number, string] = [
  451,
  '4.3.0 Temporary failure in processing, please try again later',
];

/**
 * A submission through an ingress whose bus is closed: a client of the very bus the fixture watches
 * (the same Postgres tables or Kafka brokers), so an event a closed bus still published would be seen.
 * The body is past SMTP_INLINE_BODY_BYTES, so it reaches the blob store before the publish is tried
 * (a smaller one rides in the event and leaves nothing behind). Asserts the whole 451 4.3.0, that
 * nothing was published (marker wait), and the blob side: exactly one new blob, the refused body, named
 * by no event, kept by the blob collector while an event might still name it and deleted once the
 * unclaimed grace period has passed (libs/store blob-collection.ts; docs/security.md).
 */
export async function expectClosedBusRefusal(fixture: IngressFixture, line: string): Promise<void> {
  const closedBus = fixture.openBus();
  assert.equal(closedBus.kind, fixture.bus.kind);
  await closedBus.close();
  const refusing = await fixture.startIngress({ bus: closedBus });
  const keysBefore = await fixture.blobKeys();
  const eventsBefore = fixture.events.length;
  try {
    // Python's smtplib, over implicit TLS with AUTH, as a mail client submits.
    const run = await pythonSmtp({
      host: '127.0.0.1',
      port: refusing.ports.submissions,
      mode: 'ssl',
      user: USER,
      password: PASSWORD,
      send: {
        from: USER,
        to: ['el@suemail.test'],
        message: `Subject: refused\r\n\r\n${`${line}\r\n`.repeat(Math.ceil(200_000 / (line.length + 2)))}`,
      },
    });
    assert.deepEqual(run.replies.at(-1), BACKEND_FAILURE, JSON.stringify(run));
  } finally {
    await refusing.close();
  }
  await fixture.expectNothingPublishedSince(eventsBefore, 'the 451 published nothing');

  const orphans = [...(await fixture.blobKeys())].filter((key) => !keysBefore.has(key));
  assert.equal(orphans.length, 1, `the refused body is the one new blob: ${orphans.join(', ')}`);
  const orphan = orphans[0]!;
  assert.ok((await fixture.blobBytes(orphan)).toString('latin1').includes(`${line}\r\n`), 'the refused body');
  assert.ok(!fixture.events.some((e) => e.event.blobKey === orphan), 'no event names it');

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
