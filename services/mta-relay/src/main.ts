// Wiring only: config -> adapters -> startMtaRelay. The schema is migrated beforehand (libs/store migrate CLI).
import { openBlobs, openBus } from '@correo/backends';
import { createPostgresDirectory } from '@correo/directory';
import { runService } from '@correo/runtime';
import { createPool, StoreHealth } from '@correo/store';
import { relayConfigSection } from './config.js';
import { startMtaRelay } from './relay.js';

await runService({
  name: 'mta-relay',
  sections: { relay: relayConfigSection },
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
    addChecks({
      database: () => StoreHealth.ping(pool, config.readiness.timeoutMs),
      bus: () => bus.ping(),
      blobs: () => blobs.ping(),
    });
    const relay = await startMtaRelay({
      bus,
      blobs,
      pool,
      directory: createPostgresDirectory(pool),
      logger,
      config: config.relay,
    });
    return {
      listeners: [],
      async close() {
        await relay.close();
        await Promise.allSettled([bus.close(), blobs.close()]);
        await pool.end();
      },
    };
  },
});
