import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLoginLimiter, encodePlainResponse, LoginPolicy } from '@correo/auth';
import { createPostgresDirectory } from '@correo/directory';
import { createMemoryLimits, MemoryLimitsState } from '@correo/limits';
import { createPool, migrate, type Pool } from '@correo/store';
import { LineClient, pythonSmtp, startPrivatePostgres, type PrivatePostgres } from '@correo/testkit';
import type { SmtpIngress } from '../src/index.js';
import {
  PASSWORD,
  USER,
  provisionDirectory,
  startIngressFixture,
  type IngressFixture,
} from './support/ingress-fixture.js';

const AUTH_OK: [number, string] = [235, '2.7.0 Authentication successful'];

describe('AUTH while the directory is down', () => {
  let fixture: IngressFixture;
  let directoryDb: PrivatePostgres;
  let directoryPool: Pool;
  let ingress: SmtpIngress;

  before(async () => {
    fixture = await startIngressFixture();
    // The directory on a PostgreSQL of this test's own, which it stops and starts (the shared one never goes down).
    directoryDb = await startPrivatePostgres();
    await migrate(directoryDb.url);
    directoryPool = createPool(directoryDb.url, { max: 2 });
    await provisionDirectory(directoryPool);
    // Two wrong passwords lock a login: a backend failure counted as one would lock the user out.
    const limits = createMemoryLimits({ state: new MemoryLimitsState() });
    ingress = await fixture.startIngress({
      directory: createPostgresDirectory(directoryPool),
      limits,
      loginPolicy: new LoginPolicy(createLoginLimiter(limits, { freeFailures: 10, loginLockAfter: 2 })),
    });
  });
  after(async () => {
    await ingress?.close();
    await directoryPool?.end();
    await directoryDb?.close();
    await fixture?.stop();
  });

  const login = () =>
    pythonSmtp({
      host: '127.0.0.1',
      port: ingress.ports.submissions,
      mode: 'ssl',
      commands: [`AUTH PLAIN ${encodePlainResponse(USER, PASSWORD)}`],
    });

  test('smtplib: 454 4.7.0 while it is down (not 535: the password was never judged), accepted once it is back', async () => {
    assert.deepEqual((await login()).replies, [AUTH_OK], 'the directory answers');

    await directoryDb.stop();
    const down: [number, string] = [454, '4.7.0 Temporary authentication failure, please try again later'];
    assert.deepEqual((await login()).replies, [down]);
    assert.deepEqual((await login()).replies, [down], 'a retry while it is down gets the same');

    await directoryDb.start();
    // Not locked out: the two tempfailed attempts were not counted as wrong passwords.
    assert.deepEqual((await login()).replies, [AUTH_OK]);
  });
});

describe('commands without AUTH on submission', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture();
  });
  after(() => fixture?.stop());

  test('the tenth command without AUTH is answered 421 and the connection is closed', async () => {
    const session = await LineClient.openSmtp(fixture.ingress.ports.submission);
    try {
      assert.match(await session.askSmtp('EHLO idler.test'), /^250-mx\.local\.test /);
      for (let i = 2; i < 10; i++)
        assert.equal(await session.askSmtp('NOOP'), '250 2.0.0 OK', `command ${i}`);
      // smtp-server's limit (maxAllowedUnauthenticatedCommands, 10): a client that never logs in
      // cannot hold a submission slot by chatting.
      assert.equal(await session.askSmtp('NOOP'), '421 4.4.2 Error: too many unauthenticated commands');
      assert.ok(await session.closedWithin(), 'closed after the 421');
    } finally {
      session.destroy();
    }
  });
});
