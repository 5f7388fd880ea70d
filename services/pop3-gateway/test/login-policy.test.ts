import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  createLoginLimiter,
  DEFAULT_FAILURE_DELAY_MS,
  encodePlainResponse,
  loginFailureCounter,
  LoginPolicy,
  loginMetrics,
} from '@correo/auth';
import { CounterWatch, LineClient, RecordingClock, runProgram } from '@correo/testkit';
import type { Pop3Gateway } from '../src/index.js';
import { Pop3TestStack } from './helpers/stack.js';

const poplibLogin = fileURLToPath(new URL('./clients/poplib_login.py', import.meta.url));

/** The failure window of the test's limiter; its end is brought forward, never waited out. */
const LOCKOUT_WINDOW_MS = 15 * 60_000;

describe('POP3 login through the shared login policy (embedded)', () => {
  let stack: Pop3TestStack;
  let gateway: Pop3Gateway;
  let clock: RecordingClock;

  before(async () => {
    stack = await Pop3TestStack.create('embedded');
    clock = new RecordingClock();
    // No progressive delay before the lock, so every wait recorded is the policy's failure delay.
    const loginLimiter = createLoginLimiter(stack.limits, {
      freeFailures: 10,
      loginLockAfter: 2,
      windowMs: LOCKOUT_WINDOW_MS,
    });
    gateway = await stack.startGateway(
      { allowPlaintextAuthOnLoopback: true, maxAuthFailures: 10 },
      stack.limits,
      {
        loginPolicy: new LoginPolicy(loginLimiter, clock),
      },
    );
  });
  after(() => stack.close());

  test('a locked-out login is answered as a wrong password: same reply, same wait, counted locked_out', async () => {
    const { address } = await stack.account('locked-alike');
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'pop3' });
    const client = await LineClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      const attempt = (line: string) => clock.during(() => client.ask(line));
      await client.ask(`USER ${address}`);
      const wrong = [
        await attempt('PASS wrong'),
        await attempt(`AUTH PLAIN ${encodePlainResponse(address, 'wrong again')}`),
      ];
      await client.ask(`USER ${address}`);
      const locked = [
        await attempt(`PASS ${stack.password}`),
        await attempt(`AUTH PLAIN ${encodePlainResponse(address, stack.password)}`),
      ];
      const failure = { result: '-ERR [AUTH] Authentication failed', waits: [DEFAULT_FAILURE_DELAY_MS] };
      assert.deepEqual(wrong, [failure, failure]);
      assert.deepEqual(locked, [failure, failure], 'the lockout shows neither in the reply nor in the wait');
      // Positive control: the same password, accepted once the lockout's window has run out.
      await stack.endCounterWindow(loginFailureCounter(await stack.loginKey(address)), LOCKOUT_WINDOW_MS);
      await client.ask(`USER ${address}`);
      assert.match((await attempt(`PASS ${stack.password}`)).result, /^\+OK /);
    } finally {
      client.destroy();
    }
    assert.deepEqual(await logins.added(), { failure: 2, locked_out: 2, success: 1 });
  });

  test('AUTH reads SASL as IMAP does: strict base64, PLAIN fields, authzid, cancel, LOGIN', async () => {
    const { address } = await stack.account('sasl');
    const client = await LineClient.connect(gateway.ports.pop3);
    try {
      await client.readLine();
      // A response that needs padding, sent without it; and one with a character Node's decoder would skip.
      const padded =
        ['', 'x', 'xy']
          .map((suffix) => encodePlainResponse(address, `${stack.password}${suffix}`))
          .find((response) => response.endsWith('=')) ?? assert.fail('one of three lengths needs padding');
      for (const sloppy of [padded.replace(/=+$/, ''), `${encodePlainResponse(address, stack.password)}!`]) {
        assert.match(await client.ask(`AUTH PLAIN ${sloppy}`), /^-ERR .*base64/);
      }
      assert.match(
        await client.ask(`AUTH PLAIN ${Buffer.from(`\0${address}\0`).toString('base64')}`),
        /^-ERR /,
      );
      assert.match(await client.ask('AUTH CRAM-MD5'), /^-ERR Unsupported mechanism/);
      const other = encodePlainResponse(address, stack.password, `someone-else@${address.split('@')[1]}`);
      assert.equal(
        await client.ask(`AUTH PLAIN ${other}`),
        '-ERR [AUTH] Logging in as another identity is not allowed',
      );
      assert.equal(await client.ask('AUTH PLAIN'), '+ ');
      assert.equal(await client.ask('*'), '-ERR AUTH cancelled');
      assert.equal(await client.ask('AUTH'), '+OK Mechanisms follow');
      assert.deepEqual(await client.readMultiline(), ['PLAIN', 'LOGIN']);
      const self = encodePlainResponse(address, stack.password, address.toUpperCase());
      assert.match(await client.ask(`AUTH PLAIN ${self}`), /^\+OK Logged in/);
    } finally {
      client.destroy();
    }
  });

  test('poplib logs in by USER/PASS, AUTH PLAIN and AUTH LOGIN, and gets the failure answer for a wrong password', async () => {
    const { address } = await stack.account('poplib-sasl');
    const poplib = async (...args: string[]) => {
      const result = await runProgram('python3', [poplibLogin, String(gateway.ports.pop3), ...args]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { answer?: string; error?: string };
    };
    for (const way of ['USER', 'PLAIN', 'LOGIN']) {
      assert.match((await poplib(way, address, stack.password)).answer ?? '', /^\+OK Logged in/, way);
      assert.deepEqual(
        await poplib(way, address, 'wrong'),
        { error: '-ERR [AUTH] Authentication failed' },
        way,
      );
    }
  });
});
