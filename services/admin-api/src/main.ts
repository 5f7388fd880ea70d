import { openBackends, requireDatabaseUrl } from '@correo/backends';
import { runService } from '@correo/runtime';
import { buildAdminApi } from './app.js';
import { adminApiSection } from './config.js';
import { clientSettingsSection } from '@correo/autoconfig';

await runService({
  name: 'admin-api',
  sections: { adminApi: adminApiSection, client: clientSettingsSection },
  async start({ config, logger, addChecks }) {
    // Only the database: the other adapters are lazy and stay out of readiness (the bus only
    // replays dead letters).
    const backends = openBackends(config, requireDatabaseUrl(config), logger, []);
    addChecks(backends.checks);
    if (!config.adminApi.adminToken) {
      logger.warn('ADMIN_TOKEN is not set: only API tokens stored in the database are accepted');
    }
    const app = await buildAdminApi({
      pool: backends.pool,
      bus: backends.bus,
      adminToken: config.adminApi.adminToken,
      dnsServers: config.adminApi.dnsServers,
      clientSettings: config.client(),
      logger,
    });
    await app.listen({ host: config.adminApi.host, port: config.adminApi.port });
    const bound = app.server.address();
    const port = bound && typeof bound === 'object' ? bound.port : config.adminApi.port;
    return {
      listeners: [{ name: 'admin-api', address: `http://${config.adminApi.host}:${port}` }],
      // Fastify's close stops accepting, answers 503 to new requests on open connections and
      // lets the requests in progress finish (readiness is already false).
      async close() {
        await app.close();
        await backends.close();
      },
    };
  },
});
