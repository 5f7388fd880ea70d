import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pythonSmtp } from '@correo/testkit';
import { PASSWORD, USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { expectRefusedBodyCollected } from './support/refused-body.js';

/*
 * A submission whose body reached the blob store but whose event could not be published gets 451 and
 * leaves a body no row will ever name. The blob collector (libs/store blob-collection.ts) finds it by
 * listing the store and deletes it once the unclaimed grace period has passed (docs/security.md).
 * The distributed stack (Kafka, S3) gets the same check in kafka-s3.test.ts.
 */
describe('refused intake on the embedded stack', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({ kind: 'embedded' });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('the body of a submission refused with 451 after it was stored is collected after the grace period', async () => {
    // A client of the very bus the fixture watches, closed: a publish that still got through would
    // be seen below.
    const closedBus = fixture.openBus();
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
        // Past SMTP_INLINE_BODY_BYTES: this body reaches the blob store before the publish (a smaller
        // one would ride in the event, which was never published, and leave nothing behind).
        send: {
          from: USER,
          to: ['el@suemail.test'],
          message: `Subject: refused\r\n\r\n${'never delivered\r\n'.repeat(10_000)}`,
        },
      });
      assert.deepEqual(
        run.replies.at(-1),
        [451, '4.3.0 Temporary failure in processing, please try again later'],
        JSON.stringify(run),
      );
    } finally {
      await refusing.close();
    }
    await fixture.expectNothingPublishedSince(eventsBefore, 'the 451 published nothing');
    await expectRefusedBodyCollected(fixture, keysBefore, 'never delivered\r\n');
  });
});
