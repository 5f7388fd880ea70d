import { after, before } from 'node:test';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import type { EmbeddedServer } from './embedded-postgres.js';
import { storeContract } from './contract.js';

let server: EmbeddedServer | undefined;

before(async () => {
  server = await startEmbeddedPostgres();
});
after(async () => {
  await server?.stop();
});

storeContract('embedded', () => {
  if (!server) throw new Error('embedded PostgreSQL did not start');
  return server.createDatabase();
});
