import { after, before, test } from 'node:test';
import { startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { expectClosedBusRefusal } from './support/refused-body.js';

/*
 * A submission whose body reached the blob store but whose event could not be published gets 451 and
 * leaves a body no row will ever name. The blob collector (libs/store blob-collection.ts) finds it by
 * listing the store and deletes it once the unclaimed grace period has passed (docs/security.md).
 * The distributed stack (Kafka, S3) gets the same check in kafka-s3.test.ts.
 */
let fixture: IngressFixture;
before(async () => {
  fixture = await startIngressFixture({ kind: 'embedded' });
});
after(async () => {
  await fixture?.stop();
});

test('the body of a submission refused with 451 after it was stored is collected after the grace period', async () => {
  await expectClosedBusRefusal(fixture, 'never delivered');
});
