import type { Config } from '@correo/config';
import { migrate } from '@correo/store';
import { startHealthServer, type HealthServer, type Logger, type ReadinessCheck } from '@correo/telemetry';
import { openBackends, type Backends } from './backends.js';
import { retryUntilDone } from './retry.js';

/** The topics every deployment has; the mda scales with the partitions of mail.accepted. */
export const TOPICS = ['mail.accepted', 'mail.outbound'] as const;

export interface Listener {
  name: string;
  address: string;
}

export interface AllInOne {
  backends: Backends;
  health: HealthServer;
  listeners: Listener[];
  /** Resolves once the schema is migrated, the topics exist and every service listens. */
  started: Promise<void>;
  close(): Promise<void>;
}

/**
 * Every correo service in one process over one set of backends: the embedded default of
 * `make dev`. The health server comes up first, so that while a backend is unreachable
 * /readyz says which one (and the log says why) instead of the process hanging silently.
 * Services join here as they land; each keeps its own start function so that it also runs
 * alone in the distributed deployment.
 */
export async function startAllInOne(config: Config, logger: Logger): Promise<AllInOne> {
  const backends = await openBackends(config, logger);
  let startupState = 'starting: migrating the database';
  const checks: Record<string, ReadinessCheck> = {
    ...backends.checks,
    startup: async () => {
      if (startupState !== 'done') throw new Error(startupState);
    },
  };
  let health: HealthServer;
  try {
    health = await startHealthServer({
      host: config.metrics.host,
      port: config.metrics.port,
      checks,
      timeoutMs: config.readiness.timeoutMs,
    });
  } catch (error) {
    await backends.close();
    throw error;
  }

  const shutdown = new AbortController();
  const stops: (() => Promise<void>)[] = [];
  const listeners: Listener[] = [
    { name: 'metrics, /healthz, /readyz', address: `http://${config.metrics.host}:${health.port}` },
  ];

  const started = (async () => {
    await retryUntilDone('database migration', () => migrate(backends.databaseUrl), logger, shutdown.signal);
    startupState = 'starting: creating bus topics';
    await retryUntilDone(
      'bus topic creation',
      () =>
        backends.bus.ensureTopics(
          TOPICS.map((name) => ({ name, partitions: config.bus.kafka.topicPartitions })),
        ),
      logger,
      shutdown.signal,
    );
    startupState = 'done';
  })();
  // Failures are logged and retried inside; only shutdown ends this early.
  started.catch(() => {});

  return {
    backends,
    health,
    listeners,
    started,
    async close() {
      shutdown.abort(new Error('shutting down'));
      await started.catch(() => {});
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await health.close();
      await backends.close();
    },
  };
}

/** What runs where, for a person at a terminal. */
export function describe(config: Config, app: AllInOne): string {
  const { bus, blobs, notifier, limits } = app.backends;
  const lines = [
    'correo is running',
    `  data directory   ${config.dataDir}`,
    `  metadata         ${app.backends.databaseLabel}`,
    `  bus              ${bus.kind === 'postgres' ? 'PostgreSQL queue tables' : `Kafka ${config.bus.kafka.brokers.join(',')}`}`,
    `  blobs            ${blobs.kind === 'fs' ? config.blobs.dir : `S3 bucket ${config.blobs.s3.bucket}`}`,
    `  notify / limits  ${notifier.kind} / ${limits.kind}`,
    ...app.listeners.map((l) => `  ${l.name.padEnd(16)} ${l.address}`),
  ];
  return lines.join('\n');
}
