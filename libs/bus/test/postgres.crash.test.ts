import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { eventually, freshDatabase, killRunning, spawnNode, uniqueName } from '@correo/testkit';
import type { FreshDatabase, Spawned } from '@correo/testkit';
import { createPostgresBus } from '../src/index.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/crash-consumer.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const TOTAL = 200;

let database: FreshDatabase | undefined;
let db: pg.Client | undefined;
after(async () => {
  await killRunning();
  await db?.end();
  await database?.drop();
});

/** The consumer fixture as its own process; its stdout lines are "<partition> <offset>" per handled message. */
function startConsumer(env: Record<string, string>): Spawned {
  return spawnNode(FIXTURE, env, PACKAGE_DIR);
}

test(
  'a SIGKILLed consumer loses nothing and redelivers exactly the uncommitted messages',
  { timeout: 90_000 },
  async (t) => {
    database = await freshDatabase();
    const topic = uniqueName('crash');
    const group = uniqueName('mda');
    const bus = createPostgresBus({ connectionString: database.url });
    try {
      await bus.ensureTopics([{ name: topic, partitions: 4 }]);
      await bus.publish(
        topic,
        Array.from({ length: TOTAL }, (_, i) => ({ key: `rcpt-${i % 17}`, value: Buffer.from(`mail ${i}`) })),
      );
    } finally {
      await bus.close();
    }
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const client = db;
    const published = (
      await client.query<{ id: string }>(
        `SELECT partition || ' ' || "offset" AS id FROM bus.messages WHERE topic = $1`,
        [topic],
      )
    ).rows.map((r) => r.id);
    assert.equal(published.length, TOTAL);
    const committed = async () => {
      const { rows } = await client.query<{ partition: number; next_offset: string }>(
        'SELECT partition, next_offset FROM bus.committed_offsets WHERE group_id = $1 AND topic = $2',
        [group, topic],
      );
      return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
    };
    const isCommitted = (id: string, offsets: Map<number, bigint>) => {
      const [partition, offset] = id.split(' ').map(Number) as [number, number];
      return BigInt(offset) < (offsets.get(partition) ?? 0n);
    };
    const env = { BUS_DATABASE_URL: database.url, BUS_TOPIC: topic, BUS_GROUP: group };

    const first = startConsumer(env);
    await eventually('the first run to handle 60 messages', () => first.lines().length >= 60);
    await first.stop('SIGKILL');
    const afterCrash = await committed();
    const committedBeforeCrash = published.filter((id) => isCommitted(id, afterCrash));
    assert.ok(committedBeforeCrash.length >= 1, 'the first run committed something');
    assert.ok(committedBeforeCrash.length < TOTAL, 'the first run was killed mid-stream');
    const firstSeen = new Set(first.lines());
    assert.deepEqual(
      committedBeforeCrash.filter((id) => !firstSeen.has(id)),
      [],
      'every committed message was handled by the first run',
    );

    t.diagnostic(
      `first run handled ${first.lines().length}, committed ${committedBeforeCrash.length} of ${TOTAL}`,
    );

    const second = startConsumer(env);
    await eventually('the second run to commit everything', async () => {
      const offsets = await committed();
      return published.every((id) => isCommitted(id, offsets));
    });
    assert.equal((await second.stop('SIGTERM')).code, 0);

    const expectedAgain = published.filter((id) => !isCommitted(id, afterCrash)).sort();
    assert.deepEqual(second.lines().sort(), expectedAgain, 'exactly the uncommitted messages came again');
    assert.deepEqual(
      [...new Set([...first.lines(), ...second.lines()])].sort(),
      [...published].sort(),
      'nothing was lost',
    );
  },
);
