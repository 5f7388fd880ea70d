import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { LogLevel } from '@correo/config';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

// Read on every line rather than bound per request, so any log call inside withSpan (or a span started by
// a library) is correlated without passing loggers around.
function activeTraceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * JSON logs on stdout (or `destination`, for tests): level as a word, ISO time, `service`, and the
 * trace_id/span_id of the active span when there is one.
 */
export function createLogger(
  serviceName: string,
  level: LogLevel = 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { service: serviceName, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: activeTraceFields,
  };
  return destination ? pino(options, destination) : pino(options);
}
