import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeProxyHeader } from '@correo/line-server';
import { LineClient } from '@correo/testkit';
import { ImapTestStack } from './helpers/stack.js';

const listener = { address: '127.0.0.1', port: 143 };

/** A client behind a load balancer: the balancer's connection opens with a PROXY v2 header. */
function viaBalancer(port: number, client: string): Promise<LineClient> {
  const preface = encodeProxyHeader(2, { address: client, port: 50123 }, listener);
  return LineClient.connect(port, { literals: true, preface });
}

describe('IMAP behind a load balancer (PROXY protocol) and on shutdown (embedded)', () => {
  let stack: ImapTestStack;

  before(async () => {
    stack = await ImapTestStack.create('embedded');
  });
  after(() => stack.close());

  test('a trusted balancer: caps per IP and the loopback allowance see the client behind it', async () => {
    const gateway = await stack.gateway(
      { maxConnectionsPerIp: 1, allowPlaintextAuthOnLoopback: true },
      { trustedProxies: ['127.0.0.0/8'] },
    );
    const { address } = await stack.account('behind-lb');
    const outsider = await viaBalancer(gateway.ports.imap, '203.0.113.7');
    const twin = await viaBalancer(gateway.ports.imap, '203.0.113.7');
    const neighbour = await viaBalancer(gateway.ports.imap, '203.0.113.8');
    try {
      // The peer is 127.0.0.1, but the session sees 203.0.113.7: no plaintext login from there.
      assert.match(await outsider.readLine(), /^\* OK \[CAPABILITY [^\]]*LOGINDISABLED/);
      const refused = await outsider.command(`LOGIN ${address} "${stack.password}"`);
      assert.match(refused.status, /^NO \[PRIVACYREQUIRED\]/);
      assert.equal(await twin.readLine(), '* BYE [LIMIT] Too many connections from your address');
      await twin.closed();
      assert.match(
        await neighbour.readLine(),
        /^\* OK /,
        'another client behind the balancer has its own cap',
      );
    } finally {
      for (const client of [outsider, twin, neighbour]) client.destroy();
    }
    const local = await viaBalancer(gateway.ports.imap, '127.0.0.2');
    try {
      await local.readLine();
      assert.match((await local.command(`LOGIN ${address} "${stack.password}"`)).status, /^OK/);
    } finally {
      local.destroy();
    }
  });

  test('a PROXY header from a peer not trusted to send one is refused and the connection closed', async () => {
    const gateway = await stack.gateway({}, { trustedProxies: ['10.0.0.0/8'] });
    const spoofer = await viaBalancer(gateway.ports.imap, '203.0.113.9');
    try {
      assert.match(await spoofer.readLine(), /^\* OK /);
      assert.equal(await spoofer.readLine(), '* BYE PROXY header not accepted from your address');
      await spoofer.closed();
    } finally {
      spoofer.destroy();
    }
  });

  test('shutdown: an IDLE session is told BYE and closed, the listener stops accepting', async () => {
    const gateway = await stack.gateway();
    const { address } = await stack.account('drained');
    const client = await LineClient.imapLogin(gateway.ports.imap, address, stack.password);
    try {
      await client.command('SELECT INBOX');
      client.write(`${client.allocateTag()} IDLE\r\n`);
      assert.match(await client.readLine(), /^\+ /);
      const closing = gateway.close();
      assert.equal(await client.readLine(), '* BYE Server shutting down');
      await client.closed();
      await closing;
      await assert.rejects(LineClient.connect(gateway.ports.imap), /ECONNREFUSED/);
    } finally {
      client.destroy();
    }
  });
});
