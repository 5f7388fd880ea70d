import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createS3BlobStore } from '@correo/blobs';
import { decodeMailAccepted } from '@correo/proto';
import { freePort, testBackends, uniqueName } from '@correo/testkit';
import { classifyFailure, createKafkaBus } from '../src/index.js';

const TIMEOUT = { timeout: 60_000 };

/** The error `work` rejects with: every case below is a real failure of a real client. */
async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testBackends().databaseUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const s3 = (endpoint: string) =>
  createS3BlobStore({
    endpoint,
    region: 'us-east-1',
    bucket: testBackends().s3.bucket,
    accessKeyId: testBackends().s3.accessKeyId,
    secretAccessKey: testBackends().s3.secretAccessKey,
    maxAttempts: 1,
  });

test('backend failures: what a down or failing-over backend throws', TIMEOUT, async () => {
  const closed = await freePort();
  const cases: [string, () => Promise<unknown>][] = [
    [
      'PostgreSQL refusing connections',
      () => new pg.Client({ host: '127.0.0.1', port: closed, user: 'correo' }).connect(),
    ],
    [
      'PostgreSQL terminating the session (57P01, as in a failover or fast shutdown)',
      () =>
        withClient(async (victim) => {
          const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          const sleeping = victim.query('SELECT pg_sleep(30)').then(
            () => undefined,
            (error: unknown) => error,
          );
          await withClient((killer) =>
            killer.query(
              // Waits until the victim is really inside pg_sleep before ending it.
              `SELECT pg_terminate_backend($1) FROM (SELECT pg_sleep(0.2)) AS pause`,
              [rows[0]!.pid],
            ),
          );
          throw await sleeping;
        }),
    ],
    ['S3 unreachable', () => s3(`http://127.0.0.1:${closed}`).stat('a'.repeat(64))],
    [
      'S3 answering 503 Slow Down',
      async () => {
        const server = createServer((_request, response) => {
          response.writeHead(503, { 'content-type': 'application/xml' });
          response.end(
            '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
          );
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          await s3(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).stat('b'.repeat(64));
        } finally {
          server.close();
        }
      },
    ],
    [
      'Kafka brokers unreachable',
      async () => {
        const bus = createKafkaBus({
          brokers: [`127.0.0.1:${closed}`],
          clientId: uniqueName('failure'),
          connectionTimeoutMs: 300,
          log: () => {},
        });
        try {
          await bus.publish('mail.accepted', [{ value: Buffer.from('x') }]);
        } finally {
          await bus.close();
        }
      },
    ],
    ['a request timeout', () => fetch(`http://127.0.0.1:${closed}`, { signal: AbortSignal.timeout(1) })],
  ];
  for (const [what, work] of cases) {
    const error = await failureOf(work);
    assert.equal(classifyFailure(error), 'backend', `${what}: ${String(error)}`);
  }
});

test('message failures: the backend answered and the message or the code is at fault', TIMEOUT, async () => {
  const cases: [string, () => Promise<unknown>][] = [
    ['invalid input for a column (22P02)', () => withClient((c) => c.query('SELECT $1::integer', ['x']))],
    ['a bug in SQL (42601)', () => withClient((c) => c.query('SELEC 1'))],
    [
      'a constraint violated (23505)',
      () =>
        withClient(async (c) => {
          await c.query('CREATE TEMP TABLE once (id integer PRIMARY KEY)');
          await c.query('INSERT INTO once VALUES (1), (1)');
        }),
    ],
    [
      'a blob that does not exist',
      async () => (await s3(testBackends().s3.endpoint).get('c'.repeat(64))).read(),
    ],
    ['an event that does not decode', async () => decodeMailAccepted(Buffer.from([0xff, 0xff, 0xff]))],
    ['a bug in the handler', async () => (undefined as unknown as { x: number }).x],
  ];
  for (const [what, work] of cases) {
    const error = await failureOf(work);
    assert.equal(classifyFailure(error), 'message', `${what}: ${String(error)}`);
  }
});
