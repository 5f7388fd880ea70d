import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trace, type Span } from '@opentelemetry/api';
import {
  createLogger,
  extractTraceContext,
  injectTraceContext,
  startTelemetry,
  withSpan,
  type Telemetry,
} from '../src/index.js';

let telemetry: Telemetry;
before(() => {
  telemetry = startTelemetry({ serviceName: 'telemetry-test' });
});
after(() => telemetry.shutdown());

/** A pino destination that keeps every line, parsed. */
function captureLines() {
  const lines: Record<string, unknown>[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(JSON.parse(line)) } };
}

describe('logs', () => {
  test('a line logged inside a span carries its trace and span ids and the service', async () => {
    const { lines, stream } = captureLines();
    const logger = createLogger('mda', 'info', stream);
    const ids = await withSpan('deliver', (span) => {
      logger.info({ recipient: 'el@suemail.test' }, 'delivered');
      return span.spanContext();
    });
    assert.match(ids.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(ids.traceId, '0'.repeat(32));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.trace_id, ids.traceId);
    assert.equal(lines[0]?.span_id, ids.spanId);
    assert.equal(lines[0]?.service, 'mda');
    assert.equal(lines[0]?.level, 'info');
    assert.equal(lines[0]?.msg, 'delivered');
    assert.equal(lines[0]?.recipient, 'el@suemail.test');
  });

  test('a line outside any span has no trace ids, and the level filters', () => {
    const { lines, stream } = captureLines();
    const logger = createLogger('mda', 'warn', stream);
    logger.info('dropped');
    logger.warn('kept');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.msg, 'kept');
    assert.equal('trace_id' in lines[0]!, false);
  });
});

describe('trace context on bus headers', () => {
  test('inject then extract continues the same trace in a child span', async () => {
    const headers: Record<string, string> = {};
    const producer = await withSpan('smtp.accept', (span) => {
      injectTraceContext(headers);
      return span.spanContext();
    });
    assert.equal(headers.traceparent, `00-${producer.traceId}-${producer.spanId}-01`);

    const parent = extractTraceContext(headers);
    assert.equal(trace.getSpanContext(parent)?.traceId, producer.traceId);
    const consumer = await withSpan('mda.deliver', (span) => span.spanContext(), parent);
    assert.equal(consumer.traceId, producer.traceId);
    assert.notEqual(consumer.spanId, producer.spanId);
  });

  test('Buffer header values, as kafkajs delivers them, are understood', async () => {
    const headers: Record<string, string> = {};
    const traceId = await withSpan('publish', (span) => {
      injectTraceContext(headers);
      return span.spanContext().traceId;
    });
    const kafkaHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
    assert.equal(trace.getSpanContext(extractTraceContext(kafkaHeaders))?.traceId, traceId);
  });

  test('no trace context in the headers starts a new trace', async () => {
    const parent = extractTraceContext({ 'content-type': 'application/x-protobuf' });
    assert.equal(trace.getSpanContext(parent), undefined);
    const traceId = await withSpan('orphan', (span) => span.spanContext().traceId, parent);
    assert.match(traceId, /^[0-9a-f]{32}$/);
  });

  test('withSpan rethrows and still ends the span', async () => {
    let failed: Span | undefined;
    await assert.rejects(
      withSpan('fails', (span) => {
        failed = span;
        assert.equal(span.isRecording(), true);
        throw new Error('451 4.3.0 blob store down');
      }),
      /blob store down/,
    );
    assert.equal(failed?.isRecording(), false, 'the span has ended');
  });
});
