import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeDataDir,
  postgresLeftFor,
  removeDataDir,
  eventually,
  freePort,
  killRunning,
  ALL_IN_ONE_MAIN as MAIN,
  spawnNode,
} from '@correo/testkit';
import { readyz, type Readiness } from './support/health.js';

const dataDirs: string[] = [];
after(async () => {
  await killRunning();
  for (const dir of dataDirs) await removeDataDir(dir);
});

test(
  'the embedded default starts with every backend ready and stops cleanly',
  { timeout: 100_000 },
  async () => {
    const dataDir = await makeDataDir();
    dataDirs.push(dataDir);
    const metricsPort = await freePort();
    const app = spawnNode(MAIN, {
      CORREO_DATA_DIR: dataDir,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
    });
    const base = `http://127.0.0.1:${metricsPort}`;

    let ready: Readiness | undefined;
    await eventually('/readyz to answer 200', async () => {
      ready = await readyz(metricsPort);
      return ready.status === 200;
    });
    assert.equal(ready?.body.status, 'ready');
    assert.deepEqual(ready.body.checks, {
      database: { ok: true },
      bus: { ok: true },
      blobs: { ok: true },
      notify: { ok: true },
      limits: { ok: true },
      delivery: { ok: true },
      'relay-consumer': { ok: true },
      startup: { ok: true },
    });

    const healthz = await fetch(`${base}/healthz`);
    assert.equal(healthz.status, 200);
    assert.deepEqual(await healthz.json(), { status: 'ok' });

    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^correo_readiness_check\{check="database"\} 1$/m);
    assert.match(text, /^correo_readiness_check\{check="bus"\} 1$/m);
    // Delivery flows: the stall gauge is exported and at 0.
    assert.match(text, /^correo_bus_consumer_stalled\{group="mda",topic="mail\.accepted"\} 0$/m);

    // The banner is written right after startup completes, which /readyz already reported.
    await eventually('the banner on stderr', () => app.stderr().includes('correo is running'));
    const banner = app.stderr();
    assert.match(banner, new RegExp(`data directory\\s+${escape(dataDir)}$`, 'm'));
    assert.match(banner, /^\s+bus\s+PostgreSQL queue tables$/m);
    assert.match(banner, /^\s+metadata\s+embedded PostgreSQL on 127\.0\.0\.1:\d+$/m);
    assert.ok(
      existsSync(join(dataDir, 'postgres', 'data', 'PG_VERSION')),
      'the cluster lives in the data dir',
    );
    assert.ok(postgresLeftFor(dataDir).length > 0, 'the embedded PostgreSQL runs while correo does');

    app.child.kill('SIGTERM');
    const exit = await app.exitWithin(30_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.deepEqual(postgresLeftFor(dataDir), [], 'no PostgreSQL left running on the data dir');
    assert.ok(!existsSync(join(dataDir, 'postgres', 'data', 'postmaster.pid')), 'postmaster.pid removed');
  },
);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
