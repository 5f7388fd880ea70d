import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, LineClient, uniqueName } from '@correo/testkit';
import { STACK_KINDS } from '@correo/testkit/stack';
import type { Pop3Gateway } from '../src/index.js';
import { loginWhenFree } from './helpers/login.js';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';

async function attemptLogin(port: number, address: string, password: string): Promise<string> {
  const client = await LineClient.connect(port);
  try {
    await client.readLine();
    await client.ask(`USER ${address}`);
    return await client.ask(`PASS ${password}`);
  } finally {
    client.destroy();
  }
}

/** The lock ttl of the two pods: short, so the test shows the session's renewals keep the lock. */
const LOCK_TTL_MS = 3000;

for (const kind of STACK_KINDS) {
  describe(`one session per maildrop across two gateways (${kind === 'embedded' ? 'in-process' : 'Redis'} lock)`, () => {
    let stack: Pop3TestStack;
    let pods: [Pop3Gateway, Pop3Gateway];

    before(async () => {
      stack = await Pop3TestStack.create(kind);
      // Two pods: two clients of one shared lock state. A short lock ttl: the session must keep
      // it alive by renewing, not by a long expiry.
      pods = [
        await stack.startGateway({ lockTtlMs: LOCK_TTL_MS }, stack.openLimits()),
        await stack.startGateway({ lockTtlMs: LOCK_TTL_MS }, stack.openLimits()),
      ];
    });
    after(async () => {
      await stack.close();
    });

    test('a login on the other pod gets [IN-USE] for as long as the session lives, then succeeds', async () => {
      const { accountId, address } = await stack.account('shared');
      await stack.deliver(accountId, address, rawMessage('locked'));
      const holder = await loginWhenFree(pods[0].ports.pop3, address, stack.password);
      try {
        assert.match(await attemptLogin(pods[1].ports.pop3, address, stack.password), /^-ERR \[IN-USE\] /);
        // The clock: a lock of the same ttl taken after the session's and never renewed. Once it has
        // expired so would the session's have: only the renewals can have kept it.
        const control = uniqueName('control');
        assert.ok(await stack.limits.tryLock(control, LOCK_TTL_MS));
        await eventually('the unrenewed control lock to expire', async () => {
          const free = await stack.limits.tryLock(control, LOCK_TTL_MS);
          await free?.release();
          return free !== null;
        });
        assert.match(await attemptLogin(pods[1].ports.pop3, address, stack.password), /^-ERR \[IN-USE\] /);
        assert.match(await holder.ask('STAT'), /^\+OK 1 /);
        assert.match(await holder.ask('QUIT'), /^\+OK/);
        await holder.closed();
      } finally {
        holder.destroy();
      }
      const next = await LineClient.connect(pods[1].ports.pop3);
      try {
        await next.readLine();
        await next.ask(`USER ${address}`);
        assert.match(await next.ask(`PASS ${stack.password}`), /^\+OK Logged in, 1 messages/);
      } finally {
        next.destroy();
      }
    });

    test('a dropped connection frees the maildrop for the other pod', async () => {
      // A lock that outlives the test by far: only the gateway's release on the drop can let the
      // other pod in (with a short ttl the expiry alone would, and the test could not fail).
      const longLock = { lockTtlMs: 10 * 60_000 };
      const [a, b] = [
        await stack.startGateway(longLock, stack.openLimits()),
        await stack.startGateway(longLock, stack.openLimits()),
      ];
      const { address } = await stack.account('dropped');
      const holder = await loginWhenFree(a.ports.pop3, address, stack.password);
      assert.match(await attemptLogin(b.ports.pop3, address, stack.password), /^-ERR \[IN-USE\] /);
      holder.destroy();
      const other = await loginWhenFree(b.ports.pop3, address, stack.password);
      assert.match(await other.ask('NOOP'), /^\+OK/);
      other.destroy();
    });
  });
}
