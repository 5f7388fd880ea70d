import {
  TraceFlags,
  context as contextApi,
  isSpanContextValid,
  trace,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
} from '@opentelemetry/api';

/*
 * The tracer of a process that exports no spans (no OTEL_EXPORTER_OTLP_ENDPOINT). Its spans carry
 * real trace and span ids, continue their parent's trace and become the active span, so log lines
 * and bus headers (the journey's trace id) are correlated exactly as with the SDK; but they keep
 * nothing: no attributes, events, links, timings, span metrics or processor calls, which the SDK's
 * tracer paid for on every span even with a no-op processor (docs/performance.md, fourth round:
 * 2.3 -> 1.0 µs per withSpan, at five spans per message). Written here because the SDK offers no
 * "ids only" mode: its non-recording spans (a sampler that drops) change the sampled flag downstream.
 */

/** One buffer for every id: the ids are hex strings, made from it at once. */
const idBytes = Buffer.alloc(16);

/** `bytes` random bytes in lowercase hex, never all zeros (an invalid id). Not for secrets. */
function randomId(bytes: 8 | 16): string {
  for (;;) {
    for (let i = 0; i < bytes; i += 4) idBytes.writeUInt32BE((Math.random() * 0x1_0000_0000) >>> 0, i);
    const id = idBytes.toString('hex', 0, bytes);
    if (/[^0]/.test(id)) return id;
  }
}

class IdOnlySpan implements Span {
  private ended = false;

  constructor(private readonly context: SpanContext) {}

  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {
    this.ended = true;
  }
  /** Live from start to end, like the SDK's span with a no-op processor; what it is given is dropped. */
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(): void {}
}

/** The subset of the Tracer API that withSpan and withSpanPerMessage use. */
export interface SpanTracer {
  startSpan(name: string, options?: SpanOptions, parent?: Context): Span;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    parent: Context,
    fn: F,
  ): ReturnType<F>;
}

export const idOnlyTracer: SpanTracer = {
  startSpan(_name, _options, parent = contextApi.active()) {
    const parentContext = trace.getSpanContext(parent);
    const inherited = parentContext && isSpanContextValid(parentContext) ? parentContext : undefined;
    return new IdOnlySpan({
      traceId: inherited?.traceId ?? randomId(16),
      spanId: randomId(8),
      // As the SDK's default sampler (parent-based, else always on) decides.
      traceFlags: inherited ? inherited.traceFlags : TraceFlags.SAMPLED,
      ...(inherited?.traceState ? { traceState: inherited.traceState } : {}),
    });
  },
  startActiveSpan(name, options, parent, fn) {
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), () => fn(span)) as ReturnType<typeof fn>;
  },
};
