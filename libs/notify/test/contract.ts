import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Notifier, Unsubscribe } from '../src/port.js';

export interface NotifyContractSubject {
  /** Each call is another "pod": a separate notifier on the same shared backend. */
  make(): Notifier;
  /** A notifier of the same kind whose backend cannot be reached; absent when the kind has no backend. */
  unreachable?: () => Notifier;
}

function channelName(): string {
  return `test.mailbox.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;
}

/** Collects payloads and lets a test wait for a given one, with a deadline so nothing hangs. */
function inbox() {
  const seen: string[] = [];
  const waiters: Array<{ payload: string; resolve: () => void }> = [];
  return {
    seen,
    listener(payload: string) {
      seen.push(payload);
      for (const w of waiters.filter((w) => w.payload === payload)) w.resolve();
    },
    waitFor(payload: string, deadlineMs = 5000): Promise<void> {
      if (seen.includes(payload)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no notification ${payload}`)), deadlineMs);
        waiters.push({
          payload,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

export function notifyContract(name: string, subject: NotifyContractSubject): void {
  describe(`notify contract [${name}]`, () => {
    const opened: Notifier[] = [];
    const pod = () => {
      const n = subject.make();
      opened.push(n);
      return n;
    };
    after(async () => {
      await Promise.all(opened.map((n) => n.close()));
    });

    test('a subscriber sees what is published on its channel, in order, and nothing else', async () => {
      const notifier = pod();
      const channel = channelName();
      const other = channelName();
      const box = inbox();
      await notifier.subscribe(channel, box.listener);
      await notifier.publish(other, 'not for you');
      await notifier.publish(channel, 'EXISTS 1');
      await notifier.publish(channel, 'EXISTS 2');
      await box.waitFor('EXISTS 2');
      assert.deepEqual(box.seen, ['EXISTS 1', 'EXISTS 2']);
    });

    test('two pods see each other’s publishes', async () => {
      const a = pod();
      const b = pod();
      const channel = channelName();
      const boxA = inbox();
      const boxB = inbox();
      await a.subscribe(channel, boxA.listener);
      await b.subscribe(channel, boxB.listener);
      await a.publish(channel, 'from a');
      await b.publish(channel, 'from b');
      await Promise.all([boxA.waitFor('from b'), boxB.waitFor('from a')]);
      await Promise.all([boxA.waitFor('from a'), boxB.waitFor('from b')]);
      assert.deepEqual(boxA.seen, ['from a', 'from b']);
      assert.deepEqual(boxB.seen, ['from a', 'from b']);
    });

    test('unsubscribe stops delivery to that listener only', async () => {
      const notifier = pod();
      const channel = channelName();
      const leaving = inbox();
      const staying = inbox();
      const unsubscribe = await notifier.subscribe(channel, leaving.listener);
      await notifier.subscribe(channel, staying.listener);
      await notifier.publish(channel, 'one');
      await leaving.waitFor('one');
      await unsubscribe();
      await unsubscribe();
      await notifier.publish(channel, 'two');
      // 'staying' receiving 'two' proves delivery happened; 'leaving' must not have seen it.
      await staying.waitFor('two');
      assert.deepEqual(leaving.seen, ['one']);
      assert.deepEqual(staying.seen, ['one', 'two']);
    });

    test('the last unsubscribe on a channel ends its delivery and a resubscribe works', async () => {
      const notifier = pod();
      const publisher = pod();
      const channel = channelName();
      const marker = channelName();
      const first = inbox();
      const markers = inbox();
      const unsubscribe = await notifier.subscribe(channel, first.listener);
      await notifier.subscribe(marker, markers.listener);
      await unsubscribe();
      await publisher.publish(channel, 'lost');
      await publisher.publish(marker, 'after');
      // Same publisher, same receiving connection: the marker arriving means 'lost' would have too.
      await markers.waitFor('after');
      assert.deepEqual(first.seen, []);
      const again = inbox();
      await notifier.subscribe(channel, again.listener);
      await publisher.publish(channel, 'back');
      await again.waitFor('back');
      assert.deepEqual(again.seen, ['back']);
    });

    test('a listener that throws does not stop the others', async () => {
      const notifier = pod();
      const channel = channelName();
      const box = inbox();
      await notifier.subscribe(channel, () => {
        throw new Error('broken IDLE session');
      });
      await notifier.subscribe(channel, box.listener);
      await notifier.publish(channel, 'still delivered');
      await box.waitFor('still delivered');
      assert.deepEqual(box.seen, ['still delivered']);
    });

    test('subscribes that arrive one after another while a new pod connects all take', async () => {
      // A gateway pod's first logins each subscribe to their account's channel, one per turn of the
      // event loop, while the notifier is still opening its connection: some arrive during its
      // handshake. Every one must take (a refused one was an IMAP LOGIN answered NO [SERVERBUG]).
      // Nor may the waiting pile listeners up on the connection (an SRE reads that warning as a leak).
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(warning.name);
      process.on('warning', onWarning);
      const notifier = pod();
      const box = inbox();
      const channels: string[] = [];
      const subscribes: Promise<Unsubscribe>[] = [];
      let firstTook = false;
      for (let i = 0; i < 300 && !firstTook; i++) {
        const channel = channelName();
        channels.push(channel);
        const subscribe = notifier.subscribe(channel, box.listener);
        if (i === 0) void subscribe.then(() => (firstTook = true)).catch(() => {});
        subscribes.push(subscribe);
        await nextTurn();
      }
      const refused = (await Promise.allSettled(subscribes)).flatMap((result) =>
        result.status === 'rejected' ? [String(result.reason)] : [],
      );
      assert.deepEqual(refused, [], `${refused.length} of ${subscribes.length} subscribes refused`);
      process.off('warning', onWarning);
      assert.ok(!warnings.includes('MaxListenersExceededWarning'), warnings.join(', '));
      const publisher = pod();
      for (const channel of channels) await publisher.publish(channel, channel);
      for (const channel of channels) await box.waitFor(channel);
    });

    test('ping succeeds against a reachable backend', async () => {
      await pod().ping();
    });

    if (subject.unreachable) {
      const unreachable = subject.unreachable;
      test('ping, publish and subscribe reject quickly and clearly when the backend is unreachable', async () => {
        const dead = unreachable();
        try {
          await assert.rejects(dead.ping(), /not reachable/);
          await assert.rejects(dead.publish(channelName(), 'x'), /not reachable/);
          await assert.rejects(
            dead.subscribe(channelName(), () => {}),
            /not reachable/,
          );
        } finally {
          await dead.close();
        }
      });
    }
  });
}
