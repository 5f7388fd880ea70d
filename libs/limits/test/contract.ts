import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually } from '@correo/testkit';
import type { Limits } from '../src/port.js';

export interface LimitsContractSubject {
  /** Each call is another "pod": a separate instance on the same shared backend. */
  make(): Limits;
  /** An instance of the same kind whose backend cannot be reached; absent when the kind has no backend. */
  unreachable?: () => Limits;
}

/**
 * A window the test lets run out: long enough that the few calls a test makes inside it never
 * outlast it on a loaded machine; tests never sleep it out, they wait for the expiry itself
 * (untilExpired), so its length costs only the wait for the backend's own expiry.
 */
const SHORT_TTL = 1000;
const LONG_TTL = 60_000;

/** Polls until `gone` says the backend expired something; fails clearly if it never does. */
function untilExpired(what: string, gone: () => Promise<boolean>): Promise<void> {
  return eventually(what, gone, SHORT_TTL + 10_000, 25);
}

function keyName(what: string): string {
  return `test:${what}:${Date.now().toString(36)}:${randomBytes(4).toString('hex')}`;
}

export function limitsContract(name: string, subject: LimitsContractSubject): void {
  describe(`limits contract [${name}]`, () => {
    const opened: Limits[] = [];
    const pod = () => {
      const limits = subject.make();
      opened.push(limits);
      return limits;
    };
    after(async () => {
      await Promise.all(opened.map((l) => l.close()));
    });

    test('a counter adds up from zero, by 1 or by a given step', async () => {
      const limits = pod();
      const key = keyName('rcpt');
      assert.equal(await limits.get(key), 0);
      assert.equal(await limits.increment(key, LONG_TTL), 1);
      assert.equal(await limits.increment(key, LONG_TTL), 2);
      assert.equal(await limits.increment(key, LONG_TTL, 5), 7);
      assert.equal(await limits.get(key), 7);
    });

    test('a counter expires one window after its first increment', async () => {
      const limits = pod();
      const key = keyName('auth-fail');
      assert.equal(await limits.increment(key, SHORT_TTL), 1);
      // Later increments do not push the window out.
      assert.equal(await limits.increment(key, LONG_TTL), 2);
      await untilExpired('the first window to end', async () => (await limits.get(key)) === 0);
      assert.equal(await limits.increment(key, LONG_TTL), 1);
    });

    test('reset clears a counter and resetting a missing one is fine', async () => {
      const limits = pod();
      const key = keyName('conn');
      await limits.increment(key, LONG_TTL, 3);
      await limits.reset(key);
      assert.equal(await limits.get(key), 0);
      await limits.reset(key);
      assert.equal(await limits.increment(key, LONG_TTL), 1);
    });

    test('incrementBelow counts every counter only while all are below their ceilings', async () => {
      const limits = pod();
      const login = keyName('login');
      const ip = keyName('ip');
      const counters = [
        { key: login, ceiling: 3 },
        { key: ip, ceiling: 5 },
      ];
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL), { admitted: true, values: [1, 1] });
      await limits.increment(login, LONG_TTL);
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL), { admitted: true, values: [3, 2] });
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL), { admitted: false, index: 0 });
      assert.equal(await limits.get(ip), 2, 'a refused call changes nothing');
      await limits.increment(ip, LONG_TTL, 3);
      await limits.reset(login);
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL), { admitted: false, index: 1 });
      assert.equal(await limits.get(login), 0);
    });

    test('incrementBelow by an amount admits only what fits under every ceiling', async () => {
      const limits = pod();
      const account = keyName('outbound-account');
      const domain = keyName('outbound-domain');
      const counters = [
        { key: account, ceiling: 10 },
        { key: domain, ceiling: 6 },
      ];
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL, 4), {
        admitted: true,
        values: [4, 4],
      });
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL, 3), { admitted: false, index: 1 });
      assert.equal(await limits.get(account), 4, 'a refused call changes nothing');
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL, 2), {
        admitted: true,
        values: [6, 6],
      });
      assert.deepEqual(await limits.incrementBelow(counters, LONG_TTL, 1), { admitted: false, index: 1 });
    });

    test('incrementBelow is atomic: concurrent calls on two pods never pass the ceiling together', async () => {
      const a = pod();
      const b = pod();
      const key = keyName('auth-fail');
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).incrementBelow([{ key, ceiling: 7 }], LONG_TTL)),
      );
      assert.equal(results.filter((r) => r.admitted).length, 7);
      assert.equal(await a.get(key), 7);
    });

    test('incrementBelow starts a window like increment', async () => {
      const limits = pod();
      const key = keyName('auth-fail');
      await limits.incrementBelow([{ key, ceiling: 10 }], SHORT_TTL);
      assert.equal(await limits.get(key), 1);
      await untilExpired('the window to end', async () => (await limits.get(key)) === 0);
    });

    test('tryLock excludes a second holder until the first releases', async () => {
      const limits = pod();
      const key = keyName('pop3-maildrop');
      const first = await limits.tryLock(key, LONG_TTL);
      assert.ok(first);
      assert.equal(first.key, key);
      assert.equal(await limits.tryLock(key, LONG_TTL), null);
      await first.release();
      const second = await limits.tryLock(key, LONG_TTL);
      assert.ok(second);
      await second.release();
    });

    test('a lock and a counter with the same name do not interfere', async () => {
      const limits = pod();
      const key = keyName('shared-name');
      const lock = await limits.tryLock(key, LONG_TTL);
      assert.ok(lock);
      assert.equal(await limits.increment(key, LONG_TTL), 1);
      await limits.reset(key);
      assert.equal(await limits.tryLock(key, LONG_TTL), null);
      await lock.release();
    });

    test('an expired lock can be taken, and its old holder can neither release nor extend it', async () => {
      const limits = pod();
      const key = keyName('pop3-maildrop');
      const old = await limits.tryLock(key, SHORT_TTL);
      assert.ok(old);
      let taken: Awaited<ReturnType<Limits['tryLock']>> = null;
      await untilExpired('the lock to expire and be free', async () => {
        taken = await limits.tryLock(key, LONG_TTL);
        return taken !== null;
      });
      const current = taken!;
      await old.release();
      assert.equal(await limits.tryLock(key, LONG_TTL), null, 'the old holder released someone else’s lock');
      assert.equal(await old.extend(LONG_TTL), false);
      assert.equal(await current.extend(LONG_TTL), true);
      await current.release();
      const next = await limits.tryLock(key, LONG_TTL);
      assert.ok(next);
      await next.release();
    });

    test('extend keeps a lock past its first expiry', async () => {
      const limits = pod();
      const key = keyName('pop3-maildrop');
      const lock = await limits.tryLock(key, SHORT_TTL);
      assert.ok(lock);
      assert.equal(await lock.extend(LONG_TTL), true);
      // The clock: a lock of the same short ttl taken after this one and never extended. Once it
      // has expired, so would this one have without the extension.
      const control = keyName('control');
      assert.ok(await limits.tryLock(control, SHORT_TTL));
      await untilExpired('the control lock to expire', async () => {
        const free = await limits.tryLock(control, LONG_TTL);
        await free?.release();
        return free !== null;
      });
      assert.equal(await limits.tryLock(key, LONG_TTL), null);
      assert.equal(await lock.extend(LONG_TTL), true);
      await lock.release();
      assert.equal(await lock.extend(LONG_TTL), false, 'a released lock cannot be extended');
    });

    test('two pods share counters and locks', async () => {
      const a = pod();
      const b = pod();
      const counter = keyName('ip');
      assert.equal(await a.increment(counter, LONG_TTL), 1);
      assert.equal(await b.increment(counter, LONG_TTL), 2);
      assert.equal(await a.get(counter), 2);
      await b.reset(counter);
      assert.equal(await a.get(counter), 0);

      const key = keyName('pop3-maildrop');
      const held = await a.tryLock(key, LONG_TTL);
      assert.ok(held);
      assert.equal(await b.tryLock(key, LONG_TTL), null);
      await held.release();
      const taken = await b.tryLock(key, LONG_TTL);
      assert.ok(taken);
      assert.equal(await a.tryLock(key, LONG_TTL), null);
      await taken.release();
    });

    test('acquireLease admits holders up to the cap, then refuses without changing anything', async () => {
      const limits = pod();
      const ip = keyName('lease-ip');
      const user = keyName('lease-user');
      assert.deepEqual(await limits.acquireLease([{ key: ip, cap: 2 }], 'a', LONG_TTL), { admitted: true });
      assert.deepEqual(await limits.acquireLease([{ key: ip, cap: 2 }], 'a', LONG_TTL), { admitted: true });
      assert.equal(await limits.countLeases(ip), 1, 'a holder counts once');
      const userAndIp = [
        { key: user, cap: 5 },
        { key: ip, cap: 2 },
      ];
      assert.deepEqual(await limits.acquireLease(userAndIp, 'b', LONG_TTL), { admitted: true });
      assert.deepEqual(await limits.acquireLease(userAndIp, 'c', LONG_TTL), { admitted: false, index: 1 });
      assert.equal(await limits.countLeases(user), 1, 'a refused call changes nothing');
      await limits.releaseLeases([{ key: ip, holder: 'a' }]);
      assert.equal(await limits.countLeases(ip), 1);
      assert.deepEqual(await limits.acquireLease([{ key: ip, cap: 2 }], 'c', LONG_TTL), { admitted: true });
      await limits.releaseLeases([{ key: keyName('never-held'), holder: 'x' }]);
    });

    test('a lease that is not renewed expires and frees its slot; a renewed one stays', async () => {
      const limits = pod();
      const key = keyName('lease-ip');
      assert.deepEqual(await limits.acquireLease([{ key, cap: 2 }], 'dead-pod', SHORT_TTL), {
        admitted: true,
      });
      assert.deepEqual(await limits.acquireLease([{ key, cap: 2 }], 'live-pod', SHORT_TTL), {
        admitted: true,
      });
      await limits.renewLeases([{ key, holder: 'live-pod' }], LONG_TTL);
      await untilExpired('the unrenewed lease to expire', async () => (await limits.countLeases(key)) === 1);
      assert.deepEqual(await limits.acquireLease([{ key, cap: 2 }], 'new', LONG_TTL), { admitted: true });
      assert.deepEqual(await limits.acquireLease([{ key, cap: 2 }], 'one-too-many', LONG_TTL), {
        admitted: false,
        index: 0,
      });
    });

    test('renewLeases puts back a lease that was lost', async () => {
      const limits = pod();
      const key = keyName('lease-user');
      await limits.renewLeases([{ key, holder: 'survivor' }], LONG_TTL);
      assert.equal(await limits.countLeases(key), 1);
      assert.deepEqual(await limits.acquireLease([{ key, cap: 1 }], 'other', LONG_TTL), {
        admitted: false,
        index: 0,
      });
    });

    test('acquireLease is atomic: concurrent calls on two pods never pass the cap together', async () => {
      const a = pod();
      const b = pod();
      const key = keyName('lease-ip');
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).acquireLease([{ key, cap: 7 }], `holder-${i}`, LONG_TTL),
        ),
      );
      assert.equal(results.filter((r) => r.admitted).length, 7);
      assert.equal(await b.countLeases(key), 7);
    });

    test('firstSeen remembers the first time on every pod, until it expires or is forgotten', async () => {
      const a = pod();
      const b = pod();
      const key = keyName('greylist');
      assert.equal(await a.firstSeen(key, LONG_TTL), 0, 'new: just now');
      // The other pod sees the first time, not its own (which would be 0, "new"): an age above 0.
      let age = 0;
      await eventually(
        'the other pod to see an age',
        async () => (age = await b.firstSeen(key, SHORT_TTL)) > 0,
      );
      assert.ok((await a.firstSeen(key, LONG_TTL)) >= age, 'a later sighting keeps the first time');
      await a.forgetSeen(key);
      assert.equal(await b.firstSeen(key, SHORT_TTL), 0, 'forgotten: new again');
      // Expired: a sighting is new again (0), and starts a long window of its own.
      await untilExpired(
        'the short sighting to expire',
        async () => (await a.firstSeen(key, LONG_TTL)) === 0,
      );
      assert.equal(await a.get(key), 0, 'a counter of the same name is another thing');
    });

    test('ping succeeds against a reachable backend', async () => {
      await pod().ping();
    });

    if (subject.unreachable) {
      const unreachable = subject.unreachable;
      test('every call rejects quickly and clearly when the backend is unreachable', async () => {
        const dead = unreachable();
        try {
          await assert.rejects(dead.ping(), /not reachable/);
          await assert.rejects(dead.increment(keyName('x'), LONG_TTL), /not reachable/);
          await assert.rejects(dead.tryLock(keyName('x'), LONG_TTL), /not reachable/);
          await assert.rejects(
            dead.acquireLease([{ key: keyName('x'), cap: 1 }], 'h', LONG_TTL),
            /not reachable/,
          );
        } finally {
          await dead.close();
        }
      });
    }
  });
}
