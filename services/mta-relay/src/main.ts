// Wiring only: config -> adapters -> startMtaRelay. The schema is migrated beforehand (libs/store migrate CLI).
import { openBackends, requireDatabaseUrl } from '@correo/backends';
import { createPostgresDirectory } from '@correo/directory';
import { runService } from '@correo/runtime';
import { relayConfigSection } from './config.js';
import { startMtaRelay } from './relay.js';

await runService({
  name: 'mta-relay',
  sections: { relay: relayConfigSection },
  async start({ config, logger, addChecks }) {
    const backends = openBackends(config, requireDatabaseUrl(config), logger, ['bus', 'blobs']);
    addChecks(backends.checks);
    const relay = await startMtaRelay({
      bus: backends.bus,
      blobs: backends.blobs,
      pool: backends.pool,
      directory: createPostgresDirectory(backends.pool, {
        allowUnverifiedDomains: config.directory.allowUnverifiedDomains,
      }),
      logger,
      config: config.relay,
    });
    addChecks(relay.checks);
    return {
      listeners: [],
      async close() {
        await relay.close();
        await backends.close();
      },
    };
  },
});
