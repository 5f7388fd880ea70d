import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeProxyHeader } from '@correo/line-server';
import { LineClient } from '@correo/testkit';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';

/** A client behind a load balancer: the balancer's connection opens with a PROXY v2 header. */
function viaBalancer(port: number, client: string): Promise<LineClient> {
  const preface = encodeProxyHeader(2, { address: client, port: 50110 }, { address: '127.0.0.1', port: 110 });
  return LineClient.connect(port, { preface });
}

describe('POP3 behind a load balancer (PROXY protocol) and on shutdown (embedded)', () => {
  let stack: Pop3TestStack;

  before(async () => {
    stack = await Pop3TestStack.create('embedded');
  });
  after(() => stack.close());

  test('a trusted balancer: caps per IP and the loopback allowance see the client behind it', async () => {
    const gateway = await stack.startGateway(
      { maxConnectionsPerIp: 1, allowPlaintextAuthOnLoopback: true },
      stack.limits,
      { trustedProxies: ['127.0.0.0/8'] },
    );
    const outsider = await viaBalancer(gateway.ports.pop3, '203.0.113.7');
    const twin = await viaBalancer(gateway.ports.pop3, '203.0.113.7');
    try {
      assert.match(await outsider.readLine(), /^\+OK /);
      // The peer is 127.0.0.1, but the session sees 203.0.113.7: no plaintext USER from there.
      assert.match(await outsider.ask('USER someone@example.test'), /^-ERR \[AUTH\] Plaintext/);
      assert.equal(await twin.readLine(), '-ERR [SYS/TEMP] Too many connections from your address');
      await twin.closed();
    } finally {
      outsider.destroy();
      twin.destroy();
    }
  });

  test('a PROXY header from a peer not trusted to send one is refused and the connection closed', async () => {
    const gateway = await stack.startGateway({}, stack.limits, { trustedProxies: ['10.0.0.0/8'] });
    const spoofer = await viaBalancer(gateway.ports.pop3, '203.0.113.9');
    try {
      assert.match(await spoofer.readLine(), /^\+OK /);
      assert.equal(await spoofer.readLine(), '-ERR PROXY header not accepted from your address');
      await spoofer.closed();
    } finally {
      spoofer.destroy();
    }
  });

  test('shutdown: a session is told -ERR [SYS/TEMP] and closed without UPDATE', async () => {
    const gateway = await stack.startGateway();
    const { accountId, address } = await stack.account('drained');
    await stack.deliver(accountId, address, rawMessage('kept'));
    const client = await LineClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      await client.ask(`USER ${address}`);
      assert.match(await client.ask(`PASS ${stack.password}`), /^\+OK/);
      assert.match(await client.ask('DELE 1'), /^\+OK/);
      const closing = gateway.close();
      assert.equal(await client.readLine(), '-ERR [SYS/TEMP] Server shutting down');
      await client.closed();
      await closing;
    } finally {
      client.destroy();
    }
    assert.equal((await stack.uids(accountId)).length, 1, 'nothing is deleted without QUIT');
  });
});
