// Wiring only: config -> adapters -> startMda. The schema is migrated beforehand (libs/store migrate CLI).
import { openBlobs, openBus, openNotifier } from '@correo/backends';
import { createPostgresDirectory } from '@correo/directory';
import { runService } from '@correo/runtime';
import { createPool, StoreHealth } from '@correo/store';
import { mdaConfigSection } from './config.js';
import { startMda } from './mda.js';

await runService({
  name: 'mda',
  sections: { mda: mdaConfigSection },
  async start({ config, logger, addChecks }) {
    const databaseUrl = config.database.url;
    if (!databaseUrl) throw new Error('DATABASE_URL is required (only the all-in-one embeds PostgreSQL)');
    const pool = createPool(databaseUrl, {
      onIdleError: (error) => logger.warn({ err: error }, 'idle PostgreSQL connection lost'),
    });
    const bus = openBus(config, databaseUrl, (level, message, fields) =>
      logger[level]({ component: 'bus', ...fields }, message),
    );
    const blobs = openBlobs(config);
    const notifier = openNotifier(config);
    addChecks({
      database: () => StoreHealth.ping(pool, config.readiness.timeoutMs),
      bus: () => bus.ping(),
      blobs: () => blobs.ping(),
      notify: () => notifier.ping(),
    });
    const mda = await startMda({
      bus,
      blobs,
      pool,
      directory: createPostgresDirectory(pool),
      notifier,
      logger,
      config: config.mda,
    });
    return {
      listeners: [],
      async close() {
        await mda.close();
        await Promise.allSettled([bus.close(), blobs.close(), notifier.close()]);
        await pool.end();
      },
    };
  },
});
