import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { eventually } from './eventually.js';
import { freePort } from './free-port.js';

/**
 * A Redis server of one test's own, for tests that take the limits store down and bring it back: the
 * shared one is never stopped. Debian's redis-server (scripts/backends/redis.sh installs it), on a
 * free loopback port, nothing persisted: a restart starts empty, as a failover to a fresh replica may.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Starts the server (again) and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (SIGTERM) and waits for the process to exit. */
  stop(): Promise<void>;
}

/** The server is not started: a test may first want the address with nothing behind it. */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const started = spawn(
        'redis-server',
        ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      child = started;
      let failed: Error | undefined;
      started.once('error', (error) => (failed = error));
      await eventually(`redis-server on port ${port}`, async () => {
        if (failed) throw new Error(`redis-server did not start: ${failed.message}`);
        return accepts(port);
      });
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      running.kill('SIGTERM');
      await once(running, 'exit');
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
