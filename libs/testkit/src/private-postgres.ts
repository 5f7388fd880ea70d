import { execFile } from 'node:child_process';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/**
 * A PostgreSQL server of one test's own, for tests that must take a database down and bring it
 * back: the shared test server is never stopped. The same steps as scripts/backends/postgres.sh
 * (Debian's binaries, initdb with trust auth for `correo`, loopback only; as the `postgres`
 * user when running as root, since postgres refuses to run as root), on a free port in a temp dir.
 */
export interface PrivatePostgres {
  /** Superuser URL of the `postgres` database; stays the same across stop() and start(). */
  url: string;
  port: number;
  /** Starts the server (again) and waits until it accepts connections. */
  start(): Promise<void>;
  /**
   * A fast shutdown: open sessions are terminated (57P01), as in a failover. `immediate` is a crash
   * instead: every server process quits at once without a checkpoint (pg_ctl -m immediate, SIGQUIT)
   * and the next start runs crash recovery from the WAL, as after a SIGKILL of the node.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops it if running and removes its data. */
  close(): Promise<void>;
}

async function binDir(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[])).sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true }),
  );
  const newest = versions.at(-1);
  if (!newest)
    throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  return join('/usr/lib/postgresql', newest, 'bin');
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await binDir();
  const asRoot = process.getuid?.() === 0;
  // /var/tmp rather than a test's tmpdir: the postgres user must be able to reach it.
  const dir = await mkdtemp('/var/tmp/correo-private-pg-');
  const data = join(dir, 'data');
  const port = await freePort();
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    await chown(dir, Number(stdout.trim()), 0);
  }
  const pg = (program: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args])
      : run(join(bin, program), args);

  await pg('initdb', ['-D', data, '-U', 'correo', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  let running = false;
  const start = async () => {
    await pg('pg_ctl', [
      '-D',
      data,
      '-w',
      '-t',
      '60',
      '-l',
      join(dir, 'postgres.log'),
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=200 -c fsync=off`,
      'start',
    ]);
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    running = false;
  };
  await start();
  return {
    url: `postgres://correo@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async close() {
      if (running) await stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
