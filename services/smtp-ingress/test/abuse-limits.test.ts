import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Limits } from '@correo/limits';
import { encodeProxyHeader } from '@correo/line-server';
import { listDecisions } from '@correo/store';
import { CounterWatch, LineClient, uniqueName } from '@correo/testkit';
import { ingressMetrics } from '../src/metrics.js';
import type { SmtpIngress } from '../src/index.js';
import { PASSWORD, USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';

const listener = { address: '127.0.0.1', port: 25 };
const GREETING = '220 mx.local.test ESMTP correo';

/**
 * Rate limits of smtp-ingress (docs/spam.md) through the limits port: two ingress "pods" over one
 * Redis (a key prefix of this file's own) count one client, or one /24, together. Each limit is hit
 * and then recovered by ending its window (the counter reset, as its expiry would), without sleeps.
 */
describe('smtp-ingress: rate limits per address, per /24 and per account across two pods sharing Redis', () => {
  let fixture: IngressFixture;
  const keyPrefix = `${uniqueName('smtp-abuse')}:`;
  const sessions: LineClient[] = [];

  before(async () => {
    fixture = await startIngressFixture({ kind: 'embedded' });
  });
  after(async () => {
    for (const session of sessions) session.destroy();
    await fixture?.stop();
  });

  /** Two pods over one Redis; the limits client of the first, to end a window. */
  async function pods(
    env: Record<string, string>,
  ): Promise<{ a: SmtpIngress; b: SmtpIngress; limits: Limits }> {
    const podEnv = { SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true', ...env };
    const proxied = { trustedProxies: ['127.0.0.0/8'] };
    const a = await fixture.startRedisPod(keyPrefix, podEnv, proxied);
    const b = await fixture.startRedisPod(keyPrefix, podEnv, proxied);
    return { a: a.ingress, b: b.ingress, limits: a.limits };
  }

  async function open(port: number, client: string): Promise<LineClient> {
    const header = encodeProxyHeader(2, { address: client, port: 40000 }, listener);
    const session = await LineClient.openSmtp(port, { preface: header });
    sessions.push(session);
    return session;
  }

  test('connections per address per minute (SMTP_CONNECTIONS_PER_IP_PER_MINUTE): counted in Redis across pods, 421 4.7.0 on either, until the window ends', async () => {
    const { a, b, limits } = await pods({ SMTP_CONNECTIONS_PER_IP_PER_MINUTE: '3' });
    const hits = await CounterWatch.start(ingressMetrics.limitHits, 'limit');
    const client = '203.0.113.40';
    // Two on one pod, one on the other: only a count both pods share refuses the fourth.
    for (const pod of [a, a, b]) assert.equal((await open(pod.ports.mx, client)).greeting, GREETING);
    for (const pod of [b, a]) {
      const refused = await open(pod.ports.mx, client);
      assert.equal(refused.greeting, '421 4.7.0 Too many connections from your address, try again later');
      assert.ok(await refused.closedWithin());
    }
    assert.equal(
      (await open(b.ports.mx, '203.0.113.41')).greeting,
      GREETING,
      'another address has its own count',
    );
    assert.deepEqual(await hits.added(), { 'ip-connections-minute': 2 });

    await Promise.all([a.flushDecisions(), b.flushDecisions()]);
    const recorded = await listDecisions(fixture.pool, { tenantId: null }, { clientIp: client, limit: 10 });
    assert.deepEqual(
      recorded.map((d) => [d.stage, d.outcome, d.reason]),
      [
        ['connect', 'tempfailed', 'limit:ip-connections-minute'],
        ['connect', 'tempfailed', 'limit:ip-connections-minute'],
      ],
    );

    // The window ends (what its expiry does): the address is admitted again, on either pod.
    await limits.reset(`smtp:connections:${client}`);
    assert.equal((await open(b.ports.mx, client)).greeting, GREETING);
  });

  test('connections per /24 per minute: the fourth from the network is refused 421 4.7.0 on either pod, until the window ends', async () => {
    const { a, b, limits } = await pods({ SMTP_CONNECTIONS_PER_BLOCK_PER_MINUTE: '3' });
    const hits = await CounterWatch.start(ingressMetrics.limitHits, 'limit');
    assert.match((await open(a.ports.mx, '198.51.100.1')).greeting, /^220 /);
    assert.match((await open(b.ports.mx, '198.51.100.2')).greeting, /^220 /);
    assert.match((await open(a.ports.mx, '198.51.100.3')).greeting, /^220 /);
    for (const pod of [a, b]) {
      const refused = await open(pod.ports.mx, '198.51.100.4');
      assert.equal(refused.greeting, '421 4.7.0 Too many connections from your network, try again later');
      assert.ok(await refused.closedWithin());
    }
    assert.match((await open(b.ports.mx, '198.51.101.1')).greeting, /^220 /, 'another /24 has its own count');
    assert.deepEqual(await hits.added(), { 'block-connections-minute': 2 });

    // The refusal is a recorded decision with its reason.
    await Promise.all([a.flushDecisions(), b.flushDecisions()]);
    const recorded = await listDecisions(
      fixture.pool,
      { tenantId: null },
      { clientIp: '198.51.100.4', limit: 10 },
    );
    assert.deepEqual(
      recorded.map((d) => [d.stage, d.outcome, d.reason]),
      [
        ['connect', 'tempfailed', 'limit:block-connections-minute'],
        ['connect', 'tempfailed', 'limit:block-connections-minute'],
      ],
    );

    // The window ends (what its expiry does): the network is admitted again.
    await limits.reset('smtp:connections:198.51.100.0/24');
    assert.match((await open(b.ports.mx, '198.51.100.4')).greeting, /^220 /);
  });

  test('messages per address per minute: the third MAIL FROM gets 451 4.7.1 on either pod, until the window ends', async () => {
    const { a, b, limits } = await pods({ SMTP_MESSAGES_PER_IP_PER_MINUTE: '2' });
    const client = '203.0.113.21';
    const first = await open(a.ports.mx, client);
    assert.match(await first.askSmtp('EHLO mail.sender.test'), /^250/);
    assert.match(await first.askSmtp('MAIL FROM:<a@sender.test>'), /^250 /);
    assert.match(await first.askSmtp('RSET'), /^250 /);
    const second = await open(b.ports.mx, client);
    assert.match(await second.askSmtp('EHLO mail.sender.test'), /^250/);
    assert.match(await second.askSmtp('MAIL FROM:<b@sender.test>'), /^250 /);
    assert.equal(
      await first.askSmtp('MAIL FROM:<a@sender.test>'),
      '451 4.7.1 Too many messages from your address, try again later',
    );
    assert.match(await second.askSmtp('RSET'), /^250 /);
    assert.equal(
      await second.askSmtp('MAIL FROM:<b@sender.test>'),
      '451 4.7.1 Too many messages from your address, try again later',
    );
    const other = await open(a.ports.mx, '203.0.113.22');
    assert.match(await other.askSmtp('EHLO mail.sender.test'), /^250/);
    assert.match(
      await other.askSmtp('MAIL FROM:<c@sender.test>'),
      /^250 /,
      'another address has its own count',
    );

    await Promise.all([a.flushDecisions(), b.flushDecisions()]);
    const [decision] = await listDecisions(fixture.pool, { tenantId: null }, { clientIp: client, limit: 1 });
    assert.equal(decision?.stage, 'mail');
    assert.equal(decision?.reason, 'limit:ip-messages-minute');
    assert.equal(decision?.mailFrom, 'b@sender.test');
    assert.equal(decision?.helo, 'mail.sender.test');

    await limits.reset(`smtp:messages:${client}`);
    assert.match(await first.askSmtp('MAIL FROM:<a@sender.test>'), /^250 /, 'recovered when the window ends');
  });

  test('recipients per authenticated account per hour: 452 4.5.3 across pods, until the window ends', async () => {
    const { a, b, limits } = await pods({ SMTP_RECIPIENTS_PER_ACCOUNT_PER_HOUR: '3' });
    const login = async (port: number) => {
      // A loopback client on submission: AUTH PLAIN without TLS under the embedded allowance.
      const session = await open(port, '127.0.0.9');
      assert.match(await session.askSmtp('EHLO client.test'), /^250/);
      const token = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');
      assert.match(await session.askSmtp(`AUTH PLAIN ${token}`), /^235 /);
      assert.match(await session.askSmtp(`MAIL FROM:<${USER}>`), /^250 /);
      return session;
    };
    const one = await login(a.ports.submission);
    assert.match(await one.askSmtp('RCPT TO:<x1@remote.test>'), /^250 /);
    assert.match(await one.askSmtp('RCPT TO:<x2@remote.test>'), /^250 /);
    assert.match(
      await one.askSmtp('RCPT TO:<x2@remote.test>'),
      /^250 /,
      'a repeated recipient is not counted again',
    );
    const two = await login(b.ports.submission);
    assert.match(await two.askSmtp('RCPT TO:<x3@remote.test>'), /^250 /);
    assert.equal(
      await two.askSmtp('RCPT TO:<x4@remote.test>'),
      '452 4.5.3 Too many recipients from this account this hour, try again later',
    );
    const [account] = (
      await fixture.pool.query<{ id: string }>('SELECT id::text FROM accounts WHERE address = $1', [USER])
    ).rows;
    await limits.reset(`smtp:recipients-hour:${account!.id}`);
    assert.match(await two.askSmtp('RCPT TO:<x4@remote.test>'), /^250 /, 'recovered when the window ends');
  });

  test('refusals recorded per address are capped; the metric counts every one', async () => {
    const { a } = await pods({ SMTP_DECISIONS_PER_IP_PER_MINUTE: '2' });
    const client = '192.0.2.77';
    const watch = await CounterWatch.start(ingressMetrics.decisions, 'reason', { listener: 'mx' });
    const session = await open(a.ports.mx, client);
    assert.match(await session.askSmtp('EHLO flood.test'), /^250/);
    assert.match(await session.askSmtp('MAIL FROM:<f@flood.test>'), /^250 /);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        await session.askSmtp(`RCPT TO:<nobody${i}@local.test>`),
        '550 5.1.1 Recipient address rejected: no such user here',
      );
    }
    assert.deepEqual(await watch.added(), { unknown_user: 5 });
    await a.flushDecisions();
    const recorded = await listDecisions(fixture.pool, { tenantId: null }, { clientIp: client, limit: 10 });
    assert.equal(recorded.length, 2, 'two rows, not five');
    assert.deepEqual(recorded.map((d) => d.recipients).sort(), [
      ['nobody0@local.test'],
      ['nobody1@local.test'],
    ]);
  });
});
