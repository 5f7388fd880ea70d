import type pg from 'pg';
import type { Pool } from './pool.js';
import { inTransaction } from './transaction.js';

/** One stored Sieve script of an account (table from 0001, limits from 0290). */
export interface SieveScriptRow {
  name: string;
  content: string;
  active: boolean;
  updatedAt: Date;
}

/** The column's ceiling; callers pass a smaller `maxBytes` from their configuration. */
export const MAX_SIEVE_SCRIPT_BYTES = 1024 * 1024;

/** A script over the size limit (ManageSieve answers QUOTA/MAXSIZE, the admin API 413). */
export class SieveScriptTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the script is ${bytes} bytes, at most ${maxBytes} are allowed`);
    this.name = 'SieveScriptTooLargeError';
  }
}

interface Row {
  name: string;
  content: string;
  active: boolean;
  updated_at: Date;
}

const fromRow = (r: Row): SieveScriptRow => ({
  name: r.name,
  content: r.content,
  active: r.active,
  updatedAt: r.updated_at,
});

/**
 * Stores a script under `name` (replacing one of that name, keeping its active state). Validation
 * against the Sieve grammar is the caller's (libs/sieve parseScript), so the store stays pure SQL.
 * With `maxScripts`, a new name beyond that many scripts is refused ('too-many', ManageSieve's
 * QUOTA/MAXSCRIPTS); the account row is locked so concurrent sessions cannot both take the last slot.
 */
export async function putSieveScript(
  pool: Pool,
  accountId: string,
  name: string,
  content: string,
  options: { maxBytes?: number; activate?: boolean; maxScripts?: number } = {},
): Promise<'stored' | 'too-many'> {
  const maxBytes = Math.min(options.maxBytes ?? MAX_SIEVE_SCRIPT_BYTES, MAX_SIEVE_SCRIPT_BYTES);
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > maxBytes) throw new SieveScriptTooLargeError(bytes, maxBytes);
  if (options.maxScripts !== undefined) {
    // A full account refused in one read, without the locked transaction: a client that keeps
    // putting new names (a loop, a burst) costs one query each. A slot freed meanwhile only means
    // one refusal too many; the locked check below decides every put that may succeed.
    const { rows } = await pool.query<{ others: number }>(
      `SELECT count(*) FILTER (WHERE name <> $2)::int AS others FROM sieve_scripts WHERE account_id = $1`,
      [accountId, name],
    );
    if (rows[0]!.others >= options.maxScripts) return 'too-many';
  }
  return inTransaction(pool, async (client) => {
    if (options.maxScripts !== undefined) {
      await client.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
      const { rows } = await client.query<{ others: number }>(
        `SELECT count(*) FILTER (WHERE name <> $2)::int AS others FROM sieve_scripts WHERE account_id = $1`,
        [accountId, name],
      );
      if (rows[0]!.others >= options.maxScripts) return 'too-many';
    }
    await client.query(
      `INSERT INTO sieve_scripts (account_id, name, content) VALUES ($1, $2, $3)
       ON CONFLICT (account_id, name) DO UPDATE SET content = EXCLUDED.content, updated_at = now()`,
      [accountId, name, content],
    );
    if (options.activate) await activate(client, accountId, name);
    return 'stored';
  });
}

/** The account's script names and which one is active, without their content (LISTSCRIPTS, HAVESPACE). */
export async function listSieveScriptNames(
  pool: Pool,
  accountId: string,
): Promise<{ name: string; active: boolean }[]> {
  const { rows } = await pool.query<{ name: string; active: boolean }>(
    'SELECT name, active FROM sieve_scripts WHERE account_id = $1 ORDER BY name',
    [accountId],
  );
  return rows;
}

/**
 * RFC 5804 2.11.1 RENAMESCRIPT: the script keeps its content and active state. 'missing' when there
 * is no script `from`, 'exists' when `to` is taken.
 */
export async function renameSieveScript(
  pool: Pool,
  accountId: string,
  from: string,
  to: string,
): Promise<'renamed' | 'missing' | 'exists'> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM sieve_scripts WHERE account_id = $1 AND name = ANY($2::text[])',
      [accountId, [from, to]],
    );
    if (!rows.some((r) => r.name === from)) return 'missing';
    if (from === to) return 'renamed';
    if (rows.some((r) => r.name === to)) return 'exists';
    await client.query(
      'UPDATE sieve_scripts SET name = $3, updated_at = now() WHERE account_id = $1 AND name = $2',
      [accountId, from, to],
    );
    return 'renamed';
  });
}

export async function getSieveScript(
  pool: Pool,
  accountId: string,
  name: string,
): Promise<SieveScriptRow | undefined> {
  const { rows } = await pool.query<Row>(
    'SELECT name, content, active, updated_at FROM sieve_scripts WHERE account_id = $1 AND name = $2',
    [accountId, name],
  );
  return rows[0] && fromRow(rows[0]);
}

/** The account's scripts by name (LISTSCRIPTS). */
export async function listSieveScripts(pool: Pool, accountId: string): Promise<SieveScriptRow[]> {
  const { rows } = await pool.query<Row>(
    'SELECT name, content, active, updated_at FROM sieve_scripts WHERE account_id = $1 ORDER BY name',
    [accountId],
  );
  return rows.map(fromRow);
}

/** The active script of each given account that has one (what the mda runs), by account id. */
export async function activeSieveScripts(
  pool: Pool,
  accountIds: readonly string[],
): Promise<Map<string, SieveScriptRow>> {
  if (accountIds.length === 0) return new Map();
  const { rows } = await pool.query<Row & { account_id: string }>({
    name: 'correo-sieve-active',
    text: `SELECT account_id, name, content, active, updated_at FROM sieve_scripts
            WHERE account_id = ANY($1::bigint[]) AND active`,
    values: [[...new Set(accountIds)]],
  });
  return new Map(rows.map((r) => [r.account_id, fromRow(r)]));
}

async function activate(client: pg.PoolClient, accountId: string, name: string | null): Promise<boolean> {
  // Deactivate first: the partial unique index allows one active row at any moment.
  await client.query('UPDATE sieve_scripts SET active = false WHERE account_id = $1 AND active', [accountId]);
  if (name === null) return true;
  const { rowCount } = await client.query(
    'UPDATE sieve_scripts SET active = true WHERE account_id = $1 AND name = $2',
    [accountId, name],
  );
  return rowCount === 1;
}

/**
 * Makes `name` the active script (null: none, RFC 5804 SETACTIVE ""). False when there is no
 * script of that name; the previous active one then stays active.
 */
export async function activateSieveScript(
  pool: Pool,
  accountId: string,
  name: string | null,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
    const previous = await client.query<{ name: string }>(
      'SELECT name FROM sieve_scripts WHERE account_id = $1 AND active',
      [accountId],
    );
    const done = await activate(client, accountId, name);
    if (!done && previous.rows[0]) await activate(client, accountId, previous.rows[0].name);
    return done;
  });
}

/**
 * Deletes a script. RFC 5804 2.10: the active script cannot be deleted ('active'); 'missing' when
 * there is no such script.
 */
export async function deleteSieveScript(
  pool: Pool,
  accountId: string,
  name: string,
): Promise<'deleted' | 'active' | 'missing'> {
  const { rows } = await pool.query<{ active: boolean; deleted: boolean }>(
    `WITH found AS (SELECT id, active FROM sieve_scripts WHERE account_id = $1 AND name = $2),
          gone AS (DELETE FROM sieve_scripts s USING found WHERE s.id = found.id AND NOT found.active
                   RETURNING s.id)
     SELECT found.active, EXISTS (SELECT 1 FROM gone) AS deleted FROM found`,
    [accountId, name],
  );
  if (!rows[0]) return 'missing';
  return rows[0].deleted ? 'deleted' : 'active';
}
