import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A throwaway CORREO_DATA_DIR. As root the embedded PostgreSQL runs as the `postgres` user,
 * which must be able to traverse it, hence 0755 instead of mkdtemp's 0700.
 */
export async function makeDataDir(prefix = 'correo-data-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** The postmaster.pid of the embedded cluster under `dataDir`, while its process lives. */
function postmasterPid(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postgres', 'data', 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 && isPostgres(pid) ? pid : undefined;
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return false;
  }
}

/**
 * Pids of PostgreSQL servers still running on the embedded cluster of `dataDir`: the one in
 * postmaster.pid, plus any process whose command line names the cluster's directory (a
 * postmaster whose pid file is already gone).
 */
export function postgresLeftFor(dataDir: string): number[] {
  const pgdata = join(dataDir, 'postgres', 'data');
  const pids = new Set<number>();
  const fromPidFile = postmasterPid(dataDir);
  if (fromPidFile !== undefined) pids.add(fromPidFile);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((arg) => arg === pgdata) && cmdline.some((arg) => arg.endsWith('postgres'))) {
        pids.add(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return [...pids];
}

/**
 * Cleanup for after(): a test that failed midway may leave the server our child started (it
 * outlives a killed parent). Fast shutdown, then the directory goes.
 */
export async function removeDataDir(dataDir: string): Promise<void> {
  for (const pid of postgresLeftFor(dataDir)) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // Already gone.
    }
  }
  for (let i = 0; i < 100 && postgresLeftFor(dataDir).length > 0; i++) await sleep(100);
  for (const pid of postgresLeftFor(dataDir)) process.kill(pid, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
}
