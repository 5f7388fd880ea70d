import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataDir, removeDataDir } from './data-dir.js';
import { eventually } from './eventually.js';
import { freePorts } from './free-port.js';
import { promisify } from 'node:util';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One span as Jaeger's query API returns it (/api/traces). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  processID: string;
  tags: { key: string; value: unknown }[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  /** The reporting processes: service name and resource attributes (process.pid, host.name...). */
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

/** A private Jaeger (all-in-one, in-memory storage) on loopback ports of its own. */
export interface TestJaeger {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (OTLP/HTTP). */
  otlpEndpoint: string;
  /** The query service (UI and /api). */
  queryUrl: string;
  /** The trace with this id (32 hex digits), or undefined while Jaeger has none. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  /** Traces of a service, newest first. */
  traces(service: string): Promise<JaegerTrace[]>;
  close(): Promise<void>;
}

/**
 * Starts Jaeger v1.75.0 (the v2 binary, an OpenTelemetry Collector distribution) built from the
 * Go module proxy by scripts/go-tool.sh and cached under ~/.cache/correo. Every listener is on a
 * free loopback port: nothing clashes with other tests or a developer's own Jaeger.
 */
export async function startJaeger(): Promise<TestJaeger> {
  // The first run builds it (minutes); afterwards this only prints the cached binary's path.
  const built = await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts/go-tool.sh'), 'jaeger'], {
    timeout: 30 * 60_000,
  });
  const binary = built.stdout.trim();
  const [otlp, query, queryGrpc, health] = (await freePorts(4)) as [number, number, number, number];
  const dir = await makeDataDir('correo-jaeger-');
  const config = join(dir, 'jaeger.yaml');
  await writeFile(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics: { level: none }
    logs: { level: warn }
extensions:
  healthcheckv2:
    use_v2: true
    http: { endpoint: 127.0.0.1:${health} }
  jaeger_query:
    storage: { traces: memstore }
    http: { endpoint: 127.0.0.1:${query} }
    grpc: { endpoint: 127.0.0.1:${queryGrpc} }
  jaeger_storage:
    backends:
      memstore: { memory: { max_traces: 10000 } }
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:${otlp} }
processors:
  batch: { timeout: 200ms }
exporters:
  jaeger_storage_exporter: { trace_storage: memstore }
`,
  );
  const child: ChildProcess = spawn(binary, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8000)));
  const exited = once(child, 'exit');
  const queryUrl = `http://127.0.0.1:${query}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await removeDataDir(dir);
  };
  try {
    await eventually(
      'Jaeger to answer on its query port',
      async () => {
        if (child.exitCode !== null) throw new Error(`jaeger exited ${child.exitCode}: ${stderr}`);
        const response = await fetch(`${queryUrl}/api/services`);
        await response.arrayBuffer();
        return response.ok;
      },
      120_000,
      200,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const getJson = async <T>(path: string): Promise<T | undefined> => {
    const response = await fetch(`${queryUrl}${path}`);
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    if (!response.ok) throw new Error(`Jaeger ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    otlpEndpoint: `http://127.0.0.1:${otlp}`,
    queryUrl,
    async trace(traceId) {
      const body = await getJson<{ data: JaegerTrace[] }>(`/api/traces/${traceId}`);
      return body?.data[0];
    },
    async traces(service) {
      const body = await getJson<{ data: JaegerTrace[] }>(
        `/api/traces?service=${encodeURIComponent(service)}&limit=100&lookback=1h`,
      );
      return body?.data ?? [];
    },
    close: stop,
  };
}
