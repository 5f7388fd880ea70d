import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace';

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

/**
 * Starts tracing for the process. Without an endpoint spans are still created with real trace ids (a
 * no-op processor keeps the SDK's tracer provider alive), so logs and bus headers carry trace context
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
  const telemetry: Telemetry = {
    async shutdown() {
      if (running !== telemetry) return;
      running = undefined;
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
