import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFsBlobStore } from '@correo/blobs';
import { createPostgresBus } from '@correo/bus';
import { encodeMailAccepted } from '@correo/proto';
import { createPool, migrate } from '@correo/store';
import {
  eventually,
  freshDatabase,
  killRunning,
  makeDataDir,
  removeDataDir,
  spawnNode,
  uniqueName,
  type Spawned,
} from '@correo/testkit';
import { rawMessage } from './helpers/messages.js';
import { Provisioner } from './helpers/provision.js';
import { acceptedEvent } from './helpers/stack.js';

const EVENTS = 600;
const MDA_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/**
 * SIGTERM in the middle of a burst (so of a batch): the mda finishes the batch in hand, commits
 * it and exits 0. Proof that nothing is lost or left half-done: at the exit, the committed
 * offsets count exactly the events that were stored (every stored event committed, no committed
 * event missing), and a second mda delivers the rest, each event exactly once.
 */
test(`SIGTERM during a burst of ${EVENTS} events: the batch in hand is stored and committed, nothing lost`, async (t) => {
  const db = await freshDatabase();
  const pool = createPool(db.url);
  const blobDir = await makeDataDir('mda-drain-');
  const bus = createPostgresBus({ connectionString: db.url, partitions: 3 });
  const blobs = createFsBlobStore({ dir: blobDir });
  t.after(async () => {
    await killRunning();
    await bus.close();
    await blobs.close();
    await pool.end();
    await db.drop();
    await removeDataDir(blobDir);
  });

  await migrate(db.url);
  const topic = uniqueName('mail.accepted');
  const group = uniqueName('mda');
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    BUS_ADAPTER: 'postgres',
    BLOB_ADAPTER: 'fs',
    BLOB_DIR: blobDir,
    NOTIFY_ADAPTER: 'memory',
    MDA_CONSUMER_GROUP: group,
    MDA_ACCEPTED_TOPIC: topic,
    MDA_OUTBOUND_TOPIC: uniqueName('mail.outbound'),
    MDA_DEAD_LETTER_TOPIC: uniqueName('mail.accepted.dlq'),
  };
  await bus.ensureTopics([{ name: topic, partitions: 3 }]);
  const provision = new Provisioner(pool, uniqueName('tenant'));
  const domain = `${uniqueName('drain')}.test`;
  await provision.account(`one@${domain}`);
  const blob = await blobs.put(
    Readable.from([
      rawMessage({ from: 'a@remote.test', to: [`one@${domain}`], subject: 'drain', text: 'x' }),
    ]),
  );
  const events = Array.from({ length: EVENTS }, () => {
    const eventId = randomUUID();
    return {
      key: eventId,
      value: encodeMailAccepted(acceptedEvent(eventId, 'a@remote.test', { to: [`one@${domain}`] }, blob)),
    };
  });
  const storedEvents = async () =>
    Number(
      (await pool.query<{ n: string }>('SELECT count(DISTINCT event_id) AS n FROM deliveries')).rows[0]!.n,
    );
  const committedEvents = async () =>
    Number(
      (
        await pool.query<{ n: string | null }>(
          'SELECT sum(next_offset) AS n FROM bus.committed_offsets WHERE group_id = $1 AND topic = $2',
          [group, topic],
        )
      ).rows[0]!.n ?? 0,
    );

  const first = spawnNode(MDA_MAIN, env);
  const output = (p: Spawned) => (p.stdout() + p.stderr()).slice(-8000);
  for (let i = 0; i < events.length; i += 100) await bus.publish(topic, events.slice(i, i + 100));
  await eventually(
    'the first deliveries',
    async () => {
      if (first.child.exitCode !== null) throw new Error(`mda exited early: ${output(first)}`);
      return (await storedEvents()) > 0;
    },
    90_000,
    100,
  );

  first.child.kill('SIGTERM');
  assert.deepEqual(await first.exitWithin(30_000), { code: 0, signal: null }, output(first));
  const stored = await storedEvents();
  t.diagnostic(`${stored} of ${EVENTS} events were stored and committed before the exit`);
  assert.equal(
    await committedEvents(),
    stored,
    'every stored event is committed, no committed event is missing',
  );

  const second = spawnNode(MDA_MAIN, env);
  await eventually(
    `all ${EVENTS} events`,
    async () => {
      if (second.child.exitCode !== null) throw new Error(`second mda exited: ${output(second)}`);
      return (await storedEvents()) >= EVENTS;
    },
    240_000,
    100,
  );
  second.child.kill('SIGTERM');
  assert.deepEqual(await second.exitWithin(30_000), { code: 0, signal: null }, output(second));
  const perEvent = await pool.query<{ copies: string }>(
    'SELECT count(*) AS copies FROM deliveries GROUP BY event_id HAVING count(*) <> 1',
  );
  assert.equal(perEvent.rowCount, 0, 'each event delivered exactly once');
  assert.equal(await storedEvents(), EVENTS);
  assert.equal(await committedEvents(), EVENTS);
});
