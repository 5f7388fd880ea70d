import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics, startHealthServer, type HealthServer } from '../src/index.js';

describe('health server', () => {
  let server: HealthServer;
  let base: string;
  let redisUp = true;

  before(async () => {
    server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      timeoutMs: 200,
      checks: {
        postgres: async () => {},
        redis: async () => {
          if (!redisUp) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
        },
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  test('binds a free port when given 0', () => {
    assert.ok(server.port > 0);
  });

  test('/healthz answers while the process is alive', async () => {
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  test('/metrics serves declared counters and the default process metrics', async () => {
    const delivered = metrics.counter({
      name: 'correo_test_messages_delivered_total',
      help: 'Messages delivered in this test.',
      labelNames: ['outcome'],
    });
    delivered.inc({ outcome: 'stored' }, 3);
    assert.equal(
      metrics.counter({
        name: 'correo_test_messages_delivered_total',
        help: 'again',
        labelNames: ['outcome'],
      }),
      delivered,
      'declaring twice returns the same counter',
    );
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    assert.match(text, /^correo_test_messages_delivered_total\{outcome="stored"\} 3$/m);
    assert.match(text, /^correo_process_cpu_user_seconds_total \d/m);
  });

  test('/readyz is 200 when every check passes', async () => {
    redisUp = true;
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      status: 'ready',
      checks: { postgres: { ok: true }, redis: { ok: true } },
    });
  });

  test('/readyz is 503 naming the failing check, and the gauge records it', async () => {
    redisUp = false;
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), {
      status: 'not ready',
      checks: { postgres: { ok: true }, redis: { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:6379' } },
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /^correo_readiness_check\{check="redis"\} 0$/m);
    assert.match(text, /^correo_readiness_check\{check="postgres"\} 1$/m);
  });

  test('a check that never resolves makes /readyz answer 503 instead of hanging', async () => {
    let aborted = false;
    const stuck = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      timeoutMs: 100,
      checks: {
        kafka: (signal) =>
          new Promise<void>(() => {
            signal.addEventListener('abort', () => (aborted = true));
          }),
      },
    });
    try {
      const response = await fetch(`http://127.0.0.1:${stuck.port}/readyz`);
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), {
        status: 'not ready',
        checks: { kafka: { ok: false, error: 'timed out after 100 ms' } },
      });
      assert.equal(aborted, true, 'the check was told to give up');
    } finally {
      await stuck.close();
    }
  });
});
