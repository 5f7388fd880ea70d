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
import type { ImapGateway } from '../src/index.js';
import { ImapTestStack } from './helpers/stack.js';

const imaplibSasl = fileURLToPath(new URL('./clients/imaplib_sasl.py', import.meta.url));

/** The failure window of the test's limiter; its end is brought forward, never waited out. */
const LOCKOUT_WINDOW_MS = 15 * 60_000;

describe('IMAP login through the shared login policy (Redis limits)', () => {
  let stack: ImapTestStack;
  let gateway: ImapGateway;
  let clock: RecordingClock;

  before(async () => {
    stack = await ImapTestStack.create('distributed');
    clock = new RecordingClock();
    // No progressive delay before the lock, so every wait recorded is the policy's failure delay.
    const loginLimiter = createLoginLimiter(stack.limits, {
      freeFailures: 10,
      loginLockAfter: 2,
      windowMs: LOCKOUT_WINDOW_MS,
    });
    const loginPolicy = new LoginPolicy(loginLimiter, clock);
    gateway = await stack.gateway({ maxAuthFailures: 10 }, { loginPolicy });
  });
  after(() => stack.close());

  test('a locked-out login is answered as a wrong password: same reply, same wait, counted locked_out', async () => {
    const { address } = await stack.account('locked-alike');
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'imap' });
    const client = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await client.readLine();
      const attempt = (line: string) => clock.during(async () => (await client.command(line)).status);
      const wrong = [
        await attempt(`LOGIN ${address} wrong`),
        await attempt(`AUTHENTICATE PLAIN ${encodePlainResponse(address, 'wrong again')}`),
      ];
      // Locked now: the right password, by LOGIN and by AUTHENTICATE.
      const locked = [
        await attempt(`LOGIN ${address} "${stack.password}"`),
        await attempt(`AUTHENTICATE PLAIN ${encodePlainResponse(address, stack.password)}`),
      ];
      const failure = {
        result: 'NO [AUTHENTICATIONFAILED] Invalid credentials',
        waits: [DEFAULT_FAILURE_DELAY_MS],
      };
      assert.deepEqual(wrong, [failure, failure]);
      assert.deepEqual(locked, [failure, failure], 'the lockout shows neither in the reply nor in the wait');
      // Positive control: the same password, accepted once the lockout's window has run out.
      await stack.endCounterWindow(loginFailureCounter(await stack.loginKey(address)), LOCKOUT_WINDOW_MS);
      assert.match((await attempt(`LOGIN ${address} "${stack.password}"`)).result, /^OK /);
    } finally {
      client.destroy();
    }
    assert.deepEqual(await logins.added(), { failure: 2, locked_out: 2, success: 1 });
  });

  test('AUTHENTICATE reads SASL as POP3 does: strict base64, PLAIN fields, authzid, cancel, LOGIN', async () => {
    const { address } = await stack.account('sasl');
    const client = await LineClient.connect(gateway.ports.imap, { literals: true });
    try {
      await client.readLine();
      const status = async (line: string) => (await client.command(line)).status;
      // A response that needs padding, sent without it; and one with a character Node's decoder would skip.
      const padded =
        ['', 'x', 'xy']
          .map((suffix) => encodePlainResponse(address, `${stack.password}${suffix}`))
          .find((response) => response.endsWith('=')) ?? assert.fail('one of three lengths needs padding');
      for (const sloppy of [padded.replace(/=+$/, ''), `${encodePlainResponse(address, stack.password)}!`]) {
        assert.match(await status(`AUTHENTICATE PLAIN ${sloppy}`), /^BAD .*base64/);
      }
      assert.match(
        await status(`AUTHENTICATE PLAIN ${Buffer.from(`\0${address}\0`).toString('base64')}`),
        /^BAD /,
      );
      assert.match(await status('AUTHENTICATE CRAM-MD5'), /^NO \[CANNOT\]/);
      const other = encodePlainResponse(address, stack.password, `someone-else@${address.split('@')[1]}`);
      assert.match(await status(`AUTHENTICATE PLAIN ${other}`), /^NO \[AUTHORIZATIONFAILED\]/);
      // "*" cancels during the exchange.
      client.socket.write('c1 AUTHENTICATE PLAIN\r\n');
      assert.equal(await client.readLine(), '+ ');
      client.socket.write('*\r\n');
      assert.match((await client.collect('c1')).status, /^BAD .*cancel/i);
      // The authzid may name the account itself, in another spelling.
      const self = encodePlainResponse(address, stack.password, address.toUpperCase());
      assert.match(await status(`AUTHENTICATE PLAIN ${self}`), /^OK/);
    } finally {
      client.destroy();
    }
  });

  test('imaplib authenticates with PLAIN and LOGIN, and gets the failure answer for a wrong password', async () => {
    const { address } = await stack.account('imaplib-sasl');
    const imaplib = async (...args: string[]) => {
      const result = await runProgram('python3', [imaplibSasl, String(gateway.ports.imap), ...args]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { status?: string; state?: string; error?: string };
    };
    for (const mechanism of ['PLAIN', 'LOGIN']) {
      assert.deepEqual(
        { ...(await imaplib(mechanism, address, stack.password)), text: undefined },
        { status: 'OK', state: 'AUTH', text: undefined },
        mechanism,
      );
      assert.match(
        (await imaplib(mechanism, address, 'wrong')).error ?? '',
        /AUTHENTICATIONFAILED\] Invalid credentials/,
      );
    }
  });
});
