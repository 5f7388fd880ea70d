import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createFsBlobStore } from '@correo/blobs';
import { createPostgresBus } from '@correo/bus';
import { encodeOutboundMessage, timestampNow } from '@correo/proto';
import { createPool, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { freshDatabase, startDnsServer, uniqueName } from '@correo/testkit';
import type { FreshDatabase, TestDnsServer } from '@correo/testkit';
import { startRemoteMta } from './helpers/remote-mta.js';
import type { RemoteMta } from './helpers/remote-mta.js';
import { waitUntil } from './helpers/stack.js';

const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let db: FreshDatabase;
let pool: Pool;
let dns: TestDnsServer;
let remote: RemoteMta;
let blobDir: string;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url);
  blobDir = await mkdtemp(join(tmpdir(), 'relay-main-'));
  remote = await startRemoteMta([{ address: '127.0.0.1', starttls: true }]);
  dns = await startDnsServer({ 'far.test': { A: ['127.0.0.1'] } });
});

after(async () => {
  await remote?.close();
  await dns?.close();
  await pool?.end();
  await db?.drop();
  if (blobDir) await rm(blobDir, { recursive: true, force: true });
});

test('src/main.ts, configured only by environment, relays a job and stops cleanly on SIGTERM', async () => {
  const topic = uniqueName('mail.outbound');
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      BUS_ADAPTER: 'postgres',
      BLOB_ADAPTER: 'fs',
      BLOB_DIR: blobDir,
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      RELAY_OUTBOUND_TOPIC: topic,
      RELAY_ACCEPTED_TOPIC: uniqueName('mail.accepted'),
      RELAY_DNS_SERVERS: dns.address,
      // far.test's explicit route: a private (loopback) next hop is reached only this way.
      RELAY_TRANSPORT_MAP: `far.test=127.0.0.1:${remote.port}`,
      RELAY_EHLO_NAME: 'relay.main.test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const bus = createPostgresBus({ connectionString: db.url, pollIntervalMs: 100 });
  const blobs = createFsBlobStore({ dir: blobDir });
  try {
    const blob = await blobs.put(
      Readable.from([Buffer.from('From: a@main.test\r\nSubject: via main\r\n\r\nhi\r\n')]),
    );
    await bus.ensureTopics([{ name: topic, partitions: 6 }]);
    await bus.publish(topic, [
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
    await waitUntil(
      `delivery by the spawned relay (output: ${output})`,
      () => remote.received.length > 0,
      60_000,
    );
    assert.equal(remote.received[0]!.ehloName, 'relay.main.test');
    assert.deepEqual(remote.received[0]!.recipients, ['b@far.test']);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await bus.close();
    await blobs.close();
  }
});
