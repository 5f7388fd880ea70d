import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createMemoryLimits } from '@correo/limits';
import { createLogger } from '@correo/telemetry';
import { CounterWatch, RecordingClock } from '@correo/testkit';
import {
  createLoginLimiter,
  LoginPolicy,
  loginMetrics,
  type LoginAccounts,
  type LoginLimiterOptions,
  type LoginProtocol,
} from '../src/index.js';

// Socket-free: the policy over the in-memory limits, with a clock that only moves when the policy
// sleeps or the directory "verifies" a password. Waits are asserted as values, never measured.

const PASSWORD = 'right password';
const VERIFY_MS = 37;
const FAILURE_DELAY_MS = 1000;

/** One account, `ana`, reachable under several spellings; verifying a password costs VERIFY_MS. */
function directory(clock: RecordingClock): LoginAccounts<{ id: string }> & { verifications: number } {
  const id = `account:${randomBytes(4).toString('hex')}`;
  const accounts = {
    verifications: 0,
    async loginKey(login: string) {
      return /^"?ana"?@example\.test$/i.test(login) ? id : `address:${login.toLowerCase()}`;
    },
    async authenticate(login: string, password: string) {
      accounts.verifications++;
      clock.time += VERIFY_MS;
      return (await accounts.loginKey(login)) === id && password === PASSWORD ? { id } : null;
    },
  };
  return accounts;
}

const limiterOptions: LoginLimiterOptions = {
  freeFailures: 1,
  loginLockAfter: 3,
  baseDelayMs: 100,
  maxDelayMs: 400,
};

function setup(options: LoginLimiterOptions = limiterOptions) {
  const clock = new RecordingClock();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('auth-test', 'debug', {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const limiter = createLoginLimiter(createMemoryLimits(), options);
  const policy = new LoginPolicy(limiter, { now: clock.now, sleep: clock.sleep, logger });
  return { clock, policy, accounts: directory(clock), lines };
}

/** One attempt; returns its result and how long (fake time) it took to answer. */
async function timed(
  s: ReturnType<typeof setup>,
  password: string,
  extra: { protocol?: LoginProtocol; login?: string; authorizationId?: string } = {},
) {
  const started = s.clock.time;
  const result = await s.policy.attempt(s.accounts, {
    protocol: extra.protocol ?? 'imap',
    login: extra.login ?? 'ana@example.test',
    password,
    authorizationId: extra.authorizationId,
    ip: '192.0.2.7',
  });
  return { result, elapsed: s.clock.time - started };
}

describe('the login policy', () => {
  test('a locked-out answer is the wrong-password answer: same result, same wait', async () => {
    // Two deployments alike but for where the lock starts: after three failures, one is locked and
    // the other still checks the password. The fourth wrong guess must look the same on both.
    const locking = setup();
    const open = setup({ ...limiterOptions, loginLockAfter: 100 });
    for (const s of [locking, open]) {
      for (let i = 0; i < 3; i++)
        assert.deepEqual((await timed(s, `wrong ${i}`)).result, { kind: 'rejected' });
    }
    const lockedOut = await timed(locking, 'wrong 3');
    const failed = await timed(open, 'wrong 3');
    assert.deepEqual(lockedOut.result, { kind: 'rejected' });
    assert.deepEqual(failed.result, { kind: 'rejected' });
    // 3 earlier failures, 1 free: 100 ms doubled twice = 400 (the ceiling), then the failure delay.
    assert.equal(failed.elapsed, 400 + FAILURE_DELAY_MS);
    assert.equal(lockedOut.elapsed, failed.elapsed);
    assert.equal(locking.accounts.verifications, 3, 'a locked-out attempt never reaches the password check');
    assert.equal(open.accounts.verifications, 4);
    // Even the right password gets the same answer while locked.
    assert.deepEqual(await timed(locking, PASSWORD), lockedOut);
  });

  test('every protocol waits the same and is counted under one metric with one label set', async () => {
    const protocols: LoginProtocol[] = ['smtp', 'imap', 'pop3', 'managesieve'];
    const answers: unknown[] = [];
    for (const protocol of protocols) {
      const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol });
      const s = setup();
      const tries = [];
      for (const password of [PASSWORD, 'wrong', 'wrong', 'wrong', 'wrong', PASSWORD]) {
        const { result, elapsed } = await timed(s, password, { protocol });
        tries.push({ kind: result.kind, elapsed });
      }
      answers.push({ tries, sleeps: s.clock.waits });
      assert.deepEqual(await logins.added(), { success: 1, failure: 3, locked_out: 2 });
    }
    for (const answer of answers.slice(1)) assert.deepEqual(answer, answers[0]);
  });

  test('the failure delay covers the password check; a success does not wait for it', async () => {
    const s = setup();
    const success = await timed(s, PASSWORD);
    assert.deepEqual(success.result.kind, 'ok');
    assert.equal(success.elapsed, VERIFY_MS);
    assert.deepEqual(s.clock.waits, []);
    const failure = await timed(s, 'wrong');
    assert.equal(failure.elapsed, FAILURE_DELAY_MS);
    assert.deepEqual(s.clock.waits, [FAILURE_DELAY_MS - VERIFY_MS]);
  });

  test('one log line per attempt, with the same fields for every outcome', async () => {
    const s = setup();
    for (const password of [PASSWORD, 'wrong', 'wrong', 'wrong', 'wrong'])
      await timed(s, password, { protocol: 'pop3' });
    const logins = s.lines.map(({ protocol, outcome, ip, account }) => ({ protocol, outcome, ip, account }));
    const account = await s.accounts.loginKey('ana@example.test');
    assert.deepEqual(
      logins,
      ['success', 'failure', 'failure', 'failure', 'locked_out'].map((outcome) => ({
        protocol: 'pop3',
        outcome,
        ip: '192.0.2.7',
        account,
      })),
    );
    assert.equal(s.lines.at(-1)?.lockedBy, 'login');
    assert.equal(s.lines.at(-1)?.level, 'warn');
  });

  test('the authorization identity must name the authenticated account, however it is spelled', async () => {
    const s = setup();
    assert.equal((await timed(s, PASSWORD, { authorizationId: '"ana"@EXAMPLE.test' })).result.kind, 'ok');
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'imap' });
    assert.deepEqual((await timed(s, PASSWORD, { authorizationId: 'bob@example.test' })).result, {
      kind: 'unauthorized',
    });
    assert.deepEqual(await logins.added(), { refused: 1 });
    // With a wrong password the authzid changes nothing: the answer is the plain failure.
    assert.deepEqual((await timed(s, 'wrong', { authorizationId: 'bob@example.test' })).result, {
      kind: 'rejected',
    });
  });

  test('a login name past 320 octets is refused before the directory or the limiter see it', async () => {
    const s = setup();
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'smtp' });
    const result = await timed(s, PASSWORD, { protocol: 'smtp', login: `${'x'.repeat(321)}@example.test` });
    assert.deepEqual(result.result, { kind: 'rejected' });
    assert.equal(s.accounts.verifications, 0);
    assert.deepEqual(await logins.added(), { refused: 1 });
  });

  test('a failing directory is counted as an error and propagates; the attempt stays counted', async () => {
    const s = setup();
    const broken: LoginAccounts<never> = {
      loginKey: s.accounts.loginKey,
      authenticate: async () => {
        throw new Error('directory down');
      },
    };
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'imap' });
    const attempt = {
      protocol: 'imap' as const,
      login: 'ana@example.test',
      password: PASSWORD,
      ip: '192.0.2.7',
    };
    await assert.rejects(s.policy.attempt(broken, attempt), /directory down/);
    assert.deepEqual(await logins.added(), { error: 1 });
    // The failed attempt counted: the next one waits the first step of the progressive delay.
    await timed(s, PASSWORD);
    assert.deepEqual(s.clock.waits, [100]);
  });

  test('credentials only over TLS, or from loopback where the embedded default allows it', () => {
    const { policy } = setup();
    assert.equal(policy.credentialsAllowed({ secure: true, remoteAddress: '192.0.2.1' }, false), true);
    assert.equal(policy.credentialsAllowed({ secure: false, remoteAddress: '192.0.2.1' }, true), false);
    assert.equal(policy.credentialsAllowed({ secure: false, remoteAddress: '127.0.0.1' }, false), false);
    assert.equal(policy.credentialsAllowed({ secure: false, remoteAddress: '::ffff:127.0.0.1' }, true), true);
  });
});
