import { runService } from '@correo/runtime';
import { createPool, StoreHealth } from '@correo/store';
import { buildAdminApi } from './app.js';
import { adminApiSection } from './config.js';

await runService({
  name: 'admin-api',
  sections: { adminApi: adminApiSection },
  async start({ config, logger, addChecks }) {
    if (!config.database.url)
      throw new Error('DATABASE_URL is required (only the all-in-one embeds PostgreSQL)');
    const pool = createPool(config.database.url, {
      onIdleError: (err) => logger.warn({ err }, 'idle database connection failed'),
    });
    addChecks({ database: () => StoreHealth.ping(pool, config.readiness.timeoutMs) });
    if (!config.adminApi.adminToken) {
      logger.warn('ADMIN_TOKEN is not set: only API tokens stored in the database are accepted');
    }
    const app = await buildAdminApi({ pool, adminToken: config.adminApi.adminToken, logger });
    await app.listen({ host: config.adminApi.host, port: config.adminApi.port });
    return {
      listeners: [{ name: 'admin-api', address: `http://${config.adminApi.host}:${config.adminApi.port}` }],
      async close() {
        await app.close();
        await pool.end();
      },
    };
  },
});
