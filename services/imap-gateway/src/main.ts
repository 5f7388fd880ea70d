// Wiring only: config -> adapters -> startImapGateway. The schema is migrated beforehand (libs/store migrate CLI).
import { openBackends, requireDatabaseUrl } from '@correo/backends';
import { createPostgresDirectory } from '@correo/directory';
import { runService } from '@correo/runtime';
import { loadTlsMaterial, reloadTlsOnRenewal } from '@correo/tls';
import { imapGatewaySection } from './config.js';
import { startImapGateway } from './gateway.js';

await runService({
  name: 'imap-gateway',
  sections: { imap: imapGatewaySection },
  async start({ config, logger, addChecks }) {
    const backends = openBackends(config, requireDatabaseUrl(config), logger, ['blobs', 'notify', 'limits']);
    addChecks(backends.checks);
    const tlsOptions = {
      certFile: config.imap.tls.certFile,
      keyFile: config.imap.tls.keyFile,
      dataDir: config.dataDir,
      hostname: config.imap.hostname,
    };
    const tls = await loadTlsMaterial(tlsOptions);
    const gateway = await startImapGateway({
      config: config.imap,
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
