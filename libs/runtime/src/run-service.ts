import { loadConfigOrExit, type Config, type ConfigSection, type VariableShape } from '@correo/config';
import {
  createLogger,
  startHealthServer,
  startTelemetry,
  type Logger,
  type ReadinessCheck,
} from '@correo/telemetry';

type Sections = Record<string, ConfigSection<VariableShape, unknown>>;
type SectionsOutput<X extends Sections> = { [K in keyof X]: ReturnType<X[K]['build']> };

export interface Listener {
  /** What a person connects there: "SMTP submission (STARTTLS)", "admin-api". */
  name: string;
  address: string;
}

export interface RunningService {
  listeners: Listener[];
  /**
   * Drains, then releases everything: stop taking new work, finish or hand back what is in
   * flight (sessions, a delivery batch, relay claims) within the service's grace period.
   * /readyz already answers 503 when this is called.
   */
  close(): Promise<void>;
}

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  /** Aborts when the process is asked to stop, also while start() is still running. */
  signal: AbortSignal;
  /**
   * Adds readiness checks (one per backend). Register them before waiting on a backend, so that
   * /readyz names the one that is down while start() retries it.
   */
  addChecks(checks: Record<string, ReadinessCheck>): void;
  /** What startup is waiting for, shown by /readyz's `startup` check ("starting: creating bus topics"). */
  progress(state: string): void;
}

export interface ServiceDefinition<X extends Sections> {
  /** Log `service` field and the default OTEL service name (prefixed "correo-"). */
  name: string;
  sections: X;
  start(context: ServiceContext<Config & SectionsOutput<X>>): Promise<RunningService>;
  /** Where configuration comes from; default process.env. */
  env?: Record<string, string | undefined>;
  /** Printed to stderr once started, for a person at a terminal. */
  banner?(config: Config & SectionsOutput<X>, service: RunningService): string;
}

const STOP_DEADLINE_MS = 20_000;

/**
 * The life of every correo process, so that each service's main.ts is only wiring: config
 * (a bad variable stops startup with a message naming it), telemetry, the health server
 * before anything else (so /healthz, /metrics and a truthful /readyz answer while backends
 * are still coming up), then the service; SIGTERM/SIGINT stop it in order within a deadline.
 */
export async function runService<X extends Sections>(definition: ServiceDefinition<X>): Promise<void> {
  const config = loadConfigOrExit(definition.env ?? process.env, definition.sections);
  const telemetry = startTelemetry({
    serviceName: config.telemetry.serviceName ?? `correo-${definition.name}`,
    otlpEndpoint: config.telemetry.otlpEndpoint,
  });
  const logger = createLogger(definition.name, config.logLevel);
  const stopping = new AbortController();
  let startupState = 'starting';
  const checks: Record<string, ReadinessCheck> = {
    startup: async () => {
      if (startupState !== 'started') throw new Error(startupState);
    },
  };

  const health = await startHealthServer({
    host: config.metrics.host,
    port: config.metrics.port,
    checks,
    timeoutMs: config.readiness.timeoutMs,
  }).catch((error: unknown) => fail(logger, `the health server could not listen: ${message(error)}`));

  let service: RunningService | undefined;
  let starting: Promise<unknown> = Promise.resolve();
  const stop = async (reason: string) => {
    if (stopping.signal.aborted) return;
    stopping.abort(new Error(reason));
    // Readiness goes false before anything closes, so a load balancer stops sending new clients
    // while open sessions, batches and claims are finished (each service's close() drains them).
    startupState = `draining: shutting down (${reason})`;
    logger.info({ reason }, 'shutting down');
    // A backend that does not answer must not keep a stopping pod alive past its grace period.
    setTimeout(() => {
      logger.error(`shutdown took longer than ${STOP_DEADLINE_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    // A start() cut short by the abort releases what it had opened before it settles.
    await starting.catch(() => {});
    await service?.close().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
    await health.close().catch(() => {});
    await telemetry.shutdown().catch(() => {});
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal));

  try {
    const started = definition.start({
      config,
      logger,
      signal: stopping.signal,
      addChecks: (more) => Object.assign(checks, more),
      progress: (state) => {
        if (!stopping.signal.aborted) startupState = state;
      },
    });
    starting = started;
    service = await started;
  } catch (error) {
    if (stopping.signal.aborted) return; // stop() finishes the job
    fail(logger, `${definition.name} could not start: ${message(error)}`);
  }
  if (stopping.signal.aborted) return; // stop() closes it
  startupState = 'started';
  const listeners = [
    ...service.listeners,
    { name: 'metrics, /healthz, /readyz', address: `http://${config.metrics.host}:${health.port}` },
  ];
  service.listeners = listeners;
  if (definition.banner) process.stderr.write(definition.banner(config, service) + '\n');
  logger.info({ listeners }, 'started');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fail(logger: Logger, text: string): never {
  logger.fatal(text);
  process.stderr.write(`${text}\n`);
  process.exit(1);
}
