import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Endpoints of the real backends that `scripts/backends/up.sh` (called by `make test`)
 * started, or that the developer pointed at. A missing one is a hard failure, never a skip:
 * CI must prove every adapter against its real server.
 */
export interface TestBackends {
  kafkaBrokers: string[];
  /** A superuser URL on the test PostgreSQL server; use freshDatabase() for isolation. */
  databaseUrl: string;
  redisUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: tests need the real backends. Run them through 'make test', ` +
        `or start them with 'scripts/backends/up.sh' and 'source .test-backends/env'.`,
    );
  }
  return value;
}

export function testBackends(): TestBackends {
  return {
    kafkaBrokers: required('KAFKA_BROKERS').split(','),
    databaseUrl: required('TEST_DATABASE_URL'),
    redisUrl: required('REDIS_URL'),
    s3: {
      endpoint: required('S3_ENDPOINT'),
      region: process.env.S3_REGION ?? 'us-east-1',
      accessKeyId: required('S3_ACCESS_KEY_ID'),
      secretAccessKey: required('S3_SECRET_ACCESS_KEY'),
      bucket: process.env.S3_BUCKET ?? 'correo-test',
    },
  };
}

/**
 * The environment variables that put a correo process on the distributed adapters (Kafka, S3, Redis;
 * docs/configuration.md) of `backends`: the shared test backends, or a private set a test may crash
 * (startPrivateBackendSet). `limitsKeyPrefix` keeps one run's counters apart from another's in a
 * shared Redis: every test on this machine connects from 127.0.0.1.
 */
export function distributedEnv(
  backends: TestBackends,
  databaseUrl: string,
  limitsKeyPrefix = `${uniqueName('limits')}:`,
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    BUS_ADAPTER: 'kafka',
    KAFKA_BROKERS: backends.kafkaBrokers.join(','),
    BLOB_ADAPTER: 's3',
    S3_ENDPOINT: backends.s3.endpoint,
    S3_REGION: backends.s3.region,
    S3_BUCKET: backends.s3.bucket,
    S3_ACCESS_KEY_ID: backends.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: backends.s3.secretAccessKey,
    REDIS_URL: backends.redisUrl,
    LIMITS_ADAPTER: 'redis',
    LIMITS_KEY_PREFIX: limitsKeyPrefix,
    NOTIFY_ADAPTER: 'redis',
  };
}

/** A unique, short name for topics, groups, buckets, key prefixes in one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** How long drop() waits for the database's sessions to close on their own before it forces them. */
const DROP_GRACE_MS = 2_000;

/** Creates an empty database on the test server so each test file owns its schema. */
export async function freshDatabase(baseUrl = testBackends().databaseUrl): Promise<FreshDatabase> {
  const name = uniqueName('t').replaceAll('-', '_');
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        // A pool's end() resolves once it has asked its connections to close, not once they are
        // closed. Forcing the drop at once terminates those sessions while their Terminate is
        // still in flight, and the server's 57P01 reaches a client that nobody listens to any
        // more: an uncaught error in the test that ended its pool correctly. So sessions that
        // are on their way out get a moment to leave; only what is still open after it is forced.
        for (let waited = 0; waited < DROP_GRACE_MS; waited += 20) {
          const { rows } = await c.query<{ open: number }>(
            'SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0]!.open === 0) break;
          await sleep(20);
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Rspamd as scripts/backends/rspamd.sh started it (RSPAMD_* in .test-backends/env). */
export interface TestRspamd {
  /** The scanner: /checkv2. */
  url: string;
  /** The controller: /learnspam, /learnham, /stat, with `password`. */
  controllerUrl: string;
  password: string;
}

export function testRspamd(): TestRspamd {
  return {
    url: required('RSPAMD_URL'),
    controllerUrl: required('RSPAMD_CONTROLLER_URL'),
    password: required('RSPAMD_PASSWORD'),
  };
}
