import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createS3BlobStore, type S3BlobStore } from '@correo/blobs';
import type { Limits } from '@correo/limits';
import { createLogger } from '@correo/telemetry';
import { eventually, startPrivateMinio, uniqueName, type PrivateMinio } from '@correo/testkit';
import type { MtaRelay } from '../src/relay.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';
import { STACK_KINDS } from '@correo/testkit/stack';

const YO = `yo@${LOCAL_DOMAIN}`;
const ACCOUNT_COUNTER = `relay:account:${YO}`;
/** Room for two jobs of two recipients, not three: a job charged a second time shows at once. */
const PER_ACCOUNT = 5;

/**
 * Found by the fault run (make test-faults, seed 109): a MinIO crash left 40 relay jobs of two
 * accounts queued long after it healed. Each attempt charged the job's recipients to the outbound
 * rate limits before reading the body; the read failed, the claim was released and the job was due
 * again at once, so every retry during the outage charged the same recipients again, the accounts
 * reached RELAY_LIMIT_PER_ACCOUNT and their mail waited out the window (4.4.5). A recipient is
 * charged once per message, not once per attempt.
 */
for (const kind of STACK_KINDS) {
  describe(`outbound rate limits charge a message once, however many attempts it takes (${kind})`, () => {
    let stack: RelayStack;

    /** Resolves once the job reached the remote, or waits in the queue over a rate limit (its last error). */
    async function settled(jobId: string, subject: string): Promise<string | undefined> {
      let lastError: string | undefined;
      await eventually(
        `${subject} delivered, or deferred by a rate limit`,
        async () => {
          if (stack.remote.received.some((m) => m.raw.includes(`Subject: ${subject}`))) return true;
          const { rows } = await stack.pool.query<{ last_error: string }>(
            'SELECT last_error FROM relay_queue WHERE job_id = $1',
            [jobId],
          );
          lastError = rows[0]?.last_error;
          return lastError?.includes('rate limit') === true;
        },
        60_000,
      );
      return lastError?.includes('rate limit') ? lastError : undefined;
    }

    before(async () => {
      stack = await RelayStack.create(kind, {
        outboundLimits: { windowMs: 3_600_000, perAccount: PER_ACCOUNT, perTenant: 0, perDomain: 0 },
      });
      for (const domain of ['far.test', 'lejos.test']) {
        stack.dns.set(domain, { MX: [{ exchange: `mx.${domain}`, priority: 10 }] });
        stack.dns.set(`mx.${domain}`, { A: ['127.0.0.1'] });
      }
    });

    after(async () => {
      await stack?.close();
    });

    test('a recipient the remote defers is not charged again when the job is retried', async () => {
      // The counters the relay charges (the stack's: in-process or Redis); closed with the stack.
      const limits = stack.openLimits();
      try {
        const subject = 'deferred twice';
        let deferrals = 0;
        stack.remote.verdict = (recipient) =>
          recipient === 'uno@lejos.test' && deferrals++ < 2 ? [451, '4.3.0 try again later'] : null;
        const jobId = await stack.sendJob({
          from: YO,
          to: ['uno@lejos.test', 'dos@lejos.test'],
          subject,
          chargedTo: YO,
        });
        await stack.waitForOutcomes(jobId, 2);
        assert.equal(deferrals, 3, 'the remote deferred the recipient twice, then took it');
        assert.deepEqual(
          (await stack.outcomes(jobId)).map((o) => o.outcome),
          ['delivered', 'delivered'],
        );
        assert.equal(await limits.get(ACCOUNT_COUNTER), 2, 'two recipients, charged once each');
      } finally {
        stack.remote.verdict = () => null;
        await limits.reset(ACCOUNT_COUNTER);
      }
    });

    describe('the body store is down while the job is attempted', () => {
      let minio: PrivateMinio;
      let blobs: S3BlobStore;
      let relay: MtaRelay | undefined;
      let limits: Limits;

      before(async () => {
        minio = await startPrivateMinio();
        blobs = createS3BlobStore({
          endpoint: minio.endpoint,
          region: 'us-east-1',
          bucket: uniqueName('bodies'),
          accessKeyId: minio.accessKeyId,
          secretAccessKey: minio.secretAccessKey,
          maxAttempts: 1,
        });
        await blobs.ensureBucket();
        // The relay under test reads bodies from this MinIO of the test's own, which the test crashes.
        await stack.stopRelay();
        limits = stack.openLimits();
      });

      after(async () => {
        await relay?.close();
        await blobs?.close();
        await minio?.close();
      });

      test('the outage does not use up the sender’s allowance: the message goes out once it is over', async () => {
        const subject = 'sent through a MinIO crash';
        let failedReads = 0;
        const jobId = await stack.sendJob({
          from: YO,
          to: ['a@far.test', 'b@far.test'],
          subject,
          chargedTo: YO,
          blobs,
        });
        await minio.stop('SIGKILL');
        relay = await stack.startAnotherRelay(
          {},
          {
            blobs,
            logger: createLogger('relay-body-outage', 'info', {
              write: (line: string) => {
                const { msg } = JSON.parse(line) as { msg?: string };
                if (msg === 'outbound job failed' || msg === 'queued delivery failed') failedReads++;
              },
            }),
            limits,
          },
        );
        // Each failed read releases the job, due again at once: try after try while MinIO is down (the
        // bus's retries and the queue's passes; none of them counts as an attempt, nothing was sent).
        await eventually('five tries during the outage', () => failedReads >= 5, 60_000);
        await minio.start();
        assert.equal(await settled(jobId, subject), undefined, 'the job waits on the rate limit');
        const copies = stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}`));
        assert.equal(copies.length, 1);
        assert.deepEqual(copies[0]!.recipients, ['a@far.test', 'b@far.test']);
        assert.equal(await limits.get(ACCOUNT_COUNTER), 2, 'two recipients, charged once each');
      });
    });
  });
}
