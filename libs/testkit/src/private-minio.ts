import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './free-port.js';

/**
 * An S3 server (MinIO) of one test's own, for tests that take the blob store down and bring it
 * back: the shared one is never stopped. The binary is the one scripts/backends/minio.sh builds
 * into the cache; the data stays in a temp dir across stop() and start().
 */
export interface PrivateMinio {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Starts the server (again) and waits until it answers its health check. */
  start(): Promise<void>;
  /** Stops it (SIGTERM, or `signal`: SIGKILL for a crash) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if running and removes its data. */
  close(): Promise<void>;
}

export async function startPrivateMinio(): Promise<PrivateMinio> {
  const binary = join(process.env.CORREO_CACHE_DIR ?? join(homedir(), '.cache', 'correo'), 'bin', 'minio');
  await access(binary, constants.X_OK).catch(() => {
    throw new Error(`no MinIO binary at ${binary}: run scripts/backends/minio.sh start once to build it`);
  });
  const dir = await mkdtemp(join(tmpdir(), 'correo-private-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = 'correo-private';
  const secretAccessKey = 'correo-private-secret';
  let child: ChildProcess | undefined;

  const start = async () => {
    const started = spawn(
      binary,
      [
        'server',
        dir,
        '--quiet',
        '--address',
        `127.0.0.1:${port}`,
        '--console-address',
        `127.0.0.1:${consolePort}`,
      ],
      {
        env: {
          ...process.env,
          MINIO_ROOT_USER: accessKeyId,
          MINIO_ROOT_PASSWORD: secretAccessKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
          MINIO_CI_CD: '1',
        },
        stdio: 'ignore',
      },
    );
    child = started;
    let failed: Error | undefined;
    started.once('error', (error) => (failed = error));
    await eventually(
      `MinIO on ${endpoint}`,
      async () => {
        if (failed)
          throw new Error(`${binary} did not start (scripts/backends/minio.sh builds it): ${failed.message}`);
        const response = await fetch(`${endpoint}/minio/health/live`);
        return response.ok;
      },
      60_000,
      100,
    );
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill(signal);
    await exited;
  };
  await start();
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    start,
    stop,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
