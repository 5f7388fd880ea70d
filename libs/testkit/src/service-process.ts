import { connect } from 'node:net';
import { eventually } from './eventually.js';
import { spawnNode, type Spawned } from './spawned.js';

/** One correo service's main.ts running as its own process, as in a pod. */
export interface ServiceProcess {
  process: Spawned;
  /** The listeners of its "started" log line by name ("SMTP MX" -> "127.0.0.1:41234"). */
  listeners: Record<string, string>;
  /** Base URL of its /metrics, /healthz and /readyz. */
  healthUrl: string;
  /** The HTTP status of /readyz (200 ready, 503 not). */
  readyz(): Promise<number>;
  /** Log lines (JSON objects) whose msg is `msg`. */
  logged(msg: string): Record<string, unknown>[];
}

/**
 * Spawns `script` (a service's src/main.ts, run through runService) with `env` and waits for its
 * "started" log line: the services log JSON to stdout, LOG_LEVEL must let info through. Port 0
 * everywhere is fine: the listeners are read from the log.
 */
export async function startServiceProcess(
  script: string,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<ServiceProcess> {
  const spawned = spawnNode(script, {
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
  const parsed = (): Record<string, unknown>[] =>
    spawned.lines().flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  let exited = false;
  void spawned.exited.then(() => (exited = true));
  await eventually(
    `${script} to start`,
    () => {
      if (exited) throw new Error(`it exited: ${spawned.stdout()}${spawned.stderr()}`);
      return parsed().some((line) => line.msg === 'started');
    },
    timeoutMs,
  );
  const started = parsed().find((line) => line.msg === 'started')!;
  const listeners = Object.fromEntries(
    (started.listeners as { name: string; address: string }[]).map(({ name, address }) => [name, address]),
  );
  const healthUrl = listeners['metrics, /healthz, /readyz']!;
  return {
    process: spawned,
    listeners,
    healthUrl,
    async readyz() {
      const response = await fetch(`${healthUrl}/readyz`);
      await response.arrayBuffer();
      return response.status;
    },
    logged: (msg) => parsed().filter((line) => line.msg === msg),
  };
}

/** The port of a "host:port" or "scheme://host:port" listener address. */
export function listenerPort(address: string): number {
  return Number(/:(\d+)$/.exec(address)?.[1] ?? NaN);
}

/** True when nothing listens on the loopback port any more (a drained listener). */
export function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
