import pg from 'pg';
import { freePort } from '@correo/testkit';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEmbeddedPostgres as startServer } from '../src/embedded-postgres.js';
import type { ScratchDatabase } from './contract.js';

export interface EmbeddedServer {
  /** Creates an empty database on the embedded server. */
  createDatabase(): Promise<ScratchDatabase>;
  stop(): Promise<void>;
}

/** A throwaway embedded PostgreSQL, started the way the all-in-one starts its own. */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  const root = await mkdtemp(join(tmpdir(), 'correo-embedded-pg-'));
  await chmod(root, 0o755);
  const server = await startServer({ dataDir: root, port: await freePort() });
  const withDatabase = (name: string) => {
    const url = new URL(server.adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server.adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    async createDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      await admin(`CREATE DATABASE ${name}`);
      return { url: withDatabase(name), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
    },
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
