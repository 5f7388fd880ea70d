import { startPrivatePostgres } from '@correo/testkit';
import { backendOutageUnderLoad } from './support/backend-outage.js';

// A PostgreSQL of this test's own, stopped with a fast shutdown (sessions end with 57P01) as in a failover.
backendOutageUnderLoad('PostgreSQL', async () => {
  const database = await startPrivatePostgres();
  return {
    env: { DATABASE_URL: database.url },
    stop: () => database.stop(),
    start: () => database.start(),
    close: () => database.close(),
  };
});
