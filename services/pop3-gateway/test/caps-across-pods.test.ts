import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeProxyHeader } from '@correo/line-server';
import { eventually, LineClient } from '@correo/testkit';
import { Pop3TestStack } from './helpers/stack.js';

// POP3's per-address cap through the one connection layer's leases: two gateway "pods" over one Redis
// (the stack's key prefix), each with its own limits client. The client comes through a balancer so
// that its address is this test's own.
describe('POP3: connections per address across two gateways sharing Redis', () => {
  let stack: Pop3TestStack;
  const clients: LineClient[] = [];

  before(async () => {
    stack = await Pop3TestStack.create('distributed');
  });
  after(async () => {
    for (const client of clients) client.destroy();
    await stack.close();
  });

  async function open(port: number, address: string): Promise<{ client: LineClient; greeting: string }> {
    const preface = encodeProxyHeader(2, { address, port: 50123 }, { address: '127.0.0.1', port: 110 });
    const client = await LineClient.connect(port, { preface });
    clients.push(client);
    return { client, greeting: await client.readLine() };
  }

  test('the (cap+1)th connection is refused with -ERR [SYS/TEMP] on either gateway; QUIT frees it', async () => {
    const pod = () =>
      stack.startGateway({ maxConnectionsPerIp: 2 }, stack.openLimits(), { trustedProxies: ['127.0.0.0/8'] });
    const [a, b] = [await pod(), await pod()];
    const address = '198.51.100.80';
    const first = await open(a.ports.pop3, address);
    assert.match(first.greeting, /^\+OK/);
    assert.match((await open(b.ports.pop3, address)).greeting, /^\+OK/);
    for (const gateway of [a, b]) {
      const refused = await open(gateway.ports.pop3, address);
      assert.equal(refused.greeting, '-ERR [SYS/TEMP] Too many connections from your address');
      await refused.client.closed();
    }
    assert.match(await first.client.ask('QUIT'), /^\+OK/);
    await eventually('the slot to be free on the other gateway', async () => {
      const next = await open(b.ports.pop3, address);
      next.client.destroy();
      return next.greeting.startsWith('+OK');
    });
  });
});
