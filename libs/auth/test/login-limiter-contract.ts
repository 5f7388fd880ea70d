import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Limits } from '@correo/limits';
import { createLoginLimiter, LoginPolicy, type LoginLimiter } from '../src/index.js';

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

/** An attempt that fails: what the login policy does with a wrong password. */
async function fail(l: LoginLimiter, login: string, ip: string) {
  return l.admit(login, ip);
}

/** The policy over a limiter, without its waits (login-policy.test.ts covers those). */
function policy(l: LoginLimiter): LoginPolicy {
  return new LoginPolicy(l, { sleep: async () => {} });
}

function attempt(login: string, password: string) {
  return { protocol: 'imap' as const, login, password, ip: fresh('ip') };
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

    test('free failures pass without delay, then the delay doubles up to its ceiling, then it locks', async () => {
      const l = limiter();
      const login = `account:${fresh('user')}`;
      const ip = fresh('ip');
      const delays: number[] = [];
      for (let i = 0; i < 7; i++) {
        const verdict = await fail(l, login, ip);
        delays.push(verdict.kind === 'allowed' ? verdict.delayMs : -1);
      }
      // Two free failures: the third attempt waits the first step, then it doubles to the cap.
      assert.deepEqual(delays, [0, 0, 100, 200, 250, -1, -1]);
      assert.deepEqual(await l.admit(login, fresh('ip')), { kind: 'locked', by: 'login', delayMs: 250 });
    });

    test('logins are counted separately from each other', async () => {
      const l = limiter();
      const login = `account:${fresh('user')}`;
      for (let i = 0; i < 5; i++) await fail(l, login, fresh('ip'));
      assert.deepEqual(await l.admit(login, fresh('ip')), { kind: 'locked', by: 'login', delayMs: 250 });
      assert.deepEqual(await l.admit(`account:${fresh('other')}`, fresh('ip')), {
        kind: 'allowed',
        delayMs: 0,
      });
    });

    test('one IP guessing many logins is locked by the IP counter', async () => {
      const l = limiter();
      const ip = fresh('ip');
      for (let i = 0; i < 8; i++) await fail(l, `account:${fresh('victim')}`, ip);
      assert.deepEqual(await l.admit(`account:${fresh('next')}`, ip), {
        kind: 'locked',
        by: 'ip',
        delayMs: 0,
      });
      assert.deepEqual(await l.admit(`account:${fresh('next')}`, fresh('ip')), {
        kind: 'allowed',
        delayMs: 0,
      });
    });

    test('a success clears the login counter and its own attempt, not the earlier IP failures', async () => {
      const l = limiter();
      const login = `account:${fresh('user')}`;
      const ip = fresh('ip');
      for (let i = 0; i < 4; i++) await fail(l, login, fresh('ip'));
      assert.deepEqual(await l.admit(login, ip), { kind: 'allowed', delayMs: 250 });
      await l.recordSuccess(login, ip);
      assert.deepEqual(await l.admit(login, ip), { kind: 'allowed', delayMs: 0 });
      await l.recordSuccess(login, ip);
      // Successes never fill the IP counter: a NAT full of users logging in all day is not locked.
      for (let i = 0; i < 20; i++) {
        assert.equal((await l.admit(login, ip)).kind, 'allowed');
        await l.recordSuccess(login, ip);
      }
      for (let i = 0; i < 8; i++) await fail(l, `account:${fresh('other')}`, ip);
      // Locked by the network: the delay is still the one this login's own failures would get.
      assert.deepEqual(await l.admit(login, ip), { kind: 'locked', by: 'ip', delayMs: 0 });
    });

    test('two limiter instances (two pods) share the counters', async () => {
      const a = limiter();
      const b = limiter();
      const login = `account:${fresh('user')}`;
      for (let i = 0; i < 5; i++) await fail(i % 2 ? a : b, login, fresh('ip'));
      assert.deepEqual(await a.admit(login, fresh('ip')), { kind: 'locked', by: 'login', delayMs: 250 });
      assert.deepEqual(await b.admit(login, fresh('ip')), { kind: 'locked', by: 'login', delayMs: 250 });
    });

    test('concurrent wrong passwords get no more verifications than the lockout allows', async () => {
      const l = limiter();
      const login = `${fresh('user')}@example.test`;
      let verifications = 0;
      const accounts = {
        loginKey: async (text: string) => `address:${text}`,
        authenticate: async () => {
          verifications++;
          return null;
        },
      };
      // 30 guesses in flight at once, as 30 connections would send them: only 5 may reach the password check.
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, () => policy(l).attempt(accounts, attempt(login, 'guess'))),
      );
      assert.equal(verifications, options.loginLockAfter);
      assert.ok(outcomes.every((o) => o.kind === 'rejected'));
    });

    test('the login policy charges the key the directory resolves, not the text the client typed', async () => {
      const l = limiter();
      const account = `account:${fresh('id')}`;
      const accounts = {
        loginKey: async () => account,
        authenticate: async (_login: string, password: string) =>
          password === 'right' ? { id: account } : null,
      };
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(await policy(l).attempt(accounts, attempt(`spelling-${i}`, 'wrong')), {
          kind: 'rejected',
        });
      }
      assert.deepEqual(await policy(l).attempt(accounts, attempt('yet another spelling', 'right')), {
        kind: 'rejected',
      });
      assert.deepEqual(await l.admit(account, fresh('ip')), { kind: 'locked', by: 'login', delayMs: 250 });
    });

    test('IPv6 clients are counted per /64, IPv4-mapped clients as their IPv4 address', async () => {
      const l = limiter();
      const prefix = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
      // The next /64 up: another subscriber.
      const neighbour = prefix.replace(/[0-9a-f]+$/, (last) => (parseInt(last, 16) ^ 1).toString(16));
      // One host walking through the addresses of its own /64 is still one client.
      for (let i = 1; i <= options.ipLockAfter; i++) {
        await fail(l, `account:${fresh('victim')}`, `${prefix}::${i.toString(16)}`);
      }
      assert.deepEqual(await l.admit(`account:${fresh('next')}`, `${prefix}:ffff:ffff:ffff:fffe`), {
        kind: 'locked',
        by: 'ip',
        delayMs: 0,
      });
      assert.deepEqual(await l.admit(`account:${fresh('next')}`, `${neighbour}::1`), {
        kind: 'allowed',
        delayMs: 0,
      });
      const v4 = `192.0.2.${1 + (randomBytes(1)[0]! % 200)}`;
      for (let i = 0; i < options.ipLockAfter; i++) await fail(l, `account:${fresh('victim')}`, v4);
      assert.deepEqual(await l.admit(`account:${fresh('next')}`, `::ffff:${v4}`), {
        kind: 'locked',
        by: 'ip',
        delayMs: 0,
      });
    });
  });
}
