import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createFsBlobStore } from '@correo/blobs';
import { createPostgresBus } from '@correo/bus';
import { encodeOutboundMessage, timestampNow } from '@correo/proto';
import { createPool, migrate, type Pool } from '@correo/store';
import {
  eventually,
  freshDatabase,
  killRunning,
  makeDataDir,
  removeDataDir,
  spawnNode,
  startDnsServer,
  uniqueName,
  type FreshDatabase,
  type TestDnsServer,
} from '@correo/testkit';
import { startRemoteMta, type RemoteMta } from './helpers/remote-mta.js';

// SIGTERM while an attempt is stuck at a remote that does not answer: the relay takes no new job,
// gives the attempt RELAY_DRAIN_TIMEOUT, then cuts it and releases its claim (due at once, the cut
// not counted as a failure) and exits 0. A second relay delivers the job: nothing lost, sent once.
const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let db: FreshDatabase;
let pool: Pool;
let dns: TestDnsServer;
let remote: RemoteMta;
let blobDir: string;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url, { max: 2 });
  blobDir = await makeDataDir('relay-drain-');
  remote = await startRemoteMta([{ address: '127.0.0.1', starttls: false }]);
  dns = await startDnsServer({ 'far.test': { A: ['127.0.0.1'] } });
});

after(async () => {
  await killRunning();
  await remote?.close();
  await dns?.close();
  await pool?.end();
  await db?.drop();
  if (blobDir) await removeDataDir(blobDir);
});

test('SIGTERM during a stuck attempt: the claim is released, the process exits 0, another relay delivers it once', async () => {
  const topic = uniqueName('mail.outbound');
  const env = {
    DATABASE_URL: db.url,
    BUS_ADAPTER: 'postgres',
    BLOB_ADAPTER: 'fs',
    BLOB_DIR: blobDir,
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    RELAY_OUTBOUND_TOPIC: topic,
    RELAY_ACCEPTED_TOPIC: uniqueName('mail.accepted'),
    RELAY_DNS_SERVERS: dns.address,
    RELAY_TRANSPORT_MAP: `far.test=127.0.0.1:${remote.port}`,
    RELAY_QUEUE_POLL: '200ms',
    RELAY_DRAIN_TIMEOUT: '1s',
  };
  // The remote holds RCPT TO until released: the first relay's attempt is in progress at SIGTERM.
  let releaseRcpt!: () => void;
  const held = new Promise<void>((resolve) => (releaseRcpt = resolve));
  let rcptArrived = false;
  remote.beforeRcptReply = async () => {
    rcptArrived = true;
    await held;
  };

  const bus = createPostgresBus({ connectionString: db.url, pollIntervalMs: 100 });
  const blobs = createFsBlobStore({ dir: blobDir });
  const jobId = randomUUID();
  try {
    const blob = await blobs.put(
      Readable.from([Buffer.from('From: a@drain.test\r\nSubject: drained\r\n\r\nhi\r\n')]),
    );
    await bus.ensureTopics([{ name: topic, partitions: 2 }]);
    await bus.publish(topic, [
      {
        key: 'far.test',
        value: encodeOutboundMessage({
          eventId: jobId,
          originalEventId: randomUUID(),
          mailFrom: 'a@drain.test',
          destinationDomain: 'far.test',
          recipients: [{ address: 'b@far.test' }],
          blobKey: blob.key,
          size: BigInt(blob.size),
          sha256: blob.sha256,
          queuedAt: timestampNow(),
        }),
      },
    ]);

    const first = spawnNode(mainScript, env);
    await eventually(
      `the attempt to reach RCPT TO (${first.stdout()}${first.stderr()})`,
      () => rcptArrived,
      90_000,
    );
    const claimed = await pool.query<{ claim_token: string | null }>(
      'SELECT claim_token FROM relay_queue WHERE job_id = $1',
      [jobId],
    );
    assert.ok(claimed.rows[0]?.claim_token, 'the job is claimed while it is attempted');

    first.child.kill('SIGTERM');
    const exit = await first.exitWithin(30_000);
    assert.deepEqual(exit, { code: 0, signal: null }, first.stdout() + first.stderr());
    assert.match(first.stdout(), /attempt cut by shutdown; claim released/);
    const released = await pool.query<{ claim_token: string | null; due: boolean }>(
      'SELECT claim_token, next_attempt_at <= now() AS due FROM relay_queue WHERE job_id = $1',
      [jobId],
    );
    assert.equal(released.rowCount, 1, 'the job is still queued');
    assert.equal(released.rows[0]!.claim_token, null, 'its claim is released');
    assert.equal(released.rows[0]!.due, true, 'it is due at once');
    assert.equal(remote.received.length, 0);

    // The remote answers again; another relay takes the released job from the queue.
    remote.beforeRcptReply = async () => {};
    releaseRcpt();
    const second = spawnNode(mainScript, env);
    await eventually('delivery by the second relay', () => remote.received.length > 0, 90_000);
    second.child.kill('SIGTERM');
    assert.deepEqual(await second.exitWithin(30_000), { code: 0, signal: null }, second.stderr());
    assert.equal(remote.received.length, 1, 'sent exactly once');
    assert.deepEqual(remote.received[0]!.recipients, ['b@far.test']);
    const outcomes = await pool.query<{ outcome: string }>(
      'SELECT outcome FROM relay_outcomes WHERE job_id = $1',
      [jobId],
    );
    assert.deepEqual(
      outcomes.rows.map((r) => r.outcome),
      ['delivered'],
    );
  } finally {
    await bus.close();
    await blobs.close();
  }
});
