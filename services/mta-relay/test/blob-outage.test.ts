import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createS3BlobStore } from '@correo/blobs';
import { createLogger } from '@correo/telemetry';
import { eventually, startTcpFaultProxy, testBackends, type TcpFaultProxy } from '@correo/testkit';
import type { MtaRelay } from '../src/relay.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

const YO = `yo@${LOCAL_DOMAIN}`;

interface Line {
  msg?: string;
  retryInMs?: number;
}

/**
 * The blob store (MinIO) is down while jobs in the deferred queue are due. A job whose message cannot
 * be read for a backend's sake is given back due at once, nothing sent. Before, the scheduler took a
 * full batch of those as "more due work" and went straight into the next pass: it claimed, failed and
 * released the same jobs in a tight loop for the whole outage, and every claim counted as an attempt,
 * so the jobs came back from the outage at the end of their retry schedule with attempt counts no
 * remote ever saw. The relay under test reads its blobs through a TCP proxy (libs/testkit faults)
 * that resets every connection until the test lets it pass.
 */
describe('the blob store is down while queued jobs are due', () => {
  let stack: RelayStack;
  let proxy: TcpFaultProxy;
  let relay: MtaRelay | undefined;
  const logged: Line[] = [];

  before(async () => {
    // A batch of two and three due jobs: every pass of the outage meets a full batch of failures.
    stack = await RelayStack.create('distributed', { queueBatch: 2, queuePollMs: 100 });
    stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
    stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
    await stack.stopRelay();
    const s3 = testBackends().s3;
    const endpoint = new URL(s3.endpoint);
    proxy = await startTcpFaultProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
    proxy.set({ kind: 'reset' });
    relay = await stack.startAnotherRelay(
      {},
      {
        blobs: createS3BlobStore({
          ...s3,
          endpoint: `http://127.0.0.1:${proxy.port}`,
          keyPrefix: stack.blobPrefix,
          maxAttempts: 1,
        }),
        logger: createLogger('relay-blob-outage', 'info', {
          write: (line: string) => void logged.push(JSON.parse(line) as Line),
        }),
      },
    );
  });

  after(async () => {
    await relay?.close();
    await proxy?.close();
    await stack?.close();
  });

  test('the queue backs off while the store is down, then delivers each job once with its real attempt count', async () => {
    const subjects = ['outage one', 'outage two', 'outage three'];
    const jobs = [];
    for (const subject of subjects) {
      // Queued after one earlier attempt (attempts 1), due now.
      jobs.push(
        await stack.queueJob({ from: YO, to: ['el@suemail.test'], subject, nextAttemptAt: new Date() }),
      );
    }
    const waits = () => logged.filter((l) => l.msg === 'deferred queue waits for a backend');
    await eventually('five passes to meet the outage', () => waits().length >= 5, 60_000);
    // The wait doubles from RELAY_QUEUE_POLL (100 ms) pass after pass: no pass goes straight into the
    // next. A tight loop (the bug) logged no wait at all and ran hundreds of passes a second.
    assert.deepEqual(
      waits()
        .slice(0, 5)
        .map((l) => l.retryInMs),
      [100, 200, 400, 800, 1600],
    );
    // At most one batch (two jobs) fails per pass: the passes so far, plus one that may be running.
    const failed = logged.filter((l) => l.msg === 'queued delivery failed').length;
    assert.ok(failed <= 2 * (waits().length + 1), `${failed} failed job runs in ${waits().length} passes`);

    proxy.set({ kind: 'pass' });
    for (const { jobId } of jobs) {
      const [outcome] = await stack.waitForOutcomes(jobId, 1);
      assert.equal(outcome!.outcome, 'delivered');
      // The earlier attempt and this one: the passes that met the outage sent nothing and count none.
      assert.equal(outcome!.attempts, 2, 'the claims released during the outage were counted as attempts');
    }
    for (const subject of subjects) assert.equal(stack.copiesOf(subject), 1, `copies of "${subject}"`);
  });
});
