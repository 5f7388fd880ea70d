import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createS3BlobStore } from '@correo/blobs';
import { SubmissionKind } from '@correo/proto';
import { startTelemetry, type Telemetry } from '@correo/telemetry';
import { pythonSmtp, queuedId, swaks, testBackends, uniqueName } from '@correo/testkit';
import { USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { BACKEND_FAILURE, expectClosedBusRefusal } from './support/refused-body.js';

describe('Kafka bus and MinIO blobs', () => {
  let fixture: IngressFixture;
  let telemetry: Telemetry;
  before(async () => {
    telemetry = startTelemetry({ serviceName: 'smtp-ingress-test' });
    fixture = await startIngressFixture({ kind: 'distributed' });
  });
  after(async () => {
    await fixture?.stop();
    await telemetry?.shutdown();
  });

  test('swaks on MX: the MailAccepted consumed from Kafka points at the S3 blob, with trace headers', async () => {
    const body = 'From: a@remote.test\r\nSubject: kafka\r\n\r\nvia kafka and s3\r\n';
    const run = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.mx),
      '--from',
      'a@remote.test',
      '--to',
      USER,
      '--data',
      body.replaceAll('\r\n', '\n'),
    ]);
    assert.equal(run.exitCode, 0, run.output);
    const id = queuedId(run.replies)!;
    const [published] = await fixture.waitForEvents(1);
    assert.equal(published!.event.eventId, id);
    assert.equal(published!.message.key, USER.toLowerCase(), 'keyed by the recipient');
    assert.equal(published!.event.kind, SubmissionKind.MX);
    assert.equal(fixture.blobs.kind, 's3');
    const stored = (await fixture.storedBytes(published!.event)).toString('utf8');
    assert.match(stored, /^Received: from \S+ \(\[127\.0\.0\.1\] \[127\.0\.0\.1\]\)\r\n/);
    assert.ok(
      stored.includes('\r\nFrom: a@remote.test\r\nSubject: kafka\r\n\r\nvia kafka and s3\r\n'),
      stored,
    );
    assert.match(published!.message.headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  test('a missing S3 bucket answers 451 4.3.0 to a body past SMTP_INLINE_BODY_BYTES and publishes nothing', async () => {
    const backends = testBackends();
    const missing = createS3BlobStore({
      ...backends.s3,
      bucket: uniqueName('missing'),
      forcePathStyle: true,
    });
    const broken = await fixture.startIngress({ blobs: missing });
    try {
      const before = fixture.events.length;
      const result = await pythonSmtp({
        host: '127.0.0.1',
        port: broken.ports.mx,
        mode: 'plain',
        // Past the inline cap (128 KiB): this body goes to the blob store before the 250 (a smaller
        // one rides in the event, and the mda meets the bucket instead).
        send: {
          from: 'a@remote.test',
          to: [USER],
          message: `Subject: lost?\r\n\r\n${'no, not stored\r\n'.repeat(10_000)}`,
        },
      });
      assert.deepEqual(result.replies.at(-1), BACKEND_FAILURE, JSON.stringify(result));
      await fixture.expectNothingPublishedSince(before, 'none was published for the 451');
    } finally {
      await broken.close();
      await missing.close();
    }
  });

  test('a closed Kafka producer answers 451 4.3.0 after the blob is stored, publishes nothing, and the body is collected', async () => {
    assert.equal(fixture.bus.kind, 'kafka');
    await expectClosedBusRefusal(fixture, 'stored in S3, never announced on Kafka');
  });
});
