import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeSaslPlain } from '@correo/pop3-proto';
import { LineClient } from '@correo/testkit';
import { Pop3TestStack } from './helpers/stack.js';

/** Strangers and idlers: per-IP and total caps, the login deadline, the login name cap (embedded). */
describe('POP3 pre-auth limits', () => {
  let stack: Pop3TestStack;

  before(async () => {
    stack = await Pop3TestStack.create('embedded');
  });
  after(() => stack.close());

  test('connections per address and in total are capped with -ERR [SYS/TEMP]', async () => {
    const perIp = await stack.startGateway({ maxConnectionsPerIp: 2 });
    const open = [await LineClient.connect(perIp.ports.pop3), await LineClient.connect(perIp.ports.pop3)];
    const extra = await LineClient.connect(perIp.ports.pop3s, { tls: { ca: stack.tls.cert } });
    try {
      for (const client of open) assert.match(await client.readLine(), /^\+OK/);
      // The cap covers both listeners.
      assert.equal(await extra.readLine(), '-ERR [SYS/TEMP] Too many connections from your address');
      await extra.closed();
    } finally {
      for (const client of [...open, extra]) client.destroy();
    }
    const total = await stack.startGateway({ maxConnections: 1 });
    const first = await LineClient.connect(total.ports.pop3);
    const second = await LineClient.connect(total.ports.pop3);
    try {
      assert.match(await first.readLine(), /^\+OK/);
      assert.equal(await second.readLine(), '-ERR [SYS/TEMP] Too many connections');
      await second.closed();
    } finally {
      first.destroy();
      second.destroy();
    }
  });

  test('no login within the pre-auth time ends the connection, however busy the client is', async () => {
    const gateway = await stack.startGateway({ preAuthTimeoutMs: 1500 });
    const { address } = await stack.account('deadline');
    const member = await LineClient.connect(gateway.ports.pop3);
    const stranger = await LineClient.connect(gateway.ports.pop3);
    try {
      await member.readLine();
      await member.ask(`USER ${address}`);
      assert.match(await member.ask(`PASS ${stack.password}`), /^\+OK/);
      await stranger.readLine();
      assert.match(await stranger.ask('CAPA'), /^\+OK/);
      await stranger.readMultiline();
      assert.equal(await stranger.readLine(), '-ERR Autologout: no login in time');
      await stranger.closed();
      assert.match(await member.ask('STAT'), /^\+OK/);
    } finally {
      member.destroy();
      stranger.destroy();
    }
  });

  test('a login name past 320 octets is refused with -ERR [AUTH], in USER and in AUTH PLAIN', async () => {
    const gateway = await stack.startGateway();
    const client = await LineClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      const refusal = '-ERR [AUTH] Login names are limited to 320 octets';
      assert.equal(await client.ask(`USER ${'x'.repeat(321)}`), refusal);
      assert.equal(await client.ask(`AUTH PLAIN ${encodeSaslPlain('y'.repeat(321), 'secret')}`), refusal);
    } finally {
      client.destroy();
    }
  });
});
