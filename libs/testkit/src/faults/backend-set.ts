import pg from 'pg';
import { distributedEnv, uniqueName, type TestBackends } from '../backends.js';
import { startPrivateKafka, type PrivateKafka } from '../private-kafka.js';
import { startPrivateMinio, type PrivateMinio } from '../private-minio.js';
import { startPrivatePostgres, type PrivatePostgres } from '../private-postgres.js';
import { privateRedis, type PrivateRedis } from '../private-redis.js';
import type { Fault } from './fault.js';
import { startTcpFaultProxy, type ProxyMode, type TcpFaultProxy } from './tcp-proxy.js';

export type BackendKind = 'kafka' | 'postgres' | 'redis' | 'minio';
export const BACKEND_KINDS: readonly BackendKind[] = ['kafka', 'postgres', 'redis', 'minio'];

/**
 * Kafka, PostgreSQL, Redis and MinIO of one test's own (own ports, own data dirs), for tests that
 * crash them: the shared test backends are never touched. Services reach MinIO through a TCP proxy
 * (`s3Proxy`) so that S3 can also be made slow or resetting.
 */
export interface PrivateBackendSet {
  /** The adapter environment of a distributed correo process on this set (DATABASE_URL, KAFKA_BROKERS, S3_*, REDIS_URL...). */
  env: Record<string, string>;
  /** The same endpoints as testBackends() has them, for bus, blob and database clients of a test. */
  backends: TestBackends;
  /** The services' database (`mail`) on the private server. */
  databaseUrl: string;
  /** MinIO's own endpoint, behind the proxy that `env` names. */
  minioEndpoint: string;
  s3Proxy: TcpFaultProxy;
  /** A crash: SIGKILL (PostgreSQL: an immediate shutdown, see PrivatePostgres.stop). */
  kill(kind: BackendKind): Promise<void>;
  /** Starts it again on the same port and data. */
  start(kind: BackendKind): Promise<void>;
  /** kill() then start(). */
  restart(kind: BackendKind): Promise<void>;
  /** Stops everything and removes the data. */
  stop(): Promise<void>;
}

const DATABASE = 'mail';
const BUCKET = 'correo-faults';

export async function startPrivateBackendSet(): Promise<PrivateBackendSet> {
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };
  try {
    // One after the other: two cores and a JVM; the order does not matter for the result.
    const kafka: PrivateKafka = await startPrivateKafka();
    closers.push(() => kafka.close());
    const postgres: PrivatePostgres = await startPrivatePostgres();
    closers.push(() => postgres.close());
    const redis: PrivateRedis = await privateRedis({ persist: true });
    closers.push(() => redis.close());
    await redis.start();
    const minio: PrivateMinio = await startPrivateMinio();
    closers.push(() => minio.close());
    const s3Proxy = await startTcpFaultProxy({
      host: '127.0.0.1',
      port: Number(new URL(minio.endpoint).port),
    });
    closers.push(() => s3Proxy.close());

    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
    const databaseUrl = new URL(postgres.url);
    databaseUrl.pathname = `/${DATABASE}`;

    const backends: TestBackends = {
      kafkaBrokers: kafka.brokers,
      databaseUrl: postgres.url,
      redisUrl: redis.url,
      s3: {
        endpoint: `http://127.0.0.1:${s3Proxy.port}`,
        region: 'us-east-1',
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
        bucket: BUCKET,
      },
    };
    // Loaded here: every test imports @correo/testkit, few need an S3 client.
    const { createS3BlobStore } = await import('@correo/blobs');
    const blobs = createS3BlobStore({ ...backends.s3, endpoint: minio.endpoint });
    await blobs.ensureBucket();
    await blobs.close();

    const kill = async (kind: BackendKind) => {
      if (kind === 'kafka') await kafka.kill();
      else if (kind === 'postgres') await postgres.stop('immediate');
      else if (kind === 'redis') await redis.stop('SIGKILL');
      else await minio.stop('SIGKILL');
    };
    const start = async (kind: BackendKind) => {
      if (kind === 'kafka') await kafka.resume();
      else if (kind === 'postgres') await postgres.start();
      else if (kind === 'redis') await redis.start();
      else await minio.start();
    };
    return {
      env: distributedEnv(backends, databaseUrl.toString(), `${uniqueName('limits')}:`),
      backends,
      databaseUrl: databaseUrl.toString(),
      minioEndpoint: minio.endpoint,
      s3Proxy,
      kill,
      start,
      async restart(kind) {
        await kill(kind);
        await start(kind);
      },
      stop: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** A crash of one backend: inject() kills it hard, heal() starts it again on the same port and data. */
export function backendCrash(set: PrivateBackendSet, kind: BackendKind): Fault {
  return { name: `${kind} crash`, inject: () => set.kill(kind), heal: () => set.start(kind) };
}

/**
 * A dropped connection for every session of the services' database, as a failover of a pooler or a
 * network blip does: pg_terminate_backend of each client backend (not the server's own workers, not
 * this session). The server stays up, so heal() has nothing to undo. `terminated` counts the last drop.
 */
export function postgresConnectionDrop(databaseUrl: string): Fault & { terminated: number } {
  const fault = {
    name: 'postgres connection drop',
    terminated: 0,
    async inject() {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ terminated: number }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
           FROM pg_stat_activity
           WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        );
        fault.terminated = rows[0]!.terminated;
      } finally {
        await client.end();
      }
    },
    async heal() {},
  };
  return fault;
}

/** S3 behind the set's proxy turns `mode` (slow, stalled, resetting) until healed. */
export function s3Trouble(set: PrivateBackendSet, mode: Exclude<ProxyMode, { kind: 'pass' }>): Fault {
  const name = mode.kind === 'delay' ? `s3 slow (${mode.ms} ms per chunk)` : `s3 ${mode.kind}`;
  return {
    name,
    inject: async () => set.s3Proxy.set(mode),
    heal: async () => set.s3Proxy.set({ kind: 'pass' }),
  };
}
