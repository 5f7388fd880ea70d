// Wiring only: config -> adapters -> startImapGateway. The schema is migrated beforehand (libs/store migrate CLI).
import { openBlobs, openLimits, openNotifier } from '@correo/backends';
import { createPostgresDirectory } from '@correo/directory';
import { runService } from '@correo/runtime';
import { createPool, StoreHealth } from '@correo/store';
import { loadTlsMaterial } from '@correo/tls';
import { imapGatewaySection } from './config.js';
import { startImapGateway } from './gateway.js';

await runService({
  name: 'imap-gateway',
  sections: { imap: imapGatewaySection },
  async start({ config, logger, addChecks }) {
    const databaseUrl = config.database.url;
    if (!databaseUrl) throw new Error('DATABASE_URL is required (only the all-in-one embeds PostgreSQL)');
    const pool = createPool(databaseUrl, {
      onIdleError: (error) => logger.warn({ err: error }, 'idle PostgreSQL connection lost'),
    });
    const blobs = openBlobs(config);
    const limits = openLimits(config);
    const notifier = openNotifier(config);
    addChecks({
      database: () => StoreHealth.ping(pool, config.readiness.timeoutMs),
      blobs: () => blobs.ping(),
      limits: () => limits.ping(),
      notify: () => notifier.ping(),
    });
    const tls = await loadTlsMaterial({
      certFile: config.imap.tls.certFile,
      keyFile: config.imap.tls.keyFile,
      dataDir: config.dataDir,
      hostname: config.imap.hostname,
    });
    const gateway = await startImapGateway({
      config: config.imap,
      pool,
      blobs,
      directory: createPostgresDirectory(pool),
      limits,
      notifier,
      logger,
      tls,
    });
    return {
      listeners: gateway.listeners,
      async close() {
        await gateway.close();
        await Promise.allSettled([blobs.close(), limits.close(), notifier.close()]);
        await pool.end();
      },
    };
  },
});
