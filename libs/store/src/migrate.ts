import pg from 'pg';
import { readMigrationFiles } from './migration-files.js';
import type { MigrationFile } from './migration-files.js';

/**
 * Serialises migrate() across every process sharing the database (pods starting together):
 * an arbitrary constant, taken as a session-level advisory lock for the whole run.
 */
const MIGRATION_LOCK_KEY = '7212003310491001';

export interface MigrateOptions {
  /** Defaults to the migrations shipped in libs/store/migrations. */
  migrationsDir?: string;
}

export interface MigrateResult {
  /** Migrations this call applied, in order; empty when the schema was already current. */
  applied: { version: number; name: string }[];
}

/** An applied migration's file changed since it ran: the live schema no longer matches the code. */
export class MigrationChecksumError extends Error {
  constructor(
    readonly version: number,
    readonly migrationName: string,
    readonly recorded: string,
    readonly actual: string,
  ) {
    super(
      `migration ${String(version).padStart(4, '0')}_${migrationName} was applied with checksum ${recorded} ` +
        `but the file now has checksum ${actual}; applied migrations must never be edited, add a new one instead`,
    );
    this.name = 'MigrationChecksumError';
  }
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Brings the database schema up to date. Idempotent, and safe to call from many processes at
 * once: they queue on an advisory lock and the later ones find nothing left to do. Each migration
 * runs in its own transaction together with its schema_migrations row, so a failure leaves the
 * schema at the last complete migration.
 */
export async function migrate(
  /** A connection string, or a client config (tests reach an in-process Postgres through one). */
  connection: string | pg.ClientConfig,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const files = await readMigrationFiles(options.migrationsDir);
  const config = typeof connection === 'string' ? { connectionString: connection } : connection;
  const client = new pg.Client({ ...config, application_name: 'correo-migrate' });
  await client.connect();
  try {
    // Released by client.end() below, which ends the session, even when a migration fails.
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    return await applyPending(client, files);
  } finally {
    await client.end();
  }
}

async function applyPending(client: pg.Client, files: MigrationFile[]): Promise<MigrateResult> {
  // Under the lock: CREATE TABLE IF NOT EXISTS alone races when two sessions run it at once.
  await client.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const { rows } = await client.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations');
  const applied = new Map(rows.map((row) => [row.version, row]));

  // Versions recorded but absent from `files` are tolerated: during a rolling upgrade an older pod
  // restarts against a schema a newer pod already migrated forward.
  for (const file of files) {
    const row = applied.get(file.version);
    if (row && row.checksum !== file.checksum) {
      throw new MigrationChecksumError(file.version, file.name, row.checksum, file.checksum);
    }
  }

  const result: MigrateResult = { applied: [] };
  for (const file of files) {
    if (applied.has(file.version)) continue;
    await client.query('BEGIN');
    try {
      await client.query(file.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        file.version,
        file.name,
        file.checksum,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      // A failed ROLLBACK means the connection is gone, and with it the transaction: keep the real error.
      await client.query('ROLLBACK').catch(() => {});
      const label = `${String(file.version).padStart(4, '0')}_${file.name}`;
      throw new Error(`migration ${label} failed: ${(error as Error).message}`, { cause: error });
    }
    result.applied.push({ version: file.version, name: file.name });
  }
  return result;
}
