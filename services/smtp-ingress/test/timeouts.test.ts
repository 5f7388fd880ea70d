import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { LineClient } from '@correo/testkit';

describe('idle and session time limits', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({
      env: { SMTP_IDLE_TIMEOUT_MS: '400', SMTP_SESSION_TIMEOUT_MS: '1500' },
    });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('a silent client is told 421 4.4.2 and disconnected', async () => {
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
    try {
      assert.equal(await session.readReply(), '421 4.4.2 Timeout - closing connection');
      assert.ok(await session.closedWithin());
    } finally {
      session.destroy();
    }
  });

  test('a client that keeps the session alive forever is cut at the session limit', async () => {
    // On MX: submission ports cut unauthenticated sessions after 10 commands anyway.
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
    try {
      let reply = '';
      // NOOP well within the idle limit, until the session limit answers instead.
      for (let i = 0; i < 100 && !reply.startsWith('421'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        reply = await session.askSmtp('NOOP');
      }
      assert.equal(reply, '421 4.4.2 Session time limit exceeded, closing');
      assert.ok(await session.closedWithin());
    } finally {
      session.destroy();
    }
  });
});

describe('minimum DATA transfer rate (slowloris)', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({
      env: { SMTP_MIN_TRANSFER_RATE: '10000', SMTP_TRANSFER_RATE_WINDOW_MS: '300' },
    });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('DATA trickling below the minimum rate is told 421 4.4.2 and disconnected', async () => {
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx);
    try {
      assert.match(await session.askSmtp('EHLO slow.test'), /^250/);
      assert.match(await session.askSmtp('MAIL FROM:<a@remote.test>'), /^250/);
      assert.match(await session.askSmtp(`RCPT TO:<${USER}>`), /^250/);
      assert.match(await session.askSmtp('DATA'), /^354/);
      session.write('Subject: slow\r\n');
      assert.equal(await session.readReply(), '421 4.4.2 Data arrives too slowly, closing');
      assert.ok(await session.closedWithin());
    } finally {
      session.destroy();
    }
  });
});
