import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '@correo/store';
import { loadTlsMaterial } from '@correo/tls';
import { UNANSWERED_DNS, type MailEndpoints } from './all-in-one-process.js';
import { makeDataDir, removeDataDir } from './data-dir.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnNode, type Exit, type Spawned } from './spawned.js';

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

/** How a service start is bounded and named. */
export interface ServiceStartOptions {
  /** The whole start's bound (the "started" line and, for a ready start, /readyz 200); default 120 s. */
  timeoutMs?: number;
  /** Named in the error ("imap-gateway#2"); default: the service directory of `script`. */
  name?: string;
  /** Told the process as soon as it is spawned (a test checks it was killed). */
  onSpawn?: (spawned: Spawned) => void;
}

const LOG_TAIL_LINES = 30;

/** The last lines a process printed (stdout and stderr), for an error message. */
function logTail(spawned: Spawned): string {
  const lines = `${spawned.stdout()}\n${spawned.stderr()}`.split('\n').filter((line) => line.trim() !== '');
  const tail = lines.slice(-LOG_TAIL_LINES);
  return tail.length ? tail.map((line) => `  | ${line}`).join('\n') : '  (it printed nothing)';
}

function describeExit(exit: Exit): string {
  return exit.error ? `spawn failed: ${exit.error}` : `code ${exit.code}, signal ${exit.signal}`;
}

function serviceNameOf(script: string): string {
  return /services\/([^/]+)\/src\/main\.ts$/.exec(script)?.[1] ?? script;
}

/**
 * Waits for `started` (true when the start is done) within `timeoutMs`. A process that exits
 * first, or is still not done at the deadline, fails the start: it is SIGKILLed (a start stuck in a
 * backend call may ignore SIGTERM) and the error names it, how it ended and its log's tail. Nothing
 * waits on the process without a bound, so a stuck start can never hold its caller.
 */
async function boundedStart(
  spawned: Spawned,
  name: string,
  bound: { deadline: number; timeoutMs: number },
  phase: 'started' | 'became ready',
  started: () => boolean | Promise<boolean>,
  state: () => string = () => '',
): Promise<void> {
  const { deadline, timeoutMs } = bound;
  let exit: Exit | undefined;
  void spawned.exited.then((value) => (exit = value));
  for (;;) {
    if (exit)
      throw new Error(
        `${name} exited before it ${phase} (${describeExit(exit)}); its log:\n${logTail(spawned)}`,
      );
    if (
      await Promise.resolve()
        .then(started)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline) {
      const before = exit;
      const ended = await spawned.stop('SIGKILL');
      const how = before ? describeExit(before) : `killed (SIGKILL): ${describeExit(ended)}`;
      throw new Error(
        `${name} did not ${phase === 'started' ? 'start' : 'become ready'} within ${timeoutMs} ms${state()}; ${how}; its log:\n${logTail(spawned)}`,
      );
    }
    await sleep(phase === 'started' ? 50 : 200);
  }
}

/**
 * Spawns `script` (a service's src/main.ts, run through runService) with `env` and waits for its
 * "started" log line: the services log JSON to stdout, LOG_LEVEL must let info through. Port 0
 * everywhere is fine: the listeners are read from the log. Bounded (see boundedStart): a process
 * that exits or is not started within the bound is killed and the start rejects.
 */
export async function startServiceProcess(
  script: string,
  env: Record<string, string>,
  options: ServiceStartOptions | number = {},
): Promise<ServiceProcess> {
  const {
    timeoutMs = 120_000,
    name = serviceNameOf(script),
    onSpawn,
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  const spawned = spawnNode(script, {
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
  onSpawn?.(spawned);
  const parsed = (): Record<string, unknown>[] =>
    spawned.lines().flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  // Only the lines not looked at yet are parsed on each poll: a chatty start stays cheap.
  let scanned = 0;
  let started: Record<string, unknown> | undefined;
  const bound = { deadline: Date.now() + timeoutMs, timeoutMs };
  await boundedStart(spawned, name, bound, 'started', () => {
    const lines = spawned.lines();
    for (; scanned < lines.length && !started; scanned++) {
      try {
        const line = JSON.parse(lines[scanned]!) as Record<string, unknown>;
        if (line.msg === 'started') started = line;
      } catch {
        // not a log line (a warning printed by node or tsx)
      }
    }
    return started !== undefined;
  });
  const listeners = Object.fromEntries(
    (started!.listeners as { name: string; address: string }[]).map(({ name, address }) => [name, address]),
  );
  const healthUrl = listeners['metrics, /healthz, /readyz']!;
  return {
    process: spawned,
    listeners,
    healthUrl,
    async readyz() {
      // Bounded: a probe that never answers must fail (and be retried by the caller's deadline),
      // not hold a test or the fault run's setup for ever.
      const response = await fetch(`${healthUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      return response.status;
    },
    logged: (msg) => parsed().filter((line) => line.msg === msg),
  };
}

/**
 * startServiceProcess, then /readyz until it answers 200 (as the kubelet's readiness probe before a
 * pod gets traffic), the whole within one bound: a process that exits, never logs "started" or
 * never gets ready is killed and the start rejects with its name, exit and log tail.
 */
export async function startReadyServiceProcess(
  script: string,
  env: Record<string, string>,
  options: ServiceStartOptions = {},
): Promise<ServiceProcess> {
  const { timeoutMs = 120_000 } = options;
  const bound = { deadline: Date.now() + timeoutMs, timeoutMs };
  const service = await startServiceProcess(script, env, options);
  let last = 'none yet';
  await boundedStart(
    service.process,
    options.name ?? serviceNameOf(script),
    bound,
    'became ready',
    async () => {
      try {
        const status = await service.readyz();
        last = String(status);
        return status === 200;
      } catch (error) {
        last = (error as Error).message;
        return false;
      }
    },
    () => ` (last /readyz: ${last})`,
  );
  return service;
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

const SERVICES_DIR = fileURLToPath(new URL('../../../services/', import.meta.url));

/** The services a cluster runs, each as its own Deployment (the chart's) and here its own process. */
export const SERVICE_NAMES = [
  'smtp-ingress',
  'mda',
  'mta-relay',
  'imap-gateway',
  'pop3-gateway',
  'managesieve-gateway',
  'admin-api',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The entry point of service `name` (its src/main.ts, what its pod runs). */
export function serviceScript(name: ServiceName): string {
  return join(SERVICES_DIR, name, 'src/main.ts');
}

/**
 * The test defaults every service process gets, `env` on top: loopback listeners on ports the OS
 * picks (port 0; a test that restarts a process names its ports in `env`), the TLS pair in
 * `dataDir` (made by loadTlsMaterial), DNS lookups that fail at once (as the all-in-one's tests have them).
 */
export function serviceProcessEnv(dataDir: string, env: Record<string, string>): Record<string, string> {
  const host = '127.0.0.1';
  return {
    CORREO_DATA_DIR: dataDir,
    SMTP_HOSTNAME: 'mx.correo.test',
    IMAP_HOSTNAME: 'localhost',
    POP3_HOSTNAME: 'localhost',
    MANAGESIEVE_HOSTNAME: 'localhost',
    SMTP_BIND_HOST: host,
    IMAP_BIND_HOST: host,
    POP3_BIND_HOST: host,
    MANAGESIEVE_BIND_HOST: host,
    ADMIN_API_HOST: host,
    METRICS_HOST: host,
    ...Object.fromEntries(
      [
        'SMTP_MX_PORT',
        'SMTP_SUBMISSION_PORT',
        'SMTP_SUBMISSIONS_PORT',
        'IMAP_PORT',
        'IMAPS_PORT',
        'POP3_PORT',
        'POP3S_PORT',
        'MANAGESIEVE_PORT',
        'ADMIN_API_PORT',
      ].map((name) => [name, '0']),
    ),
    SMTP_DNS_SERVERS: UNANSWERED_DNS,
    RELAY_DNS_SERVERS: UNANSWERED_DNS,
    ADMIN_DNS_SERVERS: UNANSWERED_DNS,
    ...env,
  };
}

/**
 * One service's src/main.ts, what its Deployment runs, as a process over `env` (see
 * startServiceProcess), returned once its /readyz answers 200 as the kubelet's readiness probe
 * would have it before the pod gets traffic (which also sets the correo_readiness_check gauges the
 * dashboards chart: they hold the last probe's outcome). Killed if it never gets ready.
 */
export async function startReadyService(
  name: ServiceName,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  return startReadyServiceProcess(serviceScript(name), env, { name, timeoutMs: 180_000 });
}

/**
 * Every service of the distributed deployment as a process of its own (as in its pod), over one
 * database and whatever backends the environment names; reached like the all-in-one
 * (MailEndpoints), so a test runs on either.
 */
export interface ServiceProcesses extends MailEndpoints {
  services: Record<ServiceName, ServiceProcess>;
  /** SIGTERM to every process; resolves once all exited (SIGKILL after 30 s), then removes the data dir. */
  stop(): Promise<Record<ServiceName, Exit>>;
}

/**
 * Migrates `env.DATABASE_URL` (the chart's pre-install hook does it in a cluster), then starts
 * SERVICE_NAMES, each its src/main.ts, with `env` on top of test defaults: loopback listeners on
 * ports the OS picks, one self-signed certificate for all, DNS lookups that fail at once (as the
 * all-in-one's tests have them). Every process keeps its own OpenTelemetry service name
 * (correo-<service>) and its own /metrics port.
 */
export async function startServiceProcesses(env: Record<string, string>): Promise<ServiceProcesses> {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error('startServiceProcesses: DATABASE_URL is required');
  await migrate(databaseUrl);
  const dataDir = await makeDataDir('correo-services-');
  // Made once here, kept in the shared data dir: the three TLS services then read the same pair.
  await loadTlsMaterial({ dataDir, hostname: 'localhost' });
  const host = '127.0.0.1';
  const adminToken = randomBytes(24).toString('base64url');
  const common = serviceProcessEnv(dataDir, { ADMIN_TOKEN: adminToken, ...env });
  const started = await Promise.allSettled(SERVICE_NAMES.map((name) => startReadyService(name, common)));
  const running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stopAll = async (): Promise<Exit[]> => {
    try {
      return await Promise.all(
        running.map(async ({ process }) => {
          try {
            if (process.child.exitCode === null && process.child.signalCode === null)
              process.child.kill('SIGTERM');
            return await process.exitWithin(30_000);
          } catch (error) {
            process.child.kill('SIGKILL');
            await process.exited;
            throw error;
          }
        }),
      );
    } finally {
      await removeDataDir(dataDir);
    }
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await stopAll().catch(() => {});
    throw failed.reason;
  }
  const services = Object.fromEntries(SERVICE_NAMES.map((name, i) => [name, running[i]!])) as Record<
    ServiceName,
    ServiceProcess
  >;
  const port = (service: ServiceName, listener: string) => {
    const address = services[service].listeners[listener];
    if (!address) throw new Error(`${service} logged no "${listener}" listener`);
    return listenerPort(address);
  };
  return {
    services,
    host,
    ports: {
      mx: port('smtp-ingress', 'SMTP MX'),
      submission: port('smtp-ingress', 'SMTP submission (STARTTLS)'),
      submissions: port('smtp-ingress', 'SMTP submission (implicit TLS)'),
      imap: port('imap-gateway', 'IMAP (STARTTLS)'),
      imaps: port('imap-gateway', 'IMAPS (implicit TLS)'),
      pop3: port('pop3-gateway', 'POP3 (STLS)'),
      pop3s: port('pop3-gateway', 'POP3S (implicit TLS)'),
      adminApi: port('admin-api', 'admin-api'),
    },
    adminUrl: services['admin-api'].listeners['admin-api']!,
    adminToken,
    databaseUrl,
    caFile: join(dataDir, 'tls', 'cert.pem'),
    async stop() {
      const exits = await stopAll();
      return Object.fromEntries(SERVICE_NAMES.map((name, i) => [name, exits[i]!])) as Record<
        ServiceName,
        Exit
      >;
    },
  };
}
