import type { AddressInfo } from 'node:net';
import { fastify } from 'fastify';
import { metrics } from './metrics.js';

/** Resolves when the backend answers; may stop early when `signal` aborts (the check timed out). */
export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port; the bound one is returned. */
  port: number;
  checks: Record<string, ReadinessCheck>;
  timeoutMs: number;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

type CheckResult = { ok: true } | { ok: false; error: string };

const readinessCheck = metrics.gauge({
  name: 'correo_readiness_check',
  help: 'Outcome of the last readiness check of a backend: 1 passed, 0 failed or timed out.',
  labelNames: ['check'],
});

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    // A check that hangs on a dead backend must not hang the probe: the kubelet would time out instead
    // of reading which backend is down.
    await Promise.race([Promise.resolve().then(() => check(controller.signal)), timedOut]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /metrics (Prometheus text of metrics.registry), GET /healthz (alive) and GET /readyz (every check
 * in parallel, each bounded by timeoutMs) on their own port, apart from the protocol listeners.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const app = fastify({ logger: false });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const entries = await Promise.all(
      Object.entries(options.checks).map(
        async ([name, check]) => [name, await runCheck(check, options.timeoutMs)] as const,
      ),
    );
    for (const [name, result] of entries) readinessCheck.set({ check: name }, result.ok ? 1 : 0);
    const ready = entries.every(([, result]) => result.ok);
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(entries) });
  });

  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as AddressInfo;
  return { port, close: () => app.close() };
}
