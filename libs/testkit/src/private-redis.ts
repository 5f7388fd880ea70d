import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { eventually } from './eventually.js';
import { freePort } from './free-port.js';

/**
 * A Redis server of one test's own, for tests that take the limits store down and bring it back: the
 * shared one is never stopped. Debian's redis-server (scripts/backends/redis.sh installs it), on a
 * free loopback port. Nothing persisted unless `persist` (a restart starts empty, as a failover to a
 * fresh replica may); with it, an append-only file fsynced per write in a temp dir of its own, so a
 * restart after a SIGKILL comes back with every counter, as a crashed server with its disk does.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Starts the server (again) and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (SIGTERM, or `signal`: SIGKILL for a crash) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if running and removes what it persisted. */
  close(): Promise<void>;
}

/** The server is not started: a test may first want the address with nothing behind it. */
export async function privateRedis(options: { persist?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = options.persist ? await mkdtemp('/var/tmp/correo-private-redis-') : undefined;
  const persistence = dir
    ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--save', '', '--appendonly', 'no'];
  let child: ChildProcess | undefined;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill(signal);
    await once(running, 'exit');
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const started = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), ...persistence], {
        stdio: 'ignore',
      });
      child = started;
      let failed: Error | undefined;
      started.once('error', (error) => (failed = error));
      await eventually(`redis-server on port ${port}`, async () => {
        if (failed) throw new Error(`redis-server did not start: ${failed.message}`);
        return accepts(port);
      });
    },
    stop,
    async close() {
      await stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
