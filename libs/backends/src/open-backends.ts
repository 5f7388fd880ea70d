import type { BlobStore } from '@correo/blobs';
import type { Bus } from '@correo/bus';
import type { Config } from '@correo/config';
import type { Limits } from '@correo/limits';
import type { Notifier } from '@correo/notify';
import { createPool, StoreHealth, withStoredBodies, type Pool } from '@correo/store';
import type { Logger, ReadinessCheck } from '@correo/telemetry';
import { watchPool } from './metrics.js';
import { openBlobs, openBus, openLimits, openNotifier } from './open.js';

export type BackendPort = 'bus' | 'blobs' | 'notify' | 'limits';

export interface Backends {
  databaseUrl: string;
  pool: Pool;
  bus: Bus;
  blobs: BlobStore;
  notifier: Notifier;
  limits: Limits;
  /** Readiness: the database, and each port the service said it uses. */
  checks: Record<string, ReadinessCheck>;
  close(): Promise<void>;
}

/**
 * Every backend a service process talks to, opened from configuration the same way in every
 * service. Adapters connect lazily, so this never blocks on a backend that is down; `uses`
 * decides which of them the service's /readyz depends on (a POP3 pod must not turn unready
 * because Kafka is, since it never talks to Kafka).
 */
export function openBackends(
  config: Config,
  databaseUrl: string,
  logger: Logger,
  uses: readonly BackendPort[],
): Backends {
  const pool = createPool(databaseUrl, {
    max: 20,
    idleTimeoutMs: config.database.poolIdleMs,
    onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost'),
  });
  const unwatchPool = watchPool(pool);
  const busLog = logger.child({ component: 'bus' });
  const bus = openBus(config, databaseUrl, (level, message, fields) => busLog[level](fields ?? {}, message));
  // Small bodies the mda kept in PostgreSQL are read through the blob store like any other.
  const blobs = withStoredBodies(openBlobs(config), pool);
  const notifier = openNotifier(config);
  const limits = openLimits(config);
  const all: Record<BackendPort, ReadinessCheck> = {
    bus: () => bus.ping(),
    blobs: () => blobs.ping(),
    notify: () => notifier.ping(),
    limits: () => limits.ping(),
  };
  return {
    databaseUrl,
    pool,
    bus,
    blobs,
    notifier,
    limits,
    checks: {
      database: () => StoreHealth.ping(pool, config.readiness.timeoutMs),
      ...Object.fromEntries(uses.map((port) => [port, all[port]])),
    },
    async close() {
      await Promise.allSettled([bus.close(), blobs.close(), notifier.close(), limits.close()]);
      unwatchPool();
      await pool.end();
    },
  };
}

/** The distributed services need DATABASE_URL; only the all-in-one embeds PostgreSQL. */
export function requireDatabaseUrl(config: Config): string {
  if (!config.database.url)
    throw new Error('DATABASE_URL is required (only the all-in-one embeds PostgreSQL)');
  return config.database.url;
}
