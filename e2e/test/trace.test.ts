import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  eventually,
  queuedId,
  startJaeger,
  swaks,
  uniqueName,
  type JaegerSpan,
  type JaegerTrace,
  type ServiceProcesses,
  type TestJaeger,
} from '@correo/testkit';
import { AdminClient } from './support/admin-client.js';
import { startRemoteMx, type RemoteMx } from './support/remote-mx.js';
import { startMailStack, type MailStack } from './support/stacks.js';

// One OpenTelemetry trace per message, checked in a real trace backend: Jaeger (built from the Go
// module proxy) receives over OTLP the spans of the distributed stack as a cluster runs it - every
// service its own process (smtp-ingress, mda, mta-relay, imap-gateway, pop3-gateway, admin-api) on
// Kafka, PostgreSQL, MinIO and Redis - and its query API must show one message's SMTP transaction,
// its publish on the bus, the mda's delivery, the store's filing and the relay's remote attempt in
// one trace, each span a child of the one before, the context carried from process to process only
// by the Kafka message headers.
const run = uniqueName('trace');
const domain = `${run}.test`;
const REMOTE = `friend@far-${run}.test`;

let jaeger: TestJaeger;
let stack: MailStack<ServiceProcesses>;
let remote: RemoteMx;

before(async () => {
  jaeger = await startJaeger();
  remote = await startRemoteMx();
  const outbound = uniqueName('mail.outbound');
  stack = await startMailStack(
    'distributed',
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      // A topic and group of this run's own: the relay takes only the job of this test.
      MDA_OUTBOUND_TOPIC: outbound,
      RELAY_OUTBOUND_TOPIC: outbound,
      RELAY_CONSUMER_GROUP: uniqueName('relay'),
      RELAY_TRANSPORT_MAP: `far-${run}.test=127.0.0.1:${remote.port}`,
    },
    { processes: 'per-service' },
  );
  const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
  const tenant = await admin.createTenant(run);
  await admin.createDomain(domain, tenant.id);
  await admin.createAccount(`alice@${domain}`, 'a password of some length');
  await admin.createAlias(`team@${domain}`, [`alice@${domain}`, REMOTE]);
});

after(async () => {
  await stack?.close();
  await remote?.close();
  await jaeger?.close();
});

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

/** The OpenTelemetry service name of the process that recorded `span`. */
function serviceOf(trace: JaegerTrace, span: JaegerSpan): string | undefined {
  return trace.processes[span.processID]?.serviceName;
}

function parentOf(span: JaegerSpan): string | undefined {
  return span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
}

test('one message is one trace in Jaeger across the service processes: SMTP transaction -> bus -> mda -> store, and the relay attempt', async () => {
  const sent = await swaks([
    '--server',
    '127.0.0.1',
    '--port',
    String(stack.app.ports.mx),
    '--from',
    'someone@remote.test',
    '--to',
    `team@${domain}`,
    '--header',
    `Subject: traced ${run}`,
  ]);
  assert.equal(sent.exitCode, 0, sent.output);
  const eventId = queuedId(sent.replies);
  assert.ok(eventId, 'the 250 names the event id');
  await eventually(
    'the remote MX to receive the forwarded copy',
    () => remote.received.includes(REMOTE),
    120_000,
  );

  // The root span carries the event id: find its trace, then wait for every part of it.
  let trace: JaegerTrace | undefined;
  const named = (name: string) => trace?.spans.filter((s) => s.operationName === name) ?? [];
  await eventually(
    'the whole trace in Jaeger',
    async () => {
      const services = ((await (await fetch(`${jaeger.queryUrl}/api/services`)).json()) as { data: string[] })
        .data;
      for (const service of services ?? []) {
        for (const candidate of await jaeger.traces(service)) {
          const root = candidate.spans.find(
            (s) =>
              s.operationName === 'smtp-ingress receive message' && tag(s, 'correo.event_id') === eventId,
          );
          if (root) trace = await jaeger.trace(candidate.traceID);
        }
      }
      return ['mda.deliver', 'mda.store', 'relay.deliver'].every((name) => named(name).length > 0);
    },
    120_000,
    500,
  );
  const spans = trace!.spans;
  assert.ok(
    spans.every((s) => s.traceID === trace!.traceID),
    'every span shares the trace id',
  );
  const [root] = named('smtp-ingress receive message');
  const [publish] = named('smtp-ingress publish mail.accepted');
  const deliver = named('mda.deliver').find((s) => tag(s, 'correo.event_id') === eventId);
  const [store] = named('mda.store');
  const relay = named('relay.deliver');
  assert.ok(
    root && publish && deliver && store && relay.length > 0,
    JSON.stringify(spans.map((s) => s.operationName)),
  );
  assert.equal(parentOf(root), undefined, 'the SMTP transaction is the root');
  assert.equal(parentOf(publish), root.spanID, 'the publish on the bus is a child of the SMTP transaction');
  assert.equal(parentOf(deliver), publish.spanID, 'the mda continues the trace from the bus headers');
  assert.equal(parentOf(store), deliver.spanID, 'the filing in the store is a child of the delivery');
  assert.ok(
    relay.every((span) => parentOf(span) === deliver.spanID),
    'the relay attempt continues from the mda through mail.outbound',
  );
  assert.equal(tag(relay[0]!, 'correo.event_id') !== undefined, true);
  // Three processes took part, each recorded its own spans: the links above crossed the bus.
  assert.equal(serviceOf(trace!, root), 'correo-smtp-ingress');
  assert.equal(serviceOf(trace!, publish), 'correo-smtp-ingress');
  assert.equal(serviceOf(trace!, deliver), 'correo-mda');
  assert.equal(serviceOf(trace!, store), 'correo-mda');
  assert.deepEqual([...new Set(relay.map((span) => serviceOf(trace!, span)))], ['correo-mta-relay']);
  // ...and each from the very process the test started for that service.
  const pidOf = (span: JaegerSpan) =>
    Number(trace!.processes[span.processID]?.tags.find((t) => t.key === 'process.pid')?.value);
  assert.equal(pidOf(root), stack.app.services['smtp-ingress'].process.child.pid);
  assert.equal(pidOf(deliver), stack.app.services.mda.process.child.pid);
  assert.equal(pidOf(relay[0]!), stack.app.services['mta-relay'].process.child.pid);
});
