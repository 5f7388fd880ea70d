import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLoginLimiter, encodePlainResponse, loginFailureCounter, LoginPolicy } from '@correo/auth';
import { LineClient, RecordingClock } from '@correo/testkit';
import type { Pop3Gateway } from '../src/index.js';
import { Pop3TestStack, rawMessage } from './helpers/stack.js';

/** The failure window of the lockout tests' limiters; its end is brought forward, never waited out. */
const LOCKOUT_WINDOW_MS = 15 * 60_000;

describe('connection handling (embedded)', () => {
  let stack: Pop3TestStack;
  let gateway: Pop3Gateway;

  before(async () => {
    stack = await Pop3TestStack.create('embedded');
    gateway = await stack.startGateway({ allowPlaintextAuthOnLoopback: false });
  });
  after(() => stack.close());

  test('AUTH PLAIN and USER before TLS are refused outside the loopback allowance', async () => {
    const { address } = await stack.account('too-early');
    const client = await LineClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      const refusal = '-ERR [AUTH] Plaintext authentication is not allowed without TLS: use STLS first';
      assert.equal(await client.ask(`AUTH PLAIN ${encodePlainResponse(address, stack.password)}`), refusal);
      assert.equal(await client.ask(`USER ${address}`), refusal);
      assert.equal(await client.ask(`PASS ${stack.password}`), refusal);
      assert.equal(await client.ask('AUTH'), '+OK Mechanisms follow');
      assert.deepEqual(await client.readMultiline(), []);
    } finally {
      client.destroy();
    }
  });

  test('commands pipelined behind STLS are discarded, not run after the handshake', async () => {
    const client = await LineClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      client.write('STLS\r\nCAPA\r\n');
      assert.equal(await client.readLine(), '+OK Begin TLS negotiation');
      const secured = await client.startTls(stack.tls.cert);
      // The first reply over TLS answers NOOP: the plaintext CAPA was dropped.
      assert.equal(await secured.ask('NOOP'), '-ERR NOOP is not valid before login');
      secured.destroy();
    } finally {
      client.destroy();
    }
  });

  test('an idle session is logged out without deleting anything', async () => {
    const { accountId, address } = await stack.account('idler');
    await stack.deliver(accountId, address, rawMessage('stay'));
    // A gateway of its own with a short idle time (the others keep the default, so a slow login on
    // a loaded machine is never cut short); plaintext is refused, so log in over implicit TLS.
    const idling = await stack.startGateway({ idleTimeoutMs: 3000, allowPlaintextAuthOnLoopback: false });
    const client = await LineClient.connect(idling.ports.pop3s, { tls: { ca: stack.tls.cert } });
    try {
      await client.readLine();
      await client.ask(`USER ${address}`);
      assert.match(await client.ask(`PASS ${stack.password}`), /^\+OK/);
      assert.match(await client.ask('DELE 1'), /^\+OK/);
      assert.equal(await client.readLine(), '-ERR Autologout: idle for too long');
      await client.closed();
    } finally {
      client.destroy();
    }
    assert.equal((await stack.uids(accountId)).length, 1);
  });

  test('after too many failures even the right password is refused, from a new connection too', async () => {
    const limited = await stack.startGateway({ allowPlaintextAuthOnLoopback: true }, stack.limits, {
      loginPolicy: new LoginPolicy(
        createLoginLimiter(stack.limits, {
          freeFailures: 1,
          loginLockAfter: 2,
          baseDelayMs: 10,
          windowMs: LOCKOUT_WINDOW_MS,
        }),
        new RecordingClock(),
      ),
    });
    const { address } = await stack.account('locked-out');
    const client = await LineClient.connect(limited.ports.pop3);
    try {
      await client.readLine();
      for (const password of ['wrong', 'wrong again']) {
        await client.ask(`USER ${address}`);
        assert.equal(await client.ask(`PASS ${password}`), '-ERR [AUTH] Authentication failed');
      }
    } finally {
      client.destroy();
    }
    const again = await LineClient.connect(limited.ports.pop3);
    try {
      await again.readLine();
      await again.ask(`USER ${address}`);
      assert.equal(await again.ask(`PASS ${stack.password}`), '-ERR [AUTH] Authentication failed');
      // Positive control: the same password, accepted once the lockout's window has run out.
      await stack.endCounterWindow(loginFailureCounter(await stack.loginKey(address)), LOCKOUT_WINDOW_MS);
      await again.ask(`USER ${address}`);
      assert.match(await again.ask(`PASS ${stack.password}`), /^\+OK /);
    } finally {
      again.destroy();
    }
  });
  test('the lockout counts the account however USER spells it; the lock ends with its window', async () => {
    const limited = await stack.startGateway({ allowPlaintextAuthOnLoopback: true }, stack.limits, {
      loginPolicy: new LoginPolicy(
        createLoginLimiter(stack.limits, {
          freeFailures: 10,
          loginLockAfter: 3,
          windowMs: LOCKOUT_WINDOW_MS,
        }),
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
      const client = await LineClient.connect(limited.ports.pop3);
      try {
        await client.readLine();
        await client.ask(`USER ${spelling}`);
        assert.equal(await client.ask('PASS wrong'), '-ERR [AUTH] Authentication failed');
      } finally {
        client.destroy();
      }
    }
    const logIn = async () => {
      const again = await LineClient.connect(limited.ports.pop3);
      try {
        await again.readLine();
        await again.ask(`USER ${address}`);
        return await again.ask(`PASS ${stack.password}`);
      } finally {
        again.destroy();
      }
    };
    assert.equal(
      await logIn(),
      '-ERR [AUTH] Authentication failed',
      'the right password is refused while locked',
    );
    // Positive control: once the window has run out the right password works again.
    await stack.endCounterWindow(loginFailureCounter(await stack.loginKey(address)), LOCKOUT_WINDOW_MS);
    assert.match(await logIn(), /^\+OK /);
  });
});
