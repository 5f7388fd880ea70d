import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { createLoginLimiter, encodePlainResponse, LoginPolicy } from '@correo/auth';
import { eventually, RecordingClock } from '@correo/testkit';
import type { Pop3Gateway } from '../src/index.js';
import { RawClient } from './helpers/raw-client.js';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';

describe('connection handling (embedded)', () => {
  let stack: Pop3TestStack;
  let gateway: Pop3Gateway;

  before(async () => {
    stack = await Pop3TestStack.create('embedded');
    gateway = await stack.startGateway({ idleTimeoutMs: 1000, allowPlaintextAuthOnLoopback: false });
  });
  after(() => stack.close());

  test('AUTH PLAIN and USER before TLS are refused outside the loopback allowance', async () => {
    const { address } = await stack.account('too-early');
    const client = await RawClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      const refusal = '-ERR [AUTH] Plaintext authentication is not allowed without TLS: use STLS first';
      assert.equal(
        await client.command(`AUTH PLAIN ${encodePlainResponse(address, stack.password)}`),
        refusal,
      );
      assert.equal(await client.command(`USER ${address}`), refusal);
      assert.equal(await client.command(`PASS ${stack.password}`), refusal);
      assert.equal(await client.command('AUTH'), '+OK Mechanisms follow');
      assert.deepEqual(await client.readMultiline(), []);
    } finally {
      client.destroy();
    }
  });

  test('commands pipelined behind STLS are discarded, not run after the handshake', async () => {
    const client = await RawClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      client.socket.write('STLS\r\nCAPA\r\n');
      assert.equal(await client.readLine(), '+OK Begin TLS negotiation');
      const secured = connectTls({ socket: client.socket, ca: stack.tls.cert, servername: 'localhost' });
      await once(secured, 'secureConnect');
      let received = '';
      secured.on('data', (chunk: Buffer) => (received += chunk.toString()));
      secured.write('NOOP\r\n');
      while (!received.includes('\r\n')) await once(secured, 'data');
      // The first reply over TLS answers NOOP: the plaintext CAPA was dropped.
      assert.equal(received, '-ERR NOOP is not valid before login\r\n');
      secured.destroy();
    } finally {
      client.destroy();
    }
  });

  test('an idle session is logged out without deleting anything', async () => {
    const { accountId, address } = await stack.account('idler');
    await stack.deliver(accountId, address, rawMessage('stay'));
    // Plaintext is refused on this gateway, so log in over the implicit-TLS port.
    const client = await RawClient.connect(gateway.ports.pop3s, { tls: { ca: stack.tls.cert } });
    try {
      await client.readLine();
      await client.command(`USER ${address}`);
      assert.match(await client.command(`PASS ${stack.password}`), /^\+OK/);
      assert.match(await client.command('DELE 1'), /^\+OK/);
      assert.equal(await client.readLine(), '-ERR Autologout: idle for too long');
      await client.closed();
    } finally {
      client.destroy();
    }
    assert.equal((await stack.inboxUids(accountId)).length, 1);
  });

  test('after too many failures even the right password is refused, from a new connection too', async () => {
    const limited = await stack.startGateway({ allowPlaintextAuthOnLoopback: true }, stack.limits, {
      loginPolicy: new LoginPolicy(
        createLoginLimiter(stack.limits, { freeFailures: 1, loginLockAfter: 2, baseDelayMs: 10 }),
        new RecordingClock(),
      ),
    });
    const { address } = await stack.account('locked-out');
    const client = await RawClient.connect(limited.ports.pop3);
    try {
      await client.readLine();
      for (const password of ['wrong', 'wrong again']) {
        await client.command(`USER ${address}`);
        assert.equal(await client.command(`PASS ${password}`), '-ERR [AUTH] Authentication failed');
      }
    } finally {
      client.destroy();
    }
    const again = await RawClient.connect(limited.ports.pop3);
    try {
      await again.readLine();
      await again.command(`USER ${address}`);
      assert.equal(await again.command(`PASS ${stack.password}`), '-ERR [AUTH] Authentication failed');
    } finally {
      again.destroy();
    }
  });
  test('the lockout counts the account however USER spells it; the lock ends with its window', async () => {
    const limited = await stack.startGateway({ allowPlaintextAuthOnLoopback: true }, stack.limits, {
      loginPolicy: new LoginPolicy(
        createLoginLimiter(stack.limits, { freeFailures: 10, loginLockAfter: 3, windowMs: 4_000 }),
        new RecordingClock(),
      ),
    });
    const { address } = await stack.account('spelled');
    const [local, domain] = address.split('@') as [string, string];
    const fullWidth = [...domain].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    const spellings = [
      `"${local}"@${domain}`,
      `${local}@${domain.slice(0, 2)}\u00ad${domain.slice(2)}`,
      `${local}@${fullWidth}`,
    ];
    for (const spelling of spellings) {
      // A connection each: the per-connection failure budget is not what this test is about.
      const client = await RawClient.connect(limited.ports.pop3);
      try {
        await client.readLine();
        await client.command(`USER ${spelling}`);
        assert.equal(await client.command('PASS wrong'), '-ERR [AUTH] Authentication failed');
      } finally {
        client.destroy();
      }
    }
    const logIn = async () => {
      const again = await RawClient.connect(limited.ports.pop3);
      try {
        await again.readLine();
        await again.command(`USER ${address}`);
        return await again.command(`PASS ${stack.password}`);
      } finally {
        again.destroy();
      }
    };
    assert.equal(
      await logIn(),
      '-ERR [AUTH] Authentication failed',
      'the right password is refused while locked',
    );
    // Positive control: after the window the right password works again.
    await eventually('the lock to end with its window', async () => (await logIn()).startsWith('+OK'));
  });
});
