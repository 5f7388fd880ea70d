import { openBlobs, openBus, openLimits, openNotifier } from '@correo/backends';
import type { BlobStore } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { Config } from '@correo/config';
import type { Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import {
  createPool,
  startEmbeddedPostgres,
  StoreHealth,
  type EmbeddedPostgresHandle,
  type Pool,
} from '@correo/store';
import type { Logger, ReadinessCheck } from '@correo/telemetry';

export interface Backends {
  databaseUrl: string;
  /** Where the metadata lives, for the banner: "embedded PostgreSQL on 127.0.0.1:15432" or a host. */
  databaseLabel: string;
  pool: Pool;
  bus: Bus;
  blobs: BlobStore;
  notifier: Notifier;
  limits: Limits;
  /** One readiness check per backend, for /readyz. */
  checks: Record<string, ReadinessCheck>;
  close(): Promise<void>;
}

/**
 * Opens every backend the all-in-one needs: the embedded default when nothing points
 * elsewhere (embedded PostgreSQL, PostgreSQL-table bus, files, in-process), or whatever the
 * configuration names. Adapters connect lazily, so this returns at once even when a remote
 * backend is down; only the embedded PostgreSQL, which this process owns, must start here.
 */
export async function openBackends(config: Config, logger: Logger): Promise<Backends> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = config.database.url;
  let databaseLabel = databaseUrl ? new URL(databaseUrl).host : '';
  if (!databaseUrl) {
    const pgLog = logger.child({ component: 'embedded-postgres' });
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.database.embeddedPort,
      onLog: (line) => pgLog.debug(line.trim()),
    });
    databaseUrl = embedded.url;
    databaseLabel = `embedded PostgreSQL on 127.0.0.1:${config.database.embeddedPort}`;
  }

  const busLog = logger.child({ component: 'bus' });
  const pool = createPool(databaseUrl, { max: 20 });
  const bus = openBus(config, databaseUrl, (level, message, fields) => busLog[level](fields ?? {}, message));
  const blobs = openBlobs(config);
  const notifier = openNotifier(config);
  const limits = openLimits(config);

  const timeoutMs = config.readiness.timeoutMs;
  return {
    databaseUrl,
    databaseLabel,
    pool,
    bus,
    blobs,
    notifier,
    limits,
    checks: {
      database: () => StoreHealth.ping(pool, timeoutMs),
      bus: () => bus.ping(),
      blobs: () => blobs.ping(),
      notify: () => notifier.ping(),
      limits: () => limits.ping(),
    },
    async close() {
      await Promise.allSettled([bus.close(), blobs.close(), notifier.close(), limits.close()]);
      await pool.end();
      await embedded?.stop();
    },
  };
}
