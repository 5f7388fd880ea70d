export {
  startHealthServer,
  type HealthServer,
  type HealthServerOptions,
  type ReadinessCheck,
} from './health-server.js';
export { createLogger, type Logger } from './logger.js';
export { metrics, type MetricName } from './metrics.js';
export {
  extractTraceContext,
  injectTraceContext,
  spanHeaders,
  withSpan,
  withSpanPerMessage,
  type HeaderValue,
} from './trace-context.js';
export { startTelemetry, type Telemetry, type TelemetryOptions } from './tracing.js';
