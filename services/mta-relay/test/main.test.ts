import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { encodeOutboundMessage, timestampNow } from '@correo/proto';
import { eventually, spawnNode, startDnsServer, uniqueName } from '@correo/testkit';
import type { TestDnsServer } from '@correo/testkit';
import { openTestStack } from '@correo/testkit/stack';
import type { TestStack } from '@correo/testkit/stack';
import { startRemoteMta } from './helpers/remote-mta.js';
import type { RemoteMta } from './helpers/remote-mta.js';

const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let stack: TestStack;
let dns: TestDnsServer;
let remote: RemoteMta;

before(async () => {
  stack = await openTestStack('embedded');
  remote = await startRemoteMta([{ address: '127.0.0.1', starttls: true }]);
  stack.defer(() => remote.close());
  dns = await startDnsServer({ 'far.test': { A: ['127.0.0.1'] } });
  stack.defer(() => dns.close());
});

after(async () => {
  await stack?.close();
});

test('src/main.ts, configured only by environment, relays a job and stops cleanly on SIGTERM', async () => {
  const topic = uniqueName('mail.outbound');
  const relay = spawnNode(mainScript, {
    ...stack.env(),
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    RELAY_OUTBOUND_TOPIC: topic,
    RELAY_ACCEPTED_TOPIC: uniqueName('mail.accepted'),
    RELAY_DNS_SERVERS: dns.address,
    // far.test's explicit route: a private (loopback) next hop is reached only this way.
    RELAY_TRANSPORT_MAP: `far.test=127.0.0.1:${remote.port}`,
    RELAY_EHLO_NAME: 'relay.main.test',
  });
  const output = () => relay.stdout() + relay.stderr();
  try {
    const blob = await stack.blobs.put(
      Readable.from([Buffer.from('From: a@main.test\r\nSubject: via main\r\n\r\nhi\r\n')]),
    );
    await stack.bus.ensureTopics([{ name: topic, partitions: 6 }]);
    await stack.bus.publish(topic, [
      {
        key: 'far.test',
        value: encodeOutboundMessage({
          eventId: randomUUID(),
          originalEventId: randomUUID(),
          mailFrom: 'a@main.test',
          destinationDomain: 'far.test',
          recipients: [{ address: 'b@far.test' }],
          blobKey: blob.key,
          size: BigInt(blob.size),
          sha256: blob.sha256,
          queuedAt: timestampNow(),
        }),
      },
    ]);
    await eventually('delivery by the spawned relay', () => {
      if (relay.child.exitCode !== null) throw new Error(`relay exited: ${output()}`);
      return remote.received.length > 0;
    });
    assert.equal(remote.received[0]!.ehloName, 'relay.main.test');
    assert.deepEqual(remote.received[0]!.recipients, ['b@far.test']);
    assert.equal((await relay.stop('SIGTERM')).code, 0, output());
  } finally {
    await relay.stop('SIGKILL');
  }
});
