import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Limits } from '@correo/limits';
import { createLoginLimiter } from '../src/index.js';

const options = {
  freeFailures: 2,
  loginLockAfter: 5,
  ipLockAfter: 8,
  baseDelayMs: 100,
  maxDelayMs: 250,
  windowMs: 60_000,
};

function fresh(what: string): string {
  return `${what}-${randomBytes(4).toString('hex')}`;
}

/** The same expectations over every Limits adapter: the limiter must behave alike on one pod or many. */
export function loginLimiterContract(name: string, open: () => Limits): void {
  describe(`login limiter [${name}]`, () => {
    const opened: Limits[] = [];
    const limiter = () => {
      const limits = open();
      opened.push(limits);
      return createLoginLimiter(limits, options);
    };
    after(async () => {
      await Promise.all(opened.map((l) => l.close()));
    });

    test('free failures pass without delay, then the delay doubles up to its ceiling', async () => {
      const l = limiter();
      const login = `${fresh('user')}@example.test`;
      const ip = fresh('ip');
      assert.deepEqual(await l.checkAllowed(login, ip), { kind: 'allowed', delayMs: 0 });
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        await l.recordFailure(login, ip);
        const verdict = await l.checkAllowed(login, ip);
        delays.push(verdict.kind === 'allowed' ? verdict.delayMs : -1);
      }
      // Two free failures: the second already reaches the first delay step, then it doubles to the cap.
      assert.deepEqual(delays, [0, 100, 200, 250, -1]);
      assert.deepEqual(await l.checkAllowed(login, ip), { kind: 'locked', by: 'login' });
    });

    test('logins are counted case-insensitively and separately from each other', async () => {
      const l = limiter();
      const user = fresh('user');
      const ip = fresh('ip');
      for (let i = 0; i < 5; i++) await l.recordFailure(`${user.toUpperCase()}@Example.TEST`, ip);
      assert.deepEqual(await l.checkAllowed(`${user}@example.test`, fresh('ip')), {
        kind: 'locked',
        by: 'login',
      });
      assert.deepEqual(await l.checkAllowed(`${fresh('other')}@example.test`, fresh('ip')), {
        kind: 'allowed',
        delayMs: 0,
      });
    });

    test('one IP guessing many logins is locked by the IP counter', async () => {
      const l = limiter();
      const ip = fresh('ip');
      for (let i = 0; i < 8; i++) await l.recordFailure(`${fresh('victim')}@example.test`, ip);
      assert.deepEqual(await l.checkAllowed(`${fresh('next')}@example.test`, ip), {
        kind: 'locked',
        by: 'ip',
      });
      assert.deepEqual(await l.checkAllowed(`${fresh('next')}@example.test`, fresh('ip')), {
        kind: 'allowed',
        delayMs: 0,
      });
    });

    test('a success clears the login counter but not the IP counter', async () => {
      const l = limiter();
      const login = `${fresh('user')}@example.test`;
      const ip = fresh('ip');
      for (let i = 0; i < 4; i++) await l.recordFailure(login, ip);
      assert.deepEqual(await l.checkAllowed(login, fresh('ip')), { kind: 'allowed', delayMs: 250 });
      await l.recordSuccess(login, ip);
      assert.deepEqual(await l.checkAllowed(login, fresh('ip')), { kind: 'allowed', delayMs: 0 });
      for (let i = 0; i < 4; i++) await l.recordFailure(`${fresh('other')}@example.test`, ip);
      assert.deepEqual(await l.checkAllowed(login, ip), { kind: 'locked', by: 'ip' });
    });

    test('two limiter instances (two pods) share the counters', async () => {
      const a = limiter();
      const b = limiter();
      const login = `${fresh('user')}@example.test`;
      for (let i = 0; i < 5; i++) await (i % 2 ? a : b).recordFailure(login, fresh('ip'));
      assert.deepEqual(await a.checkAllowed(login, fresh('ip')), { kind: 'locked', by: 'login' });
      assert.deepEqual(await b.checkAllowed(login, fresh('ip')), { kind: 'locked', by: 'login' });
    });
  });
}
