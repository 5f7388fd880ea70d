import {
  SpanStatusCode,
  context as contextApi,
  propagation,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { spanTracer } from './tracing.js';

/** Bus header values as the adapters hand them over: kafkajs gives Buffers, the Postgres bus strings. */
export type HeaderValue = string | Buffer | (string | Buffer)[] | undefined;

/** Writes traceparent/tracestate of `context` (default: the active one) into bus message headers. */
export function injectTraceContext(
  headers: Record<string, string>,
  context: Context = contextApi.active(),
): Record<string, string> {
  propagation.inject(context, headers);
  return headers;
}

const headerGetter: TextMapGetter<Record<string, HeaderValue>> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => {
    const value = headers[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : String(value);
  },
};

/** The context a consumer continues: pass it as the parent of withSpan. */
export function extractTraceContext(headers: Record<string, HeaderValue>): Context {
  return propagation.extract(contextApi.active(), headers, headerGetter);
}

/**
 * Runs `fn` inside a new active span (child of `parent`, else of the active context), records a thrown
 * error on the span, and always ends it.
 */
export function withSpan<T>(name: string, fn: (span: Span) => T | Promise<T>, parent?: Context): Promise<T> {
  return spanTracer().startActiveSpan(name, {}, parent ?? contextApi.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Work done once for a batch of messages, shown in every message's own trace: one span per entry
 * of `parents` (each message's context, from its bus headers), all covering `fn`, each linked to
 * the active span (the batch's). `fn` gets the spans in the order of `parents`; a throw is
 * recorded on all of them.
 */
export async function withSpanPerMessage<T>(
  name: string,
  parents: Context[],
  fn: (spans: Span[]) => T | Promise<T>,
): Promise<T> {
  const tracer = spanTracer();
  const batch = trace.getSpanContext(contextApi.active());
  const links = batch ? [{ context: batch }] : [];
  const spans = parents.map((parent) => tracer.startSpan(name, { links }, parent));
  try {
    return await fn(spans);
  } catch (error) {
    for (const span of spans) recordFailure(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

/** The bus headers that continue `span` (a span of withSpanPerMessage) in its message's trace. */
export function spanHeaders(span: Span): Record<string, string> {
  return injectTraceContext({}, trace.setSpan(contextApi.active(), span));
}

function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
