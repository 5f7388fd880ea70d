// Wiring only: config -> adapters -> startPop3Gateway. The schema is migrated beforehand (libs/store migrate CLI).
import { openBackends, requireDatabaseUrl } from '@correo/backends';
import { createPostgresDirectory } from '@correo/directory';
import { runService } from '@correo/runtime';
import { loadTlsMaterial, reloadTlsOnRenewal } from '@correo/tls';
import { pop3GatewaySection } from './config.js';
import { startPop3Gateway } from './gateway.js';

await runService({
  name: 'pop3-gateway',
  sections: { pop3: pop3GatewaySection },
  async start({ config, logger, addChecks }) {
    const backends = openBackends(config, requireDatabaseUrl(config), logger, ['blobs', 'notify', 'limits']);
    addChecks(backends.checks);
    const tlsOptions = {
      certFile: config.pop3.tls.certFile,
      keyFile: config.pop3.tls.keyFile,
      dataDir: config.dataDir,
      hostname: config.pop3.hostname,
    };
    const tls = await loadTlsMaterial(tlsOptions);
    const gateway = await startPop3Gateway({
      config: config.pop3,
      pool: backends.pool,
      blobs: backends.blobs,
      directory: createPostgresDirectory(backends.pool, {
        allowUnverifiedDomains: config.directory.allowUnverifiedDomains,
      }),
      limits: backends.limits,
      notifier: backends.notifier,
      logger,
      tls,
      trustedProxies: config.proxy.trustedCidrs,
      leaseTiming: config.limits.leases,
    });
    // A renewed certificate reaches new connections without a restart.
    const certificateWatch = reloadTlsOnRenewal(tlsOptions, tls, [gateway], logger);
    return {
      listeners: gateway.listeners,
      async close() {
        certificateWatch.close();
        await gateway.close();
        await backends.close();
      },
    };
  },
});
