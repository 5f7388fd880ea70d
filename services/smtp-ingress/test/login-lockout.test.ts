import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { loginFailureCounter } from '@correo/auth';
import { createPostgresDirectory } from '@correo/directory';
import { expireMemoryCounter, pythonSmtp, RecordingClock } from '@correo/testkit';

/** The failure window of the tests' limiters: a window no slow run outlasts; its end is brought forward. */
const WINDOW_MS = 15 * 60_000;

describe('failed AUTH attempts are limited', () => {
  let fixture: IngressFixture;
  before(async () => {
    // Lowered thresholds: no delay for the first failures, lockout after 4; the policy's waits are
    // recorded, not slept (login-policy.test.ts asserts them).
    fixture = await startIngressFixture({
      loginLimiter: { freeFailures: 10, loginLockAfter: 4, windowMs: WINDOW_MS },
      loginClock: new RecordingClock(),
    });
  });
  after(() => fixture?.stop());

  const authenticate = (password: string) =>
    pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submissions,
      mode: 'ssl',
      user: USER,
      password,
      commands: [],
    });

  test('after repeated wrong passwords even the right one gets 535 5.7.8, with no hint why', async () => {
    const first = await authenticate(PASSWORD);
    assert.equal(first.replies.at(-1)?.[0], 235, 'the right password works before any failure');
    for (let i = 0; i < 4; i++) {
      const wrong = await authenticate(`wrong-${i}`);
      assert.deepEqual(wrong.replies.at(-1)?.slice(0, 1), [535]);
    }
    const locked = await authenticate(PASSWORD);
    assert.deepEqual(locked.replies.at(-1), [535, '5.7.8 Authentication credentials invalid']);
    // Positive control: the same password, accepted once the lockout's window has run out.
    const loginKey = await createPostgresDirectory(fixture.pool).loginKey(USER);
    expireMemoryCounter(fixture.limitsState, loginFailureCounter(loginKey), WINDOW_MS);
    const again = await authenticate(PASSWORD);
    assert.equal(again.replies.at(-1)?.[0], 235, 'the lock ended with its window');
  });

  test('a login name past 320 octets gets 501 5.5.2 before the limiter or the directory see it', async () => {
    const long = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submissions,
      mode: 'ssl',
      user: `${'x'.repeat(321)}@example.test`,
      password: PASSWORD,
      commands: [],
    });
    assert.deepEqual(long.replies.at(-1), [501, '5.5.2 Login names are limited to 320 octets']);
  });
});

describe('the lockout counts the account, however its address is spelled', () => {
  let fixture: IngressFixture;
  before(async () => {
    // A window no slow run outlasts (four failing logins must fall in one); its end is simulated.
    fixture = await startIngressFixture({
      loginLimiter: { freeFailures: 10, loginLockAfter: 4, windowMs: WINDOW_MS },
      // The failure delay is recorded, not slept: eight real seconds of it would outlast the window.
      loginClock: new RecordingClock(),
    });
  });
  after(() => fixture?.stop());

  const authenticate = (user: string, password: string) =>
    pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submissions,
      mode: 'ssl',
      user,
      password,
      commands: [],
    });

  test('quoted, escaped and upper-case spellings share one counter; the lock ends with its window', async () => {
    const [local, domain] = USER.split('@') as [string, string];
    // Each spelling reaches the same account (the directory normalises them all to USER).
    const spellings = [
      `"${local}"@${domain}`,
      `"${local.slice(0, 1)}\\${local.slice(1)}"@${domain}`,
      USER.toUpperCase(),
      `"${local}"@${domain.toUpperCase()}`,
    ];
    for (const spelling of spellings) {
      assert.equal((await authenticate(spelling, PASSWORD)).replies.at(-1)?.[0], 235, `${spelling} logs in`);
    }
    for (const spelling of spellings) {
      const wrong = await authenticate(spelling, 'wrong password');
      assert.equal(wrong.replies.at(-1)?.[0], 535, `${spelling} with a wrong password`);
    }
    // Locked: the right password is refused, in the plain spelling too.
    const locked = await authenticate(USER, PASSWORD);
    assert.deepEqual(locked.replies.at(-1), [535, '5.7.8 Authentication credentials invalid']);
    // Positive control: once the window has run out the same login works again.
    const loginKey = await createPostgresDirectory(fixture.pool).loginKey(USER);
    expireMemoryCounter(fixture.limitsState, loginFailureCounter(loginKey), WINDOW_MS);
    const again = await authenticate(USER, PASSWORD);
    assert.equal(again.replies.at(-1)?.[0], 235, 'the lock ended with its window');
  });
});
