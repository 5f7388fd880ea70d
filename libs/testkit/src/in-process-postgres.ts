import { createHash, randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import pg from 'pg';

export interface InProcessPostgres {
  /**
   * For pg.Client / pg.Pool (and libs/store migrate()): the real `pg` driver, talking the wire protocol
   * to PGlite inside this process instead of over a socket, so rows are parsed exactly as in production.
   */
  config: pg.ClientConfig;
  /** One connection (PGlite is a single session): transactions queue on it as they would on a lock. */
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface InProcessTemplate {
  /** Names what prepare() builds (e.g. the migrations' checksums): a new key builds it anew. */
  key: string;
  /** Brings an empty database to the template's state (e.g. libs/store migrate(config)). */
  prepare(config: pg.ClientConfig): Promise<unknown>;
}

/**
 * A real PostgreSQL (PGlite: the server compiled to WebAssembly) in this process, in memory, for
 * behaviour tests that run the store's own SQL without a server, a socket or the shared backends.
 * Not a mock: the same SQL, constraints, locks and type parsing as the shared PostgreSQL.
 *
 * With a template, the database starts in the template's state. initdb is most of PGlite's start-up
 * (seconds on a busy machine), so the prepared data directory is kept as a file under the system temp
 * dir, keyed by the template, and later starts load it instead.
 */
export async function startInProcessPostgres(template?: InProcessTemplate): Promise<InProcessPostgres> {
  const db = template ? await fromTemplate(template) : await PGlite.create();
  const config = createPgConfig(db);
  const pool = new pg.Pool(config);
  // As libs/store createPool: an idle connection's error must not kill the test process.
  pool.on('error', () => {});
  return {
    config,
    pool,
    async close() {
      await pool.end();
      await db.close();
    },
  };
}

async function fromTemplate(template: InProcessTemplate): Promise<PGlite> {
  const digest = createHash('sha256').update(template.key).digest('hex').slice(0, 16);
  const file = join(tmpdir(), `correo-pglite-${digest}.tar`);
  const kept = await readFile(file).catch(() => null);
  if (kept) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([kept]) });
    } catch {
      // Written by another PGlite version, or cut short: build it again.
      await rm(file, { force: true });
    }
  }
  const db = await PGlite.create();
  await template.prepare(createPgConfig(db));
  const dump = await db.dumpDataDir('none');
  // Written aside and renamed, so a test process starting meanwhile never loads half a file.
  const partial = `${file}.${randomUUID()}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, file);
  return db;
}
