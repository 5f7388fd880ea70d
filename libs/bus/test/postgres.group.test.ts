import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, uniqueName } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { createPostgresBus } from '../src/index.js';
import type { Bus } from '../src/index.js';

let database: FreshDatabase | undefined;
const buses: Bus[] = [];
after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  await database?.drop();
});

async function eventually(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test(
  'two processes of one group never both deliver a message, and one takes over when the other stops',
  { timeout: 60_000 },
  async () => {
    database = await freshDatabase();
    const url = database.url;
    // Two buses stand for two processes: each has its own connections and partition locks.
    const [one, two] = [0, 1].map(() => {
      const bus = createPostgresBus({ connectionString: url, pollIntervalMs: 100 });
      buses.push(bus);
      return bus;
    }) as [Bus, Bus];
    const topic = uniqueName('accepted');
    const group = uniqueName('mda');
    await one.ensureTopics([{ name: topic, partitions: 4 }]);
    const publishBatch = (from: number) =>
      one.publish(
        topic,
        Array.from({ length: 50 }, (_, i) => ({
          key: `rcpt-${(from + i) % 13}`,
          value: Buffer.from(`${from + i}`),
        })),
      );

    const delivered: string[] = [];
    const handler = async (m: { value: Buffer }) => void delivered.push(m.value.toString());
    const first = await one.subscribe({ group, topic, handler });
    const second = await two.subscribe({ group, topic, handler });
    await publishBatch(0);
    await eventually('the first 50', () => delivered.length >= 50);
    await first.stop();
    await publishBatch(50);
    await eventually('all 100', () => delivered.length >= 100);
    await second.stop();

    assert.equal(delivered.length, 100, 'no message was delivered twice');
    assert.deepEqual(
      [...delivered].map(Number).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
  },
);
