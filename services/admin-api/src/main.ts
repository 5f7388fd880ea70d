import pino from 'pino';
import { loadConfigOrExit } from '@correo/config';
import { createPool } from '@correo/store';
import { buildAdminApi } from './app.js';
import { adminApiSection } from './config.js';

const config = loadConfigOrExit(process.env, { adminApi: adminApiSection });
const logger = pino({ level: config.logLevel, name: 'admin-api' });

if (!config.database.url) {
  logger.fatal('DATABASE_URL is required for the standalone admin-api (the all-in-one embeds PostgreSQL)');
  process.exit(1);
}
const pool = createPool(config.database.url, {
  onIdleError: (err) => logger.warn({ err }, 'idle database connection failed'),
});
const app = await buildAdminApi({ pool, adminToken: config.adminApi.adminToken, logger });
if (!config.adminApi.adminToken)
  logger.warn('ADMIN_TOKEN is not set: only API tokens stored in the database are accepted');

await app.listen({ host: config.adminApi.host, port: config.adminApi.port });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
}
