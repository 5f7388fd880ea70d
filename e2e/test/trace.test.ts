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
// Kafka, PostgreSQL, MinIO and Redis - the trace context carried from process to process only by
// the Kafka message headers (and, for a retry, by the relay's queue row).
//
// One submitted message to an alias: a local member (filed), and three remote ones - one the
// remote takes, one it refuses (a DSN back to the local sender, filed by the mda), one it defers
// once (queued, retried from the relay's queue). All of it must be one trace in Jaeger.
const run = uniqueName('trace');
const domain = `${run}.test`;
const far = `far-${run}.test`;
const ALICE = `alice@${domain}`;
const BOB = `bob@${domain}`;
const TAKEN = `friend@${far}`;
const REFUSED = `nobody@${far}`;
const DEFERRED = `later@${far}`;
const PASSWORD = 'a password of some length';

let jaeger: TestJaeger;
let stack: MailStack<ServiceProcesses>;
let remote: RemoteMx;

before(async () => {
  jaeger = await startJaeger();
  remote = await startRemoteMx((recipient) => recipient === REFUSED, {
    defersOnce: (recipient) => recipient === DEFERRED,
  });
  const outbound = uniqueName('mail.outbound');
  stack = await startMailStack(
    'distributed',
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      // A topic and group of this run's own: the relay takes only the job of this test.
      MDA_OUTBOUND_TOPIC: outbound,
      RELAY_OUTBOUND_TOPIC: outbound,
      RELAY_CONSUMER_GROUP: uniqueName('relay'),
      RELAY_TRANSPORT_MAP: `${far}=127.0.0.1:${remote.port}`,
      // The deferred recipient is retried from the queue a second later.
      RELAY_RETRY_SCHEDULE: '1s',
      RELAY_QUEUE_POLL: '250ms',
    },
    { processes: 'per-service' },
  );
  const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
  const tenant = await admin.createTenant(run);
  await admin.createDomain(domain, tenant.id);
  await admin.createAccount(ALICE, PASSWORD);
  await admin.createAccount(BOB, PASSWORD);
  await admin.createAlias(`team@${domain}`, [BOB, TAKEN, REFUSED, DEFERRED]);
});

after(async () => {
  await stack?.close();
  await remote?.close();
  await jaeger?.close();
});

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

function parentOf(span: JaegerSpan): string | undefined {
  return span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
}

test('one message is one trace in Jaeger across the service processes: SMTP -> bus -> mda -> store, relay attempts, retry and DSN', async () => {
  const sent = await swaks([
    ...['--server', '127.0.0.1', '--port', String(stack.app.ports.submission), '--tls'],
    ...['--tls-verify', '--tls-ca-path', stack.app.caFile],
    ...['--auth', 'PLAIN', '--auth-user', ALICE, '--auth-password', PASSWORD],
    ...['--from', ALICE, '--to', `team@${domain}`, '--header', `Subject: traced ${run}`],
  ]);
  assert.equal(sent.exitCode, 0, sent.output);
  const eventId = queuedId(sent.replies);
  assert.ok(eventId, 'the 250 names the event id');
  await eventually(
    'the remote MX to take both remote recipients (one after a retry)',
    () => remote.received.includes(TAKEN) && remote.received.includes(DEFERRED),
    120_000,
  );

  // The root span carries the event id: find its trace, then wait for every part of it.
  let trace: JaegerTrace | undefined;
  const named = (name: string) => trace?.spans.filter((s) => s.operationName === name) ?? [];
  const byId = (id: string | undefined) => trace?.spans.find((s) => s.spanID === id);
  await eventually(
    'the whole trace in Jaeger',
    async () => {
      const root = (await jaeger.traces('correo-smtp-ingress')).find((candidate) =>
        candidate.spans.some(
          (s) => s.operationName === 'smtp-ingress receive message' && tag(s, 'correo.event_id') === eventId,
        ),
      );
      if (root) trace = await jaeger.trace(root.traceID);
      const dsn = named('relay.dsn')[0];
      return (
        named('mda.store').length >= 2 &&
        named('relay.retry').length > 0 &&
        named('relay.attempt').length >= 2 &&
        dsn !== undefined &&
        named('mda.deliver').some((s) => parentOf(s) === dsn.spanID)
      );
    },
    120_000,
    500,
  );
  const spans = trace!.spans;
  const serviceOf = (span: JaegerSpan) => trace!.processes[span.processID]?.serviceName;
  const pidOf = (span: JaegerSpan) =>
    Number(trace!.processes[span.processID]?.tags.find((t) => t.key === 'process.pid')?.value);
  const pids = Object.fromEntries(
    Object.entries(stack.app.services).map(([name, service]) => [name, service.process.child.pid]),
  );
  /** The span was recorded by the very process the test started for `service`. */
  const recordedBy = (span: JaegerSpan, service: string) => {
    assert.equal(serviceOf(span), `correo-${service}`, `${span.operationName} by ${service}`);
    assert.equal(pidOf(span), pids[service], `${span.operationName} in the ${service} process`);
  };
  const what = JSON.stringify(spans.map((s) => [s.operationName, byId(parentOf(s))?.operationName]));

  assert.ok(
    spans.every((s) => s.traceID === trace!.traceID),
    'every span shares the trace id',
  );
  // smtp-ingress: the SMTP transaction, and its publish on mail.accepted.
  const [root] = named('smtp-ingress receive message');
  const [publish] = named('smtp-ingress publish mail.accepted');
  assert.ok(root && publish, what);
  assert.equal(parentOf(root), undefined, 'the SMTP transaction is the root');
  assert.equal(parentOf(publish), root.spanID, 'the publish on the bus is a child of the SMTP transaction');
  recordedBy(root, 'smtp-ingress');
  recordedBy(publish, 'smtp-ingress');

  // mda: continues from the Kafka headers; files bob's copy, hands the remote ones to the relay.
  const deliver = named('mda.deliver').find((s) => tag(s, 'correo.event_id') === eventId);
  assert.ok(deliver, what);
  assert.equal(parentOf(deliver), publish.spanID, 'the mda continues the trace from the bus headers');
  recordedBy(deliver, 'mda');
  const store = named('mda.store').find((s) => parentOf(s) === deliver.spanID);
  assert.ok(store, `the filing in the store is a child of the delivery: ${what}`);
  recordedBy(store, 'mda');

  // mta-relay: continues from mail.outbound's headers; one attempt at the remote, then a retry
  // from the queue that continues the same trace; the DSN for the refused recipient.
  const relayDeliver = named('relay.deliver').find((s) => parentOf(s) === deliver.spanID);
  assert.ok(relayDeliver, `the relay continues from the mda through mail.outbound: ${what}`);
  recordedBy(relayDeliver, 'mta-relay');
  const [first] = named('relay.attempt').filter((s) => parentOf(s) === relayDeliver.spanID);
  assert.ok(first, what);
  recordedBy(first, 'mta-relay');
  assert.equal(tag(first, 'correo.relay.delivered'), 1);
  assert.equal(tag(first, 'correo.relay.permanent'), 1);
  assert.equal(tag(first, 'correo.relay.temporary'), 1);
  const [retry] = named('relay.retry');
  assert.equal(parentOf(retry!), relayDeliver.spanID, 'the retry from the queue continues the trace');
  recordedBy(retry!, 'mta-relay');
  const second = named('relay.attempt').find((s) => parentOf(s) === retry!.spanID);
  assert.ok(second, what);
  assert.equal(tag(second, 'correo.relay.delivered'), 1);
  const [dsn] = named('relay.dsn');
  assert.equal(parentOf(dsn!), relayDeliver.spanID, 'the DSN is part of the delivery that failed');
  recordedBy(dsn!, 'mta-relay');

  // Back in the mda: the DSN to alice is delivered and filed, still in the same trace.
  const dsnDeliver = named('mda.deliver').find((s) => parentOf(s) === dsn!.spanID);
  assert.ok(dsnDeliver, what);
  recordedBy(dsnDeliver, 'mda');
  assert.ok(
    named('mda.store').some((s) => parentOf(s) === dsnDeliver.spanID),
    `the DSN is filed into alice's mailbox: ${what}`,
  );
});
