import { openBackends as openServiceBackends, type Backends as ServiceBackends } from '@correo/backends';
import type { Config } from '@correo/config';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@correo/store';
import type { Logger } from '@correo/telemetry';

export interface Backends extends ServiceBackends {
  /** Where the metadata lives, for the banner: "embedded PostgreSQL on 127.0.0.1:15432" or a host. */
  databaseLabel: string;
}

/**
 * The all-in-one's backends: those of every service, plus the embedded PostgreSQL that this
 * process owns when DATABASE_URL is unset (the embedded default). Only the embedded server
 * must be up before this returns; the other adapters connect lazily.
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
      settings: config.database.embeddedSettings,
      onLog: (line) => pgLog.debug(line.trim()),
    });
    databaseUrl = embedded.url;
    databaseLabel = `embedded PostgreSQL on 127.0.0.1:${config.database.embeddedPort}`;
  }
  const backends = openServiceBackends(config, databaseUrl, logger, ['bus', 'blobs', 'notify', 'limits']);
  return {
    ...backends,
    databaseLabel,
    async close() {
      await backends.close();
      await embedded?.stop();
    },
  };
}
