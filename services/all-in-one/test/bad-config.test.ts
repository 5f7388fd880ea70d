import { after, describe, test } from 'node:test';
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
  type Spawned,
} from '@correo/testkit';
import { readyz, type Readiness } from './support/health.js';

const dataDirs: string[] = [];
after(async () => {
  await killRunning();
  for (const dir of dataDirs) await removeDataDir(dir);
});

async function dataDir(): Promise<string> {
  const dir = await makeDataDir();
  dataDirs.push(dir);
  return dir;
}

/** Polls /readyz until the named check fails, and returns that answer. */
async function readyzFailing(port: number, check: string): Promise<Readiness> {
  let answer: Readiness | undefined;
  await eventually(`/readyz to report ${check} failing`, async () => {
    answer = await readyz(port);
    return answer.body.checks[check]?.ok === false;
  });
  return answer!;
}

function checkError(answer: Readiness, check: string): string {
  const result = answer.body.checks[check];
  assert.ok(result && !result.ok, `${check} fails`);
  return result.error;
}

/** A stopping correo must not hang on a backend it never reached. */
async function stopsOnSigterm(app: Spawned): Promise<void> {
  app.child.kill('SIGTERM');
  assert.deepEqual(await app.exitWithin(30_000), { code: 0, signal: null });
}

describe('bad configuration', { timeout: 100_000 }, () => {
  test('invalid values stop startup at once, naming every variable', async () => {
    const dir = await dataDir();
    const app = spawnNode(MAIN, {
      CORREO_DATA_DIR: dir,
      BUS_ADAPTER: 'kafka',
      METRICS_PORT: 'abc',
      EMBEDDED_POSTGRES_PORT: '70000',
    });
    assert.deepEqual(await app.exitWithin(20_000), { code: 1, signal: null });
    const stderr = app.stderr();
    assert.match(stderr, /invalid configuration \(3 variables\)/);
    assert.match(stderr, /^\s+KAFKA_BROKERS: expected .*BUS_ADAPTER is kafka/m);
    assert.match(stderr, /^\s+METRICS_PORT: expected .*got "abc"$/m);
    assert.match(stderr, /^\s+EMBEDDED_POSTGRES_PORT: expected .*got "70000"$/m);
    assert.ok(!existsSync(join(dir, 'postgres')), 'nothing was started before the configuration was checked');
  });

  test('a demo account or a published admin token outside a dev setup: refused at once, saying why', async () => {
    const dir = await dataDir();
    const app = spawnNode(MAIN, {
      CORREO_DATA_DIR: dir,
      CORREO_DEMO: 'true',
      CORREO_DEMO_PASSWORD: 'demo-password-from-a-blog',
      // The token docker-compose.yml used to ship.
      ADMIN_TOKEN: 'change-me-to-at-least-24-characters',
    });
    assert.deepEqual(await app.exitWithin(20_000), { code: 1, signal: null });
    const stderr = app.stderr();
    assert.match(stderr, /invalid configuration \(3 variables\)/);
    assert.match(stderr, /^\s+CORREO_DEMO: expected .*not a dev setup.*CORREO_DEV=true/m);
    assert.match(stderr, /^\s+CORREO_DEMO_PASSWORD: expected .*not a dev setup/m);
    assert.match(stderr, /^\s+ADMIN_TOKEN: expected .*published/m);
    assert.ok(!stderr.includes('demo-password-from-a-blog'), 'the secret is not printed');
    assert.ok(!existsSync(join(dir, 'postgres')), 'nothing was started');
  });

  test('unreachable Kafka brokers: /readyz names them, the log says why, SIGTERM still stops it', async () => {
    const dir = await dataDir();
    const metricsPort = await freePort();
    const app = spawnNode(MAIN, {
      CORREO_DATA_DIR: dir,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      BUS_ADAPTER: 'kafka',
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_CONNECTION_TIMEOUT_MS: '1000',
    });
    const answer = await readyzFailing(metricsPort, 'bus');
    assert.equal(answer.status, 503);
    assert.equal(answer.body.status, 'not ready');
    assert.match(checkError(answer, 'bus'), /Kafka brokers 127\.0\.0\.1:1 unreachable/);
    assert.deepEqual(answer.body.checks.database, { ok: true }, 'only the bus is blamed');

    await eventually('the log to say why', () => app.stdout().includes('bus topic creation failed'));
    const failure = app
      .lines()
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .find((entry) => entry.msg.startsWith('bus topic creation failed'));
    assert.equal(failure?.level, 'error');
    const startup = await readyz(metricsPort);
    assert.match(checkError(startup, 'startup'), /creating bus topics/);
    assert.equal(app.child.exitCode, null, 'correo keeps running and retrying');

    await stopsOnSigterm(app);
    assert.deepEqual(postgresLeftFor(dir), []);
  });

  test('a database on a closed port: /readyz fails the database check, the log says why', async () => {
    const dir = await dataDir();
    const metricsPort = await freePort();
    const app = spawnNode(MAIN, {
      CORREO_DATA_DIR: dir,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: `postgres://correo:secret@127.0.0.1:${await freePort()}/correo`,
    });
    const answer = await readyzFailing(metricsPort, 'database');
    assert.equal(answer.status, 503);
    assert.match(checkError(answer, 'database'), /ECONNREFUSED|refused/i);

    await eventually('the log to say why', () => app.stdout().includes('database migration failed'));
    assert.match(checkError(await readyz(metricsPort), 'startup'), /migrating the database/);
    assert.ok(!existsSync(join(dir, 'postgres')), 'DATABASE_URL set: no embedded PostgreSQL');
    assert.ok(
      !app.stdout().includes('secret') && !app.stderr().includes('secret'),
      'the password is not logged',
    );

    await stopsOnSigterm(app);
  });
});
