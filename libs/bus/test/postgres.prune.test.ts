import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { eventually, freshDatabase, uniqueName } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { createPostgresBus } from '../src/index.js';
import type { Bus, DeliveredMessage } from '../src/index.js';

let database: FreshDatabase;
let bus: Bus;
let sql: pg.Pool;

before(async () => {
  database = await freshDatabase();
  bus = createPostgresBus({ connectionString: database.url, pollIntervalMs: 50 });
  sql = new pg.Pool({ connectionString: database.url, max: 2 });
});

after(async () => {
  await bus?.close();
  await sql?.end();
  await database?.drop();
});

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

async function offsetsLeft(topic: string): Promise<number[]> {
  const { rows } = await sql.query<{ offset: string }>(
    'SELECT "offset" FROM bus.messages WHERE topic = $1 ORDER BY "offset"',
    [topic],
  );
  return rows.map((row) => Number(row.offset));
}

async function committed(group: string, topic: string): Promise<number> {
  const { rows } = await sql.query<{ next_offset: string }>(
    'SELECT next_offset FROM bus.committed_offsets WHERE group_id = $1 AND topic = $2 AND partition = 0',
    [group, topic],
  );
  return Number(rows[0]?.next_offset ?? -1);
}

const publish = (topic: string, from: number, count: number) =>
  bus.publish(
    topic,
    Array.from({ length: count }, (_, i) => ({ key: 'one-key', value: Buffer.from(String(from + i)) })),
  );

test(
  'consumed messages are pruned once every subscribed group is past them; the rest stay',
  { timeout: 60_000 },
  async () => {
    const topic = uniqueName('accepted');
    const deadLetters = `${topic}.dlq`;
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);

    // Group "fast" consumes everything; group "slow" stops inside the message at offset 3.
    const fast: string[] = [];
    const slow: string[] = [];
    const slowAtThree = gate();
    const releaseSlow = gate();
    const fastSub = await bus.subscribe({
      group: uniqueName('fast'),
      topic,
      deadLetterTopic: deadLetters,
      handler: async (m: DeliveredMessage) => void fast.push(m.value.toString()),
    });
    const slowGroup = uniqueName('slow');
    const slowSub = await bus.subscribe({
      group: slowGroup,
      topic,
      deadLetterTopic: deadLetters,
      handler: async (m: DeliveredMessage) => {
        if (m.offset === '3') {
          slowAtThree.open();
          await releaseSlow.wait;
        }
        slow.push(m.value.toString());
      },
    });
    // A dead letter nobody consumes: kept whatever happens.
    await bus.publish(deadLetters, [{ key: 'x', value: Buffer.from('poison') }]);

    await publish(topic, 0, 6);
    await eventually('the fast group to consume all six', () => fast.length === 6);
    await slowAtThree.wait;
    await eventually(
      'the slow group to commit up to offset 3',
      async () => (await committed(slowGroup, topic)) === 3,
    );

    assert.equal(await bus.pruneConsumed(), 3);
    assert.deepEqual(await offsetsLeft(topic), [3, 4, 5], 'what the slow group has not consumed stays');
    assert.deepEqual(await offsetsLeft(deadLetters), [0], 'a topic without a group is never pruned');

    releaseSlow.open();
    await eventually(
      'the slow group to commit everything',
      async () => (await committed(slowGroup, topic)) === 6,
    );
    assert.equal(await bus.pruneConsumed(), 3);
    assert.deepEqual(await offsetsLeft(topic), []);

    // Offsets go on after a prune: nothing is delivered twice or skipped.
    await publish(topic, 6, 2);
    await eventually('both groups to get the new messages', () => fast.length === 8 && slow.length === 8);
    assert.deepEqual(fast, ['0', '1', '2', '3', '4', '5', '6', '7']);
    assert.deepEqual(slow, fast);
    await Promise.all([fastSub.stop(), slowSub.stop()]);
  },
);

test(
  'a group that subscribed but has committed nothing yet keeps every message another group consumed',
  { timeout: 60_000 },
  async () => {
    const topic = uniqueName('outbound');
    await bus.ensureTopics([{ name: topic, partitions: 2 }]);
    const early: string[] = [];
    const earlySub = await bus.subscribe({
      group: uniqueName('early'),
      topic,
      handler: async (m: DeliveredMessage) => void early.push(m.value.toString()),
    });
    await publish(topic, 0, 3);
    await eventually('the early group to consume all three', () => early.length === 3);
    await earlySub.stop();

    // The late group has joined and holds its first message, nothing committed.
    const first = gate();
    const release = gate();
    const late: string[] = [];
    const lateSub = await bus.subscribe({
      group: uniqueName('late'),
      topic,
      handler: async (m: DeliveredMessage) => {
        first.open();
        await release.wait;
        late.push(m.value.toString());
      },
    });
    await first.wait;
    await bus.pruneConsumed();
    assert.equal((await offsetsLeft(topic)).length, 3, 'the late group still needs them');
    release.open();
    await eventually('the late group to consume all three', () => late.length === 3);
    await lateSub.stop();
    assert.ok((await bus.pruneConsumed()) >= 3);
    assert.deepEqual(await offsetsLeft(topic), []);
  },
);
