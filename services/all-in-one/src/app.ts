import { join } from 'node:path';
import { buildAdminApi, adminApiSection } from '@correo/admin-api';
import type { Config } from '@correo/config';
import { createPostgresDirectory, ensureDemoAccount } from '@correo/directory';
import { mdaConfigSection, startMda } from '@correo/mda';
import { retryUntilDone, type Listener, type RunningService, type ServiceContext } from '@correo/runtime';
import { migrate } from '@correo/store';
import { openBackends, type Backends } from './backends.js';
import { allInOneSection } from './config.js';
import { readOrCreateSecret } from './secrets.js';

/** The topics every deployment has; the mda scales with the partitions of mail.accepted. */
export const TOPICS = ['mail.accepted', 'mail.outbound'] as const;

export const sections = { adminApi: adminApiSection, mda: mdaConfigSection, allInOne: allInOneSection };
export type AllInOneConfig = Config & {
  adminApi: ReturnType<typeof adminApiSection.build>;
  mda: ReturnType<typeof mdaConfigSection.build>;
  allInOne: ReturnType<typeof allInOneSection.build>;
};

export interface AllInOne extends RunningService {
  backends: Backends;
  demo: { address: string; password: string } | undefined;
  adminToken: string;
}

/**
 * Every correo service in one process over one set of backends: the embedded default of
 * `make dev`. Services join here as they land; each keeps its own start function so that it
 * also runs alone in the distributed deployment.
 */
export async function startAllInOne({
  config,
  logger,
  signal,
  addChecks,
  progress,
}: ServiceContext<AllInOneConfig>): Promise<AllInOne> {
  const backends = await openBackends(config, logger);
  addChecks(backends.checks);
  const stops: (() => Promise<void>)[] = [() => backends.close()];
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    progress('starting: migrating the database');
    await retryUntilDone('database migration', () => migrate(backends.databaseUrl), logger, signal);
    progress('starting: creating bus topics');
    await retryUntilDone(
      'bus topic creation',
      () =>
        backends.bus.ensureTopics(
          TOPICS.map((name) => ({ name, partitions: config.bus.kafka.topicPartitions })),
        ),
      logger,
      signal,
    );

    let demo: AllInOne['demo'];
    if (config.allInOne.demo) {
      const password =
        config.allInOne.demoPassword ?? (await readOrCreateSecret(join(config.dataDir, 'demo-password')));
      await ensureDemoAccount(backends.pool, { address: config.allInOne.demoAddress, password });
      demo = { address: config.allInOne.demoAddress, password };
    }

    const directory = createPostgresDirectory(backends.pool);
    const mda = await startMda({
      bus: backends.bus,
      blobs: backends.blobs,
      pool: backends.pool,
      directory,
      notifier: backends.notifier,
      logger: logger.child({ component: 'mda' }),
      config: config.mda,
    });
    stops.push(() => mda.close());

    const adminToken =
      config.adminApi.adminToken ?? (await readOrCreateSecret(join(config.dataDir, 'admin-token'), 32));
    const adminApi = await buildAdminApi({
      pool: backends.pool,
      adminToken,
      logger: logger.child({ component: 'admin-api' }),
    });
    await adminApi.listen({ host: config.adminApi.host, port: config.adminApi.port });
    stops.push(() => adminApi.close());
    const listeners: Listener[] = [
      {
        name: 'admin-api (REST, OpenAPI at /docs)',
        address: `http://${config.adminApi.host}:${portOf(adminApi)}`,
      },
    ];
    return { backends, demo, adminToken, listeners, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function portOf(app: { server: { address(): unknown } }): number {
  return (app.server.address() as { port: number }).port;
}

/** What runs where, for a person at a terminal. */
export function describe(config: AllInOneConfig, app: AllInOne): string {
  const { bus, blobs, notifier, limits } = app.backends;
  const lines = [
    'correo is running',
    `  data directory   ${config.dataDir}`,
    `  metadata         ${app.backends.databaseLabel}`,
    `  bus              ${bus.kind === 'postgres' ? 'PostgreSQL queue tables' : `Kafka ${config.bus.kafka.brokers.join(',')}`}`,
    `  blobs            ${blobs.kind === 'fs' ? config.blobs.dir : `S3 bucket ${config.blobs.s3.bucket}`}`,
    `  notify / limits  ${notifier.kind} / ${limits.kind}`,
    ...app.listeners.map((l) => `  ${l.name}: ${l.address}`),
  ];
  if (app.demo) lines.push(`  demo account     ${app.demo.address}  password: ${app.demo.password}`);
  lines.push(
    `  admin token      ${config.adminApi.adminToken ? '(ADMIN_TOKEN)' : join(config.dataDir, 'admin-token')}`,
  );
  return lines.join('\n');
}
