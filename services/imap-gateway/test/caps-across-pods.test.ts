import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createLoginLimiter, LoginPolicy } from '@correo/auth';
import { connectionLeaseMetrics, createRedisLimits } from '@correo/limits';
import { encodeProxyHeader } from '@correo/line-server';
import { CounterWatch, eventually, LineClient, listenerPort, startServiceProcess } from '@correo/testkit';
import type { StackKind } from '@correo/testkit/stack';
import { imapMetrics } from '../src/metrics.js';
import { ImapTestStack } from './helpers/stack.js';

// Connection caps that hold across gateway pods (leases in the limits port): per client address at
// accept, per account and per account+address after login. Every test's clients come through a
// "balancer" (a PROXY v2 header from 127.0.0.1) with addresses of their own, so the sets of one test
// (and of other runs on the shared Redis) never meet another's. 127.0.0.0/8 keeps plaintext LOGIN allowed.

const balancer = { trustedProxies: ['127.0.0.0/8'] };

function newAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(2, 255)}`;
}

const opened: LineClient[] = [];
async function viaBalancer(port: number, client: string): Promise<LineClient> {
  const preface = encodeProxyHeader(2, { address: client, port: 50123 }, { address: '127.0.0.1', port: 143 });
  const connected = await LineClient.connect(port, { literals: true, preface });
  opened.push(connected);
  return connected;
}

/** A connection that got its greeting (OK) or its refusal (BYE [LIMIT], then closed). */
async function greeting(port: number, client: string): Promise<{ client: LineClient; line: string }> {
  const connected = await viaBalancer(port, client);
  return { client: connected, line: await connected.readLine() };
}

after(() => {
  for (const client of opened) client.destroy();
});

function capsAcrossPods(kind: StackKind): void {
  describe(`connection caps across two gateways sharing ${kind === 'distributed' ? 'Redis' : 'the in-process limits'}`, () => {
    let stack: ImapTestStack;

    before(async () => {
      stack = await ImapTestStack.create(kind);
    });
    after(() => stack.close());

    /** Two "pods": each with its own limits client over the stack's shared store. */
    async function twoGateways(overrides: Parameters<ImapTestStack['gateway']>[0]) {
      const config = { allowPlaintextAuthOnLoopback: true, ...overrides };
      return Promise.all([
        stack.gateway(config, { ...balancer, limits: stack.openLimits() }),
        stack.gateway(config, { ...balancer, limits: stack.openLimits() }),
      ]);
    }

    test('the (cap+1)th connection from one address is refused, whichever gateway it reaches', async () => {
      const [a, b] = await twoGateways({ maxConnectionsPerIp: 2 });
      const refused = await CounterWatch.start(imapMetrics.connectionsRefused, 'reason', {
        listener: 'imap',
      });
      const client = newAddress();
      assert.match((await greeting(a.ports.imap, client)).line, /^\* OK /);
      assert.match((await greeting(b.ports.imap, client)).line, /^\* OK /);
      for (const port of [a.ports.imap, b.ports.imap]) {
        const third = await greeting(port, client);
        assert.equal(third.line, '* BYE [LIMIT] Too many connections from your address');
        await third.client.closed();
      }
      assert.match(
        (await greeting(b.ports.imap, newAddress())).line,
        /^\* OK /,
        'another address has its own cap',
      );
      assert.deepEqual(await refused.added(), { 'per-ip': 2 });
    });

    test('a closed connection frees its slot on the other gateway', async () => {
      const [a, b] = await twoGateways({ maxConnectionsPerIp: 1 });
      const client = newAddress();
      const first = await greeting(a.ports.imap, client);
      assert.match(first.line, /^\* OK /);
      assert.match((await greeting(b.ports.imap, client)).line, /^\* BYE \[LIMIT\]/);
      assert.match((await first.client.command('LOGOUT')).status, /^OK/);
      await eventually('the slot to be free on the other gateway', async () => {
        const next = await greeting(b.ports.imap, client);
        next.client.destroy();
        return next.line.startsWith('* OK ');
      });
    });

    test('logged-in sessions per account and per account+address are capped across both gateways', async () => {
      const [a, b] = await twoGateways({ maxConnectionsPerUser: 2, maxConnectionsPerUserIp: 1 });
      const { address } = await stack.account(`capped-${kind}`);
      const login = `LOGIN ${address} "${stack.password}"`;
      const refused = await CounterWatch.start(imapMetrics.connectionsRefused, 'reason', {
        listener: 'imap',
      });
      const home = newAddress();
      const first = await greeting(a.ports.imap, home);
      assert.match((await first.client.command(login)).status, /^OK/);
      // The same account from the same address on the other gateway: per account+address.
      const twin = await greeting(b.ports.imap, home);
      const twinLogin = await twin.client.command(login);
      assert.match(twinLogin.status, /^NO \[LIMIT\] Too many connections for this account/);
      assert.match((await twin.client.command('NOOP')).status, /^OK/, 'refused, the session goes on');
      assert.match((await twin.client.command('SELECT INBOX')).status, /^BAD/, 'still logged out');
      // From another address: allowed, and then the account's total is reached.
      const office = await greeting(b.ports.imap, newAddress());
      assert.match((await office.client.command(login)).status, /^OK/);
      const third = await greeting(a.ports.imap, newAddress());
      assert.match((await third.client.command(login)).status, /^NO \[LIMIT\]/);
      assert.deepEqual(await refused.added(), { 'per-user-ip': 1, 'per-user': 1 });
      // LOGOUT ends the first session: its slots go, the twin may log in.
      await first.client.command('LOGOUT');
      await eventually('the account slot to be free', async () => {
        return /^OK/.test((await twin.client.command(login)).status);
      });
    });
  });
}

capsAcrossPods('embedded');
capsAcrossPods('distributed');

describe('a killed gateway and an unreachable Redis', () => {
  let stack: ImapTestStack;

  before(async () => {
    stack = await ImapTestStack.create('distributed', { blobsAtRoot: true });
  });
  after(() => stack.close());

  test('the leases of a SIGKILLed gateway process expire and free the slot on the live gateway', async () => {
    const killed = await startServiceProcess(fileURLToPath(new URL('../src/main.ts', import.meta.url)), {
      ...stack.env(),
      IMAP_PORT: '0',
      IMAPS_PORT: '0',
      IMAP_MAX_CONNECTIONS_PER_IP: '1',
      PROXY_TRUSTED_CIDRS: '127.0.0.0/8',
      CONNECTION_LEASE_TTL_MS: '1000',
      CORREO_DATA_DIR: stack.dir,
    });
    stack.defer(() => killed.process.stop('SIGKILL'));
    const live = await stack.gateway(
      { maxConnectionsPerIp: 1 },
      // The stack's limits: the same Redis and key prefix as the process (stack.env()).
      { ...balancer, limits: stack.openLimits(), leaseTiming: { ttlMs: 1000, timeoutMs: 2000 } },
    );
    const client = newAddress();
    const onKilled = await greeting(listenerPort(killed.listeners['IMAP (STARTTLS)']!), client);
    assert.match(onKilled.line, /^\* OK /);
    assert.match((await greeting(live.ports.imap, client)).line, /^\* BYE \[LIMIT\]/);
    // No goodbye, no release: only the lease's expiry can free the slot.
    await killed.process.stop('SIGKILL');
    await eventually('the killed gateway’s lease to expire', async () => {
      const next = await greeting(live.ports.imap, client);
      next.client.destroy();
      return next.line.startsWith('* OK ');
    });
  });

  test('Redis unreachable: admitted on the gateway’s own caps (fail-open), counted as unchecked', async () => {
    const unchecked = await CounterWatch.start(connectionLeaseMetrics.unchecked, 'protocol');
    const unreachable = createRedisLimits({ url: 'redis://127.0.0.1:1', timeoutMs: 500 });
    stack.defer(() => unreachable.close());
    const gateway = await stack.gateway(
      { maxConnectionsPerIp: 1, maxConnectionsPerUserIp: 1, allowPlaintextAuthOnLoopback: true },
      {
        ...balancer,
        limits: unreachable,
        // The login limiter fails closed on its own (docs/security.md): keep it on the reachable store.
        loginPolicy: new LoginPolicy(createLoginLimiter(stack.limits)),
      },
    );
    const { address } = await stack.account('redis-down');
    const client = newAddress();
    const first = await greeting(gateway.ports.imap, client);
    assert.match(first.line, /^\* OK /);
    assert.match((await first.client.command(`LOGIN ${address} "${stack.password}"`)).status, /^OK/);
    // The per-process cap still holds without Redis.
    assert.match((await greeting(gateway.ports.imap, client)).line, /^\* BYE \[LIMIT\]/);
    assert.deepEqual(await unchecked.added(), { imap: 2 });
  });
});
