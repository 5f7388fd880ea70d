import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTelemetry, withSpan } from '../src/index.js';

// A real HTTP endpoint standing in for an OpenTelemetry collector: it records what the exporter posts.
test('spans are exported over OTLP/HTTP to <endpoint>/v1/traces when an endpoint is given', async () => {
  const received: { url: string | undefined; body: string }[] = [];
  const collector = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ url: request.url, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = collector.address() as AddressInfo;
    const telemetry = startTelemetry({
      serviceName: 'export-test',
      otlpEndpoint: `http://127.0.0.1:${port}/`,
    });
    const traceId = await withSpan('smtp.accept', (span) => span.spanContext().traceId);
    await telemetry.shutdown(); // flushes the batch

    assert.equal(received.length, 1);
    assert.equal(received[0]?.url, '/v1/traces');
    assert.ok(received[0]?.body.includes('smtp.accept'), 'the span name is in the export');
    assert.ok(received[0]?.body.includes('export-test'), 'the service name is in the export');
    assert.ok(received[0]?.body.includes(traceId), 'the trace id is in the export');
  } finally {
    await new Promise((resolve) => collector.close(resolve));
  }
});
