import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { createS3BlobStore } from '@correo/blobs';
import { freePorts, privateRedis, startPrivateMinio, startPrivatePostgres } from '@correo/testkit';

const run = promisify(execFile);
const KAFKA_SH = fileURLToPath(new URL('../../scripts/backends/kafka.sh', import.meta.url));

/** The backends a fault may take down. */
export type BackendName = 'kafka' | 'postgres' | 'redis' | 'minio';

/**
 * Kafka, PostgreSQL, Redis and MinIO of the fault run's own (own ports, own data dirs): the shared
 * test backends other runs use are never restarted. `env` puts a correo process on them.
 */
export interface PrivateBackendSet {
  env: Record<string, string>;
  /** The database the services use (a superuser URL). */
  databaseUrl: string;
  /** Stops `name` and starts it again on the same data (Redis starts empty: it persists nothing). */
  restart(name: BackendName, downMs: number): Promise<void>;
  /** Ends every session the services hold on the database (pg_terminate_backend). */
  terminateConnections(): Promise<number>;
  close(): Promise<void>;
}

export async function startPrivateBackendSet(): Promise<PrivateBackendSet> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of closers.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    const kafkaDir = await mkdtemp(join(tmpdir(), 'correo-faults-kafka-'));
    closers.push(() => rm(kafkaDir, { recursive: true, force: true }));
    const [kafkaPort, controllerPort] = await freePorts(2);
    const kafkaEnv = {
      ...process.env,
      CORREO_BACKENDS_DIR: kafkaDir,
      CORREO_KAFKA_PORT: String(kafkaPort),
      CORREO_KAFKA_CONTROLLER_PORT: String(controllerPort),
    };
    const kafka = (command: 'start' | 'resume' | 'stop') =>
      run('bash', [KAFKA_SH, command], { env: kafkaEnv, maxBuffer: 1 << 24 });
    const [postgres, minio, redis] = await Promise.all([
      startPrivatePostgres(),
      startPrivateMinio(),
      privateRedis(),
      kafka('start').then(() => closers.push(() => kafka('stop'))),
    ]);
    closers.push(() => postgres.close(), () => minio.close(), () => redis.stop());
    await redis.start();
    const bucket = 'correo-faults';
    const s3 = {
      endpoint: minio.endpoint,
      region: 'us-east-1',
      bucket,
      accessKeyId: minio.accessKeyId,
      secretAccessKey: minio.secretAccessKey,
    };
    const blobs = createS3BlobStore({ ...s3, forcePathStyle: true });
    await blobs.ensureBucket();
    await blobs.close();
    const env: Record<string, string> = {
      DATABASE_URL: postgres.url,
      BUS_ADAPTER: 'kafka',
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      BLOB_ADAPTER: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      REDIS_URL: redis.url,
      LIMITS_ADAPTER: 'redis',
      NOTIFY_ADAPTER: 'redis',
    };
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    return {
      env,
      databaseUrl: postgres.url,
      async restart(name, downMs) {
        const parts = {
          kafka: { stop: () => kafka('stop'), start: () => kafka('resume') },
          postgres,
          redis,
          minio,
        }[name];
        await parts.stop();
        await pause(downMs);
        await parts.start();
      },
      async terminateConnections() {
        const client = new pg.Client({ connectionString: postgres.url });
        await client.connect();
        try {
          const { rowCount } = await client.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
          );
          return rowCount ?? 0;
        } finally {
          await client.end();
        }
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
