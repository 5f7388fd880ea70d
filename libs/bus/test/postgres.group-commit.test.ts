import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { eventually, freshDatabase, uniqueName } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { createPostgresBus } from '../src/index.js';
import type { Bus, DeliveredMessage } from '../src/index.js';

let database: FreshDatabase;
let bus: Bus;
let db: pg.Client;
before(async () => {
  database = await freshDatabase();
  bus = createPostgresBus({ connectionString: database.url, pollIntervalMs: 600_000 });
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
});
after(async () => {
  await bus?.close();
  await db?.end();
  await database?.drop();
});

test('concurrent publishes commit together: twenty SMTP sessions pay one or two WAL flushes, not twenty', async () => {
  const topic = uniqueName('accepted');
  await bus.ensureTopics([{ name: topic, partitions: 3 }]);
  // Once published to, the topic's partition count is cached: the twenty below reach the
  // committer in one go, as SMTP sessions of a running server do.
  await bus.publish(topic, [{ key: 'warm-up', value: Buffer.from('warm-up') }]);
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      bus.publish(topic, [{ key: `event-${i}`, value: Buffer.from(`message ${i}`) }]),
    ),
  );
  const { rows } = await db.query<{ messages: number; transactions: number }>(
    `SELECT count(*)::int AS messages, count(DISTINCT xmin::text)::int AS transactions
       FROM bus.messages WHERE topic = $1 AND key <> 'warm-up'`,
    [topic],
  );
  assert.equal(rows[0]!.messages, 20, 'every publish is stored once');
  // The first publish finds the bus idle and commits alone; the other nineteen queue behind it.
  assert.ok(rows[0]!.transactions <= 2, `${rows[0]!.transactions} transactions for 20 concurrent publishes`);
});

test('a publish that cannot commit fails alone; the batch it came with is stored', async () => {
  const topic = uniqueName('accepted');
  await bus.ensureTopics([{ name: topic, partitions: 1 }]);
  // jsonb refuses \u0000, so this message's insert fails inside whichever batch carries it.
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      bus.publish(topic, [
        { key: `event-${i}`, value: Buffer.from(`${i}`), headers: i === 4 ? { bad: 'nul \u0000 here' } : {} },
      ]),
    ),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    results.map((_, i) => (i === 4 ? 'rejected' : 'fulfilled')),
  );
  const { rows } = await db.query<{ value: Buffer }>(
    `SELECT value FROM bus.messages WHERE topic = $1 ORDER BY "offset"`,
    [topic],
  );
  assert.deepEqual(rows.map((r) => r.value.toString()).sort(), ['0', '1', '2', '3', '5', '6', '7', '8', '9']);
});

test('a consumer in the publishing process is woken at once, without waiting for its poll', async () => {
  const topic = uniqueName('accepted');
  await bus.ensureTopics([{ name: topic, partitions: 1 }]);
  const delivered: DeliveredMessage[] = [];
  const subscription = await bus.subscribe({
    group: uniqueName('mda'),
    topic,
    handler: async (message) => void delivered.push(message),
  });
  try {
    // The poll interval is ten minutes: only a wake-up (in-process or NOTIFY) delivers these in time.
    for (let i = 0; i < 3; i++) {
      await bus.publish(topic, [{ value: Buffer.from(`wake ${i}`) }]);
      await eventually(`message ${i} delivered`, () => delivered.length === i + 1, 20_000, 10);
    }
  } finally {
    await subscription.stop();
  }
});

test('a consumer in another process is woken by NOTIFY sent after the commit', async () => {
  const topic = uniqueName('accepted');
  const other = createPostgresBus({ connectionString: database.url, pollIntervalMs: 600_000 });
  try {
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const delivered: DeliveredMessage[] = [];
    const subscription = await other.subscribe({
      group: uniqueName('mda'),
      topic,
      handler: async (message) => void delivered.push(message),
    });
    await bus.publish(topic, [{ value: Buffer.from('from elsewhere') }]);
    await eventually('delivered in the other process', () => delivered.length === 1, 20_000, 10);
    await subscription.stop();
  } finally {
    await other.close();
  }
});
