import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import { idOnlyTracer, type SpanTracer } from './id-only-tracer.js';

export interface TelemetryOptions {
  serviceName: string;
  /** Base OTLP/HTTP URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<url>/v1/traces`. */
  otlpEndpoint?: string | undefined;
}

export interface Telemetry {
  /** Flushes pending spans and unregisters the SDK so a later startTelemetry starts afresh. */
  shutdown(): Promise<void>;
}

// The OpenTelemetry API holds one global tracer provider per process, so the all-in-one (several services
// in one process) shares the first SDK started instead of fighting over the globals.
let running: Telemetry | undefined;
/** What withSpan starts spans with: the SDK's tracer when spans are exported, else ids only. */
let tracer: SpanTracer | undefined;

/**
 * The tracer for correo's own spans (trace-context.ts): ids only when nothing exports them
 * (id-only-tracer.ts), the registered SDK's when something does, the API's no-op before any start.
 */
export function spanTracer(): SpanTracer {
  return tracer ?? trace.getTracer('correo');
}

/**
 * Starts tracing for the process. Without an endpoint correo's spans still get real trace ids (the
 * id-only tracer; the SDK still provides the context manager and the W3C propagator, and a no-op
 * processor keeps its tracer provider for libraries), so logs and bus headers carry trace context
 * even when nothing is exported. Metrics stay with prom-client and logs with pino; the SDK gets none.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (running) return running;
  const spanProcessor = options.otlpEndpoint
    ? new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesUrl(options.otlpEndpoint) }) })
    : new NoopSpanProcessor();
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: [spanProcessor],
    textMapPropagator: new W3CTraceContextPropagator(),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  tracer = options.otlpEndpoint ? trace.getTracer('correo') : idOnlyTracer;
  const telemetry: Telemetry = {
    async shutdown() {
      if (running !== telemetry) return;
      running = undefined;
      tracer = undefined;
      await sdk.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
  running = telemetry;
  return telemetry;
}

function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
