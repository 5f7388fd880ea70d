import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { classifyFailure } from '@correo/bus';
import { startTcpFaultProxy, testBackends, uniqueName } from '@correo/testkit';
import { createS3BlobStore } from '../src/s3-store.js';

// An S3 that accepts the connection and then answers nothing (a dead node behind a live load
// balancer, a half-open connection): a put and a get fail after S3_SOCKET_TIMEOUT_MS of silence as a
// backend failure (SMTP answers 451, the bus retries and never dead-letters), and work again once
// S3 answers. The node:test timeout is only the guard that turns a hang into a failure.
test(
  'a stalled S3 fails the request as a backend failure instead of hanging',
  { timeout: 120_000 },
  async () => {
    const { s3 } = testBackends();
    const endpoint = new URL(s3.endpoint);
    const proxy = await startTcpFaultProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
    const store = createS3BlobStore({
      ...s3,
      endpoint: `http://127.0.0.1:${proxy.port}`,
      keyPrefix: `${uniqueName('stall')}/`,
      socketTimeoutMs: 1_000,
      maxAttempts: 1,
    });
    try {
      const kept = await store.put(Readable.from([Buffer.from('stored before the stall')]));
      proxy.set({ kind: 'stall' });

      const putFailure = await store.put(Readable.from([Buffer.from('sent into the stall')])).then(
        () => assert.fail('a put into a stalled S3 resolved'),
        (error: unknown) => error,
      );
      assert.equal(
        classifyFailure(putFailure),
        'backend',
        `retried, not dead-lettered: ${String(putFailure)}`,
      );
      const getFailure = await store.get(kept.key).then(
        () => assert.fail('a get from a stalled S3 resolved'),
        (error: unknown) => error,
      );
      assert.equal(
        classifyFailure(getFailure),
        'backend',
        `retried, not dead-lettered: ${String(getFailure)}`,
      );

      proxy.set({ kind: 'pass' });
      assert.equal((await buffer(await store.get(kept.key))).toString(), 'stored before the stall');
    } finally {
      await store.close();
      await proxy.close();
    }
  },
);
