import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics } from '@correo/telemetry';
import { eventually, freshDatabase, testBackends, uniqueName } from '@correo/testkit';
import { createKafkaBus, createPostgresBus, type Bus } from '../src/index.js';

// correo_bus_consumer_lag is read from the bus when Prometheus scrapes (Kafka: the broker's
// offsets; the Postgres bus: its tables): the messages a group has not committed, per partition. It must show a backlog while the consumer is stuck on it (a
// value the consumer set itself would freeze there), and fall to 0 once the group catches up.
const MESSAGES = 5;

async function lagOf(group: string, topic: string): Promise<Map<string, number>> {
  const gauge = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'correo_bus_consumer_lag');
  const values = (gauge?.values ?? []) as { labels: Record<string, string>; value: number }[];
  return new Map(
    values
      .filter((v) => v.labels.group === group && v.labels.topic === topic)
      .map((v) => [v.labels.partition!, v.value]),
  );
}

const total = (lag: Map<string, number>) => [...lag.values()].reduce((a, b) => a + b, 0);

const BUSES: Record<string, () => Promise<{ bus: Bus; drop(): Promise<void> }>> = {
  kafka: async () => ({
    bus: createKafkaBus({ brokers: testBackends().kafkaBrokers, clientId: uniqueName('lag-test') }),
    drop: async () => {},
  }),
  postgres: async () => {
    const db = await freshDatabase();
    return {
      bus: createPostgresBus({ connectionString: db.url, pollIntervalMs: 50 }),
      drop: () => db.drop(),
    };
  },
};

for (const [kind, open] of Object.entries(BUSES)) {
  test(`${kind}: the bus lag per partition counts what the group has not committed, also while it is stuck`, async () => {
    const { bus, drop } = await open();
    const topic = uniqueName('lag');
    const group = uniqueName('lag-group');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    try {
      await bus.ensureTopics([{ name: topic, partitions: 2 }]);
      await bus.publish(
        topic,
        Array.from({ length: MESSAGES }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`m${i}`) })),
      );
      let started = false;
      const subscription = await bus.subscribe({
        group,
        topic,
        handler: async () => {
          started = true;
          await held;
          handled += 1;
        },
      });
      try {
        await eventually('the first message in the handler', () => started, 60_000);
        // Stuck on its first message: the whole backlog is still uncommitted.
        await eventually(
          'the backlog in the lag gauge',
          async () => total(await lagOf(group, topic)) === MESSAGES,
        );
        const lag = await lagOf(group, topic);
        assert.deepEqual([...lag.keys()].sort(), ['0', '1'], 'one series per partition');

        release();
        await eventually('every message handled', () => handled === MESSAGES, 60_000);
        await eventually('the lag back to 0', async () => total(await lagOf(group, topic)) === 0);
      } finally {
        await subscription.stop();
      }
      // A stopped subscription reports nothing any more.
      assert.equal((await lagOf(group, topic)).size, 0);
    } finally {
      release();
      await bus.close();
      await drop();
    }
  });
}
