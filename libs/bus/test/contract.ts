import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freePort, testBackends, uniqueName } from '@correo/testkit';
import { decodeDeadLetter } from '../src/index.js';
import type { Bus, DeliveredMessage, SubscribeOptions, Subscription } from '../src/index.js';

const TIMEOUT = { timeout: 60_000 };
const WAIT_MS = 30_000;

/** Resolves once `done()` holds; rejects after WAIT_MS naming what never happened. */
async function eventually(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const text = (m: DeliveredMessage) => m.value.toString('utf8');

/** What a handler meets when its database is down: a real connection to a port nobody listens on. */
async function queryDownDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'correo', connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => {});
  }
}

/** A message the database refuses by itself: the backend is up and answers with a data error (22P02). */
async function queryBadContent(): Promise<void> {
  const client = new pg.Client({ connectionString: testBackends().databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT $1::integer', ['not a number']);
  } finally {
    await client.end();
  }
}
const bytes = (s: string) => Buffer.from(s, 'utf8');

/**
 * The behaviour both bus adapters must share. `makeUnreachableBus` builds a bus pointed at a
 * closed port on 127.0.0.1:1.
 */
export function busContract(
  name: string,
  makeBus: () => Promise<Bus>,
  makeUnreachableBus: () => Promise<Bus>,
) {
  describe(`bus contract [${name}]`, () => {
    let bus: Bus;
    const subscriptions: Subscription[] = [];

    const newTopic = async (prefix: string, partitions: number) => {
      const topic = uniqueName(prefix);
      await bus.ensureTopics([{ name: topic, partitions }]);
      return topic;
    };
    const consume = async (
      group: string,
      topic: string,
      handler: (m: DeliveredMessage) => Promise<void>,
      extra: Pick<SubscribeOptions, 'maxAttempts' | 'onDeadLetter' | 'batchHandler'> = {},
    ) => {
      const subscription = await bus.subscribe({ group, topic, handler, ...extra });
      subscriptions.push(subscription);
      return subscription;
    };

    before(async () => {
      bus = await makeBus();
    });
    after(async () => {
      await Promise.allSettled(subscriptions.map((s) => s.stop()));
      await bus.close();
    });

    test('ping answers', TIMEOUT, async () => {
      await bus.ping();
      assert.equal(bus.kind, name);
    });

    test('ping against an unreachable server rejects with a clear error', TIMEOUT, async () => {
      const dead = await makeUnreachableBus();
      try {
        await assert.rejects(dead.ping(), (error: Error) => {
          assert.match(error.message, /unreachable/);
          assert.match(error.message, /127\.0\.0\.1:1\b/);
          return true;
        });
      } finally {
        await dead.close();
      }
    });

    test('ensureTopics is idempotent and the partitions are used', TIMEOUT, async () => {
      const topic = uniqueName('idem');
      await bus.ensureTopics([{ name: topic, partitions: 3 }]);
      await Promise.all([
        bus.ensureTopics([{ name: topic, partitions: 3 }]),
        bus.ensureTopics([{ name: topic, partitions: 3 }]),
      ]);
      await bus.publish(
        topic,
        Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: bytes(`m${i}`) })),
      );
      const got: DeliveredMessage[] = [];
      await consume(uniqueName('g'), topic, async (m) => void got.push(m));
      await eventually('30 messages', () => got.length >= 30);
      const partitions = new Set(got.map((m) => m.partition));
      assert.ok(
        [...partitions].every((p) => p >= 0 && p < 3),
        `partitions ${[...partitions]}`,
      );
      assert.ok(partitions.size > 1, 'thirty keys should spread over more than one partition');
    });

    test('messages with one key arrive in publish order, with key, headers and value', TIMEOUT, async () => {
      const topic = await newTopic('order', 3);
      const keys = ['alice', 'bob', 'carol', 'dave'];
      for (let round = 0; round < 3; round++) {
        await bus.publish(
          topic,
          keys.flatMap((key) =>
            [0, 1, 2].map((i) => ({
              key,
              value: bytes(`${key}:${round * 3 + i}`),
              headers: { seq: `${round * 3 + i}` },
            })),
          ),
        );
      }
      const got: DeliveredMessage[] = [];
      await consume(uniqueName('g'), topic, async (m) => void got.push(m));
      await eventually('36 messages', () => got.length >= 36);
      assert.equal(got.length, 36);
      for (const key of keys) {
        const mine = got.filter((m) => m.key === key);
        assert.deepEqual(
          mine.map(text),
          Array.from({ length: 9 }, (_, i) => `${key}:${i}`),
        );
        assert.deepEqual(
          mine.map((m) => m.headers.seq),
          Array.from({ length: 9 }, (_, i) => `${i}`),
        );
        assert.equal(new Set(mine.map((m) => m.partition)).size, 1);
        const offsets = mine.map((m) => BigInt(m.offset));
        assert.ok(
          offsets.every((o, i) => i === 0 || o > offsets[i - 1]!),
          'offsets ascend',
        );
        assert.ok(mine.every((m) => m.topic === topic && m.attempt === 1));
      }
    });

    // A service closes its bus on shutdown; a session still in DATA must then get 451 (smtp-ingress),
    // not a publish through a connection opened again behind the closed client.
    test('a closed bus refuses to publish, whether or not it had published before', TIMEOUT, async () => {
      const topic = await newTopic('closed', 1);
      const got: string[] = [];
      await consume(uniqueName('g'), topic, async (m) => void got.push(text(m)));
      const neverUsed = await makeBus();
      await neverUsed.close();
      await assert.rejects(neverUsed.publish(topic, [{ key: 'k', value: bytes('after close, never used') }]));
      const used = await makeBus();
      await used.publish(topic, [{ key: 'k', value: bytes('before close') }]);
      await used.close();
      await assert.rejects(used.publish(topic, [{ key: 'k', value: bytes('after close, used') }]));
      // In order on one partition: once the marker is here, a refused message would have been too.
      await bus.publish(topic, [{ key: 'k', value: bytes('marker') }]);
      await eventually('the marker', () => got.includes('marker'));
      assert.deepEqual(got, ['before close', 'marker']);
    });

    test('two groups each get every message', TIMEOUT, async () => {
      const topic = await newTopic('fanout', 2);
      const sent = Array.from({ length: 10 }, (_, i) => `mail-${i}`);
      await bus.publish(
        topic,
        sent.map((v, i) => ({ key: `k${i % 3}`, value: bytes(v) })),
      );
      const first: string[] = [];
      const second: string[] = [];
      await consume(uniqueName('mda'), topic, async (m) => void first.push(text(m)));
      await consume(uniqueName('audit'), topic, async (m) => void second.push(text(m)));
      await eventually('both groups to see 10', () => first.length >= 10 && second.length >= 10);
      assert.deepEqual([...first].sort(), [...sent].sort());
      assert.deepEqual([...second].sort(), [...sent].sort());
    });

    test('a handler failing N-1 times is retried, then committed once', TIMEOUT, async () => {
      const topic = await newTopic('retry', 1);
      const group = uniqueName('g');
      await bus.publish(topic, [{ key: 'k', value: bytes('flaky') }]);
      const attempts: number[] = [];
      const first = await consume(
        group,
        topic,
        async (m) => {
          attempts.push(m.attempt);
          if (m.attempt < 3) throw new Error(`transient failure ${m.attempt}`);
        },
        { maxAttempts: 3 },
      );
      await eventually('the third attempt', () => attempts.length >= 3);
      await first.stop();
      assert.deepEqual(attempts, [1, 2, 3]);

      await bus.publish(topic, [{ key: 'k', value: bytes('sentinel') }]);
      const later: string[] = [];
      await consume(group, topic, async (m) => void later.push(text(m)));
      await eventually('the sentinel', () => later.length >= 1);
      assert.deepEqual(later, ['sentinel'], 'the retried message was committed and not delivered again');
    });

    test('a handler that always fails dead-letters the message and the next one flows', TIMEOUT, async () => {
      const topic = await newTopic('poison', 1);
      const group = uniqueName('g');
      await bus.publish(topic, [
        { key: 'p', value: bytes('poison'), headers: { trace: 't-1' } },
        { key: 'p', value: bytes('healthy') },
      ]);
      const seen: string[] = [];
      const reported: string[] = [];
      await consume(
        group,
        topic,
        async (m) => {
          seen.push(`${text(m)}#${m.attempt}`);
          if (text(m) === 'poison') throw new Error('cannot parse MIME structure');
        },
        {
          maxAttempts: 3,
          onDeadLetter: (m, error, attempts) => reported.push(`${text(m)}@${m.offset}x${attempts}: ${error}`),
        },
      );
      await eventually('the healthy message', () => seen.includes('healthy#1'));
      assert.deepEqual(seen, ['poison#1', 'poison#2', 'poison#3', 'healthy#1']);
      assert.deepEqual(reported, ['poison@0x3: cannot parse MIME structure'], 'reported once, when durable');

      const letters: DeliveredMessage[] = [];
      await consume(uniqueName('dlq-reader'), `${topic}.dlq`, async (m) => void letters.push(m));
      await eventually('the dead letter', () => letters.length >= 1);
      assert.equal(letters.length, 1);
      const letter = decodeDeadLetter(letters[0]!.value);
      assert.equal(letter.topic, topic);
      assert.equal(letter.group, group);
      assert.equal(letter.partition, 0);
      assert.equal(letter.offset, '0');
      assert.equal(letter.key, 'p');
      assert.deepEqual(letter.headers, { trace: 't-1' });
      assert.equal(letter.value.toString('utf8'), 'poison');
      assert.match(letter.error, /cannot parse MIME structure/);
      assert.equal(letter.attempts, 3);
      assert.equal(letters[0]!.key, 'p');
    });

    test(
      'a backend failure is retried past maxAttempts, stalls the partition and never dead-letters',
      TIMEOUT,
      async () => {
        const topic = await newTopic('outage', 1);
        const closedPort = await freePort();
        await bus.publish(topic, [
          { key: 'mailbox', value: bytes('waits') },
          { key: 'mailbox', value: bytes('next') },
        ]);
        const seen: string[] = [];
        const stallsSeen: string[] = [];
        const reported: string[] = [];
        // The handler may run before consume() resolves.
        const held: { subscription?: Subscription } = {};
        held.subscription = await consume(
          uniqueName('g'),
          topic,
          async (m) => {
            seen.push(`${text(m)}#${m.attempt}`);
            if (m.attempt > 1) stallsSeen.push(held.subscription?.stalled()?.error ?? 'flowing');
            // Six failures with maxAttempts 2: the old policy dead-lettered after the second.
            if (text(m) === 'waits' && m.attempt <= 6) await queryDownDatabase(closedPort);
          },
          { maxAttempts: 2, onDeadLetter: (m, error) => reported.push(`${text(m)}: ${error}`) },
        );
        await eventually('the next message', () => seen.includes('next#1'));
        assert.deepEqual(reported, [], 'a backend failure never dead-letters');
        assert.deepEqual(seen, [
          'waits#1',
          'waits#2',
          'waits#3',
          'waits#4',
          'waits#5',
          'waits#6',
          'waits#7',
          'next#1',
        ]);
        assert.equal(stallsSeen.length, 6);
        for (const error of stallsSeen)
          assert.match(error, /ECONNREFUSED/, 'stalled() names the backend failure');
        assert.equal(
          held.subscription.stalled(),
          undefined,
          'the stall clears once the message went through',
        );
      },
    );

    test(
      'a message the backend refuses by itself still dead-letters after maxAttempts',
      TIMEOUT,
      async () => {
        const topic = await newTopic('refused', 1);
        await bus.publish(topic, [
          { key: 'k', value: bytes('bad') },
          { key: 'k', value: bytes('good') },
        ]);
        const seen: string[] = [];
        const reported: string[] = [];
        await consume(
          uniqueName('g'),
          topic,
          async (m) => {
            seen.push(`${text(m)}#${m.attempt}`);
            if (text(m) === 'bad') await queryBadContent();
          },
          { maxAttempts: 2, onDeadLetter: (m, error) => reported.push(`${text(m)}: ${error}`) },
        );
        await eventually('the good message', () => seen.includes('good#1'));
        assert.deepEqual(seen, ['bad#1', 'bad#2', 'good#1']);
        assert.equal(reported.length, 1);
        assert.match(reported[0]!, /^bad: invalid input syntax for type integer/);
      },
    );

    test('after stop(), the group resumes at the first uncommitted message', TIMEOUT, async () => {
      const topic = await newTopic('resume', 1);
      const group = uniqueName('g');
      const sent = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
      await bus.publish(
        topic,
        sent.map((v) => ({ key: 'mailbox-1', value: bytes(v) })),
      );
      const handled: string[] = [];
      let blockedOnM3 = false;
      const first = await consume(
        group,
        topic,
        async (m) => {
          if (text(m) === 'm3') {
            blockedOnM3 = true;
            throw new Error('store is down');
          }
          handled.push(text(m));
        },
        { maxAttempts: 1_000 },
      );
      await eventually('m3 failing', () => blockedOnM3);
      await first.stop();
      assert.deepEqual(handled, ['m0', 'm1', 'm2']);

      const resumed: string[] = [];
      await consume(group, topic, async (m) => void resumed.push(text(m)));
      await eventually('m3..m5 again', () => resumed.length >= 3);
      assert.deepEqual(resumed, ['m3', 'm4', 'm5']);
    });

    test(
      'a batch handler gets what is ready together; a batch that throws goes message by message',
      TIMEOUT,
      async () => {
        const topic = await newTopic('batch', 1);
        const ready = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5'];
        await bus.publish(
          topic,
          ready.map((v) => ({ key: 'account-1', value: bytes(v) })),
        );
        const inBatches: string[] = [];
        const batchSizes: number[] = [];
        const alone: string[] = [];
        await consume(uniqueName('g'), topic, async (m) => void alone.push(text(m)), {
          batchHandler: async (messages) => {
            // All or nothing, as one transaction would be: nothing is recorded when it throws.
            if (messages.some((m) => text(m) === 'poison')) throw new Error('one bad event in the batch');
            batchSizes.push(messages.length);
            inBatches.push(...messages.map(text));
          },
        });
        await eventually('the six ready messages', () => inBatches.length >= 6);
        assert.deepEqual(inBatches, ready, 'in publish order, through the batch handler');
        assert.ok(
          Math.max(...batchSizes) > 1,
          `messages that were ready came together: ${batchSizes.join(',')}`,
        );

        const later = ['c0', 'poison', 'c2'];
        await bus.publish(
          topic,
          later.map((v) => ({ key: 'account-1', value: bytes(v) })),
        );
        await eventually('the three later ones', () => inBatches.length + alone.length >= 9);
        assert.ok(alone.includes('poison'), 'the batch with the bad message went one by one');
        assert.deepEqual(
          [...inBatches.slice(6), ...alone],
          later,
          'each later message handled once, in order',
        );
      },
    );
  });
}
