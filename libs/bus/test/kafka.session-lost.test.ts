import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { eventually, testBackends, uniqueName } from '@correo/testkit';
import { createKafkaBus } from '../src/index.js';

// A handler held up longer than the group's session timeout (6 s now; 30 s then: an mda waiting on a stalled S3
// for 3 attempts x 30 s) loses its membership: the coordinator forgets the member, and the offset
// commit after the handler fails with "The coordinator is not aware of this member". kafkajs
// restarts a crashed consumer only after errors it calls retriable, so before the fix this one
// stopped the subscription for good: the mda filed nothing more until it was restarted, though S3
// was long back. Found by e2e/test/backend-faults.test.ts (a stalled S3).
test(
  'a subscription that lost its group membership rejoins and handles what it had',
  { timeout: 180_000 },
  async () => {
    const { kafkaBrokers } = testBackends();
    const bus = createKafkaBus({ brokers: kafkaBrokers, clientId: uniqueName('session-lost') });
    const admin = new Kafka({
      brokers: kafkaBrokers,
      clientId: uniqueName('session-lost'),
      logLevel: logLevel.NOTHING,
    }).admin();
    const topic = uniqueName('session-lost');
    const group = uniqueName('session-lost');
    await admin.connect();
    try {
      await bus.ensureTopics([{ name: topic, partitions: 1 }]);
      await bus.publish(topic, [{ key: 'k', value: Buffer.from('first') }]);
      let memberGone = false;
      const handled: string[] = [];
      const subscription = await bus.subscribe({
        group,
        topic,
        handler: async (message) => {
          if (!memberGone) {
            // Held until the coordinator dropped this member (its session timed out), then done: the
            // bus commits its offset as the member it no longer is.
            await eventually(
              'the coordinator to drop the silent member',
              async () => {
                const [description] = (await admin.describeGroups([group])).groups;
                return description?.members.length === 0;
              },
              120_000,
              500,
            );
            memberGone = true;
          }
          handled.push(message.value.toString());
        },
      });
      try {
        await bus.publish(topic, [{ key: 'k', value: Buffer.from('second') }]);
        await eventually(
          'both messages handled after the member rejoined',
          () => handled.includes('first') && handled.includes('second'),
          120_000,
          200,
        );
        assert.deepEqual([...new Set(handled)], ['first', 'second'], 'in order');
      } finally {
        await subscription.stop();
      }
    } finally {
      await admin.disconnect();
      await bus.close();
    }
  },
);
