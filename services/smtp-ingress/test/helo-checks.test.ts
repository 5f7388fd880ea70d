import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeProxyHeader } from '@correo/line-server';
import { listDecisions } from '@correo/store';
import { eventually, LineClient } from '@correo/testkit';
import { checkHelo } from '../src/helo-checks.js';
import { USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';

const listener = { address: '127.0.0.1', port: 25 };

/**
 * HELO and reverse-DNS sanity as a score, never a refusal (docs/spam.md): the findings reach the
 * stored message as X-Correo-Sender-Checks and the session's sender checks (the spam verdict's input).
 */
describe('smtp-ingress: HELO and reverse-DNS checks', () => {
  let fixture: IngressFixture;
  const sessions: LineClient[] = [];

  before(async () => {
    fixture = await startIngressFixture({
      trustedProxies: ['127.0.0.0/8'],
      zone: {
        // 203.0.113.8: forward-confirmed.
        '8.113.0.203.in-addr.arpa': { PTR: ['mail.good.test'] },
        'mail.good.test': { A: ['203.0.113.8'] },
        // 203.0.113.9: a PTR whose name points elsewhere.
        '9.113.0.203.in-addr.arpa': { PTR: ['liar.test'] },
        'liar.test': { A: ['198.51.100.1'] },
        // 203.0.113.7: no PTR at all (NXDOMAIN).
      },
    });
  });
  after(async () => {
    for (const session of sessions) session.destroy();
    await fixture?.stop();
  });

  /** One message from `client` saying `helo`: the stored bytes. */
  async function deliver(client: string, helo: string, headers = ''): Promise<string> {
    const header = encodeProxyHeader(2, { address: client, port: 40000 }, listener);
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx, { preface: header });
    sessions.push(session);
    assert.match(session.greeting, /^220 /);
    assert.match(await session.askSmtp(`EHLO ${helo}`), /^250/);
    assert.match(
      await session.askSmtp('MAIL FROM:<someone@sender.test>'),
      /^250 /,
      'a score, never a refusal',
    );
    assert.match(await session.askSmtp(`RCPT TO:<${USER}>`), /^250 /);
    assert.match(await session.askSmtp('DATA'), /^354 /);
    const reply = await session.askSmtp(`${headers}Subject: from ${helo}\r\n\r\nhello\r\n.`);
    const id = /queued as (\S+)/.exec(reply)?.[1];
    assert.ok(id, reply);
    await eventually('the message to be published', () => fixture.events.some((e) => e.event.eventId === id));
    return (await fixture.storedBytes(fixture.events.find((e) => e.event.eventId === id)!.event)).toString();
  }

  const checksHeader = (stored: string) => /^X-Correo-Sender-Checks: (.*)\r$/m.exec(stored)?.[1];

  test('no PTR and a HELO that is no domain name: RDNS_NONE and HELO_NOT_FQDN, the message is accepted', async () => {
    const stored = await deliver('203.0.113.7', 'bogus');
    assert.equal(checksHeader(stored), 'score=2.0; HELO_NOT_FQDN=1.0 RDNS_NONE=1.0');
  });

  test('a forward-confirmed PTR and a matching HELO: no findings, no header', async () => {
    const stored = await deliver('203.0.113.8', 'mail.good.test');
    assert.equal(checksHeader(stored), undefined);
  });

  test('a PTR not confirming, an address literal of another host: RDNS_NOT_FCRDNS and HELO_IP_MISMATCH', async () => {
    const stored = await deliver('203.0.113.9', '[198.51.100.200]');
    assert.equal(checksHeader(stored), 'score=3.0; HELO_IP_MISMATCH=2.0 RDNS_NOT_FCRDNS=1.0');
  });

  test('a HELO claiming our own name: HELO_OURS; the score is part of a recorded refusal', async () => {
    const stored = await deliver('203.0.113.8', 'mx.local.test');
    assert.equal(checksHeader(stored), 'score=3.0; HELO_OURS=3.0');
    const hosted = await deliver('203.0.113.8', 'local.test');
    assert.equal(checksHeader(hosted), 'score=3.0; HELO_OURS=3.0', 'one of our domains');

    const header = encodeProxyHeader(2, { address: '203.0.113.7', port: 40001 }, listener);
    const session = await LineClient.openSmtp(fixture.ingress.ports.mx, { preface: header });
    sessions.push(session);
    assert.match(await session.askSmtp('EHLO localhost'), /^250/);
    assert.match(await session.askSmtp('MAIL FROM:<x@sender.test>'), /^250 /);
    assert.equal(
      await session.askSmtp('RCPT TO:<nobody@local.test>'),
      '550 5.1.1 Recipient address rejected: no such user here',
    );
    await fixture.ingress.flushDecisions();
    const [decision] = await listDecisions(
      fixture.pool,
      { tenantId: null },
      { recipient: 'nobody@local.test', limit: 1 },
    );
    assert.equal(decision?.reason, 'unknown_user');
    assert.deepEqual(decision?.symbols, { HELO_OURS: 3, HELO_NOT_FQDN: 1, RDNS_NONE: 1 });
    assert.equal(decision?.score, 5);
  });

  test("a client's own X-Correo-Sender-Checks is removed: only ours can be read", async () => {
    const forged = 'X-Correo-Sender-Checks: score=0.0; ALL_GOOD=0.0\r\n';
    const clean = await deliver('203.0.113.8', 'mail.good.test', forged);
    assert.doesNotMatch(clean, /X-Correo-Sender-Checks/i, 'no findings: no header at all');
    const flagged = await deliver('203.0.113.7', 'bogus', forged.toLowerCase());
    assert.deepEqual(flagged.match(/^x-correo-sender-checks:[^\r\n]*/gim), [
      'X-Correo-Sender-Checks: score=2.0; HELO_NOT_FQDN=1.0 RDNS_NONE=1.0',
    ]);
  });

  test('checkHelo on its own', () => {
    const symbols = (helo: string, ip = '192.0.2.1') =>
      checkHelo(helo, ip, 'mx.example').map((c) => c.symbol);
    assert.deepEqual(symbols('mail.example.org'), []);
    assert.deepEqual(symbols('[192.0.2.1]'), []);
    assert.deepEqual(symbols('[IPv6:2001:db8::1]', '2001:db8::1'), []);
    assert.deepEqual(symbols('[IPv6:2001:db8::2]', '2001:db8::1'), ['HELO_IP_MISMATCH']);
    assert.deepEqual(symbols('192.0.2.1'), ['HELO_NOT_FQDN']);
    assert.deepEqual(symbols('MX.EXAMPLE'), ['HELO_OURS']);
    assert.deepEqual(
      checkHelo('example.net', '192.0.2.1', 'mx.example', true).map((c) => c.symbol),
      ['HELO_OURS'],
    );
    assert.deepEqual(symbols('localhost'), ['HELO_OURS', 'HELO_NOT_FQDN']);
    assert.deepEqual(symbols('under_score.example'), ['HELO_NOT_FQDN']);
    assert.deepEqual(symbols('x'.repeat(300)), ['HELO_NOT_FQDN']);
  });
});
