import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DEFAULT_FAILURE_DELAY_MS,
  encodePlainResponse,
  loginFailureCounter,
  loginMetrics,
} from '@correo/auth';
import { createPostgresDirectory } from '@correo/directory';
import { CounterWatch, expireMemoryCounter, pythonSmtp, RecordingClock } from '@correo/testkit';
import { OTHER_USER, PASSWORD, USER, startIngressFixture } from './support/ingress-fixture.js';
import type { IngressFixture } from './support/ingress-fixture.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** The failure window of the test's limiter; its end is brought forward, never waited out. */
const LOCKOUT_WINDOW_MS = 15 * 60_000;

describe('SMTP AUTH through the shared login policy', () => {
  let fixture: IngressFixture;
  const clock = new RecordingClock();
  before(async () => {
    // No progressive delay before the lock, so every wait recorded is the policy's failure delay.
    fixture = await startIngressFixture({
      loginLimiter: { freeFailures: 10, loginLockAfter: 2, windowMs: LOCKOUT_WINDOW_MS },
      loginClock: clock,
    });
  });
  after(() => fixture?.stop());

  const session = (commands: string[]) =>
    pythonSmtp({ host: '127.0.0.1', port: fixture.ingress.ports.submissions, mode: 'ssl', commands });

  test('smtplib: a locked-out AUTH is answered as a wrong password: same reply, same wait, counted locked_out', async () => {
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'smtp' });
    const { replies } = await session([
      `AUTH PLAIN ${encodePlainResponse(OTHER_USER, 'wrong')}`,
      `AUTH PLAIN ${encodePlainResponse(OTHER_USER, 'wrong again')}`,
      // Locked now: the right password, by PLAIN and by LOGIN.
      `AUTH PLAIN ${encodePlainResponse(OTHER_USER, PASSWORD)}`,
      'AUTH LOGIN',
      b64(OTHER_USER),
      b64(PASSWORD),
    ]);
    const failure: [number, string] = [535, '5.7.8 Authentication credentials invalid'];
    assert.deepEqual(replies, [
      failure,
      failure,
      failure,
      [334, 'VXNlcm5hbWU6'],
      [334, 'UGFzc3dvcmQ6'],
      failure,
    ]);
    assert.deepEqual(
      clock.waits,
      Array(4).fill(DEFAULT_FAILURE_DELAY_MS),
      'the lockout does not show in the wait',
    );
    // Positive control: the same password, accepted once the lockout's window has run out.
    const loginKey = await createPostgresDirectory(fixture.pool).loginKey(OTHER_USER);
    expireMemoryCounter(fixture.limitsState, loginFailureCounter(loginKey), LOCKOUT_WINDOW_MS);
    const afterWindow = await session([`AUTH PLAIN ${encodePlainResponse(OTHER_USER, PASSWORD)}`]);
    assert.deepEqual(afterWindow.replies, [[235, '2.7.0 Authentication successful']]);
    assert.deepEqual(await logins.added(), { failure: 2, locked_out: 2, success: 1 });
  });

  test('an authorization identity other than the account itself is refused; its own is accepted', async () => {
    const logins = await CounterWatch.start(loginMetrics.logins, 'outcome', { protocol: 'smtp' });
    const { replies } = await session([
      `AUTH PLAIN ${encodePlainResponse(USER, PASSWORD, OTHER_USER)}`,
      `AUTH PLAIN ${encodePlainResponse(USER, PASSWORD, USER.toUpperCase())}`,
    ]);
    assert.deepEqual(replies, [
      [535, '5.7.8 Not authorized to act as another identity'],
      [235, '2.7.0 Authentication successful'],
    ]);
    assert.deepEqual(await logins.added(), { refused: 1, success: 1 });
  });
});
