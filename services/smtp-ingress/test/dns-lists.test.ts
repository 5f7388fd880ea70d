import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '@correo/config';
import { encodeProxyHeader } from '@correo/line-server';
import { listDecisions } from '@correo/store';
import { CounterWatch, eventually, LineClient, startDnsServer, type TestDnsServer } from '@correo/testkit';
import { reversedAddress } from '../src/dns-lists.js';
import { ingressMetrics } from '../src/metrics.js';
import { smtpIngressSection, type SmtpIngress } from '../src/index.js';
import { USER, startIngressFixture, testEnv, type IngressFixture } from './support/ingress-fixture.js';

const listener = { address: '127.0.0.1', port: 25 };
const LISTED = '192.0.2.99';
const ALLOWED = '192.0.2.100';
const CLEAN = '192.0.2.101';
const REFUSED_QUERY = '192.0.2.102';

/**
 * DNSBL/DNSWL at connect (docs/spam.md) against the loopback DNS server, which serves the lists'
 * 127.0.0.x answers: a listed client is refused 554 5.7.1 naming the zone (or scored), a DNSWL
 * listing skips greylisting and outweighs a block list, and a DNS failure never refuses anyone.
 */
describe('smtp-ingress: DNS block and allow lists', () => {
  let fixture: IngressFixture;
  const started: SmtpIngress[] = [];
  const sessions: LineClient[] = [];
  let deadDns: TestDnsServer | undefined;

  before(async () => {
    fixture = await startIngressFixture({
      trustedProxies: ['127.0.0.0/8'],
      env: {
        SMTP_DNSBL_ZONES: 'bl.test,other-bl.test',
        SMTP_DNSWL_ZONES: 'wl.test',
        SMTP_GREYLISTING: 'true',
      },
      zone: {
        [`${reversedAddress(LISTED)}.bl.test`]: { A: ['127.0.0.2'] },
        [`${reversedAddress(LISTED)}.other-bl.test`]: { A: ['127.0.0.4'] },
        [`${reversedAddress(ALLOWED)}.wl.test`]: { A: ['127.0.10.1'] },
        [`${reversedAddress(ALLOWED)}.bl.test`]: { A: ['127.0.0.2'] },
        // Spamhaus's "query refused" code: a failure, not a listing.
        [`${reversedAddress(REFUSED_QUERY)}.bl.test`]: { A: ['127.255.255.254'] },
      },
    });
  });
  after(async () => {
    for (const session of sessions) session.destroy();
    await Promise.all(started.map((ingress) => ingress.close()));
    await deadDns?.close();
    await fixture?.stop();
  });

  async function open(port: number, client: string): Promise<LineClient> {
    const header = encodeProxyHeader(2, { address: client, port: 40000 }, listener);
    const session = await LineClient.openSmtp(port, { preface: header });
    sessions.push(session);
    return session;
  }

  async function ingressWith(env: Record<string, string>): Promise<SmtpIngress> {
    const config = loadConfig(testEnv({ SMTP_DNS_SERVERS: fixture.dns.address, ...env }), {
      smtp: smtpIngressSection,
    }).smtp;
    const ingress = await fixture.startIngress({ config, trustedProxies: ['127.0.0.0/8'] });
    started.push(ingress);
    return ingress;
  }

  test('the reversed address of IPv4 and IPv6 clients (RFC 5782)', () => {
    assert.equal(reversedAddress('192.0.2.99'), '99.2.0.192');
    assert.equal(reversedAddress('::ffff:192.0.2.99'), '99.2.0.192');
    assert.equal(
      reversedAddress('2001:db8::1'),
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2',
    );
    assert.equal(reversedAddress('not an address'), undefined);
  });

  test('a listed client is refused 554 5.7.1 naming the first zone; the refusal is recorded', async () => {
    const hits = await CounterWatch.start(ingressMetrics.dnsListHits, 'zone', { kind: 'block' });
    const refused = await open(fixture.ingress.ports.mx, LISTED);
    assert.equal(
      refused.greeting,
      '554 5.7.1 Service unavailable; client [192.0.2.99] blocked using bl.test',
    );
    assert.ok(await refused.closedWithin());
    assert.deepEqual(await hits.added(), { 'bl.test': 1, 'other-bl.test': 1 });
    await fixture.ingress.flushDecisions();
    const [decision] = await listDecisions(fixture.pool, { tenantId: null }, { clientIp: LISTED, limit: 1 });
    assert.deepEqual(
      [decision?.stage, decision?.outcome, decision?.reason],
      ['connect', 'rejected', 'dnsbl'],
    );
  });

  test('a DNSWL listing outweighs the block list and skips greylisting; an unlisted client is greylisted', async () => {
    const allowed = await open(fixture.ingress.ports.mx, ALLOWED);
    assert.match(allowed.greeting, /^220 /);
    assert.match(await allowed.askSmtp('EHLO mail.allowed.test'), /^250/);
    assert.match(await allowed.askSmtp('MAIL FROM:<a@allowed.test>'), /^250 /);
    assert.match(await allowed.askSmtp(`RCPT TO:<${USER}>`), /^250 /, 'not greylisted');

    const clean = await open(fixture.ingress.ports.mx, CLEAN);
    assert.match(clean.greeting, /^220 /);
    assert.match(await clean.askSmtp('EHLO mail.clean.test'), /^250/);
    assert.match(await clean.askSmtp('MAIL FROM:<a@clean.test>'), /^250 /);
    assert.match(await clean.askSmtp(`RCPT TO:<${USER}>`), /^451 4\.7\.1 Greylisted/);
  });

  test('score mode: the listed client is let in and the listing becomes a sender-check symbol in the stored message', async () => {
    const scoring = await ingressWith({
      SMTP_DNSBL_ZONES: 'bl.test',
      SMTP_DNSBL_MODE: 'score',
      SMTP_DNSBL_SCORE: '4',
    });
    const session = await open(scoring.ports.mx, LISTED);
    assert.match(session.greeting, /^220 /);
    assert.match(await session.askSmtp('EHLO mail.listed.test'), /^250/);
    assert.match(await session.askSmtp('MAIL FROM:<a@listed.test>'), /^250 /);
    assert.match(await session.askSmtp(`RCPT TO:<${USER}>`), /^250 /);
    assert.match(await session.askSmtp('DATA'), /^354 /);
    const reply = await session.askSmtp('Subject: scored\r\n\r\nhello\r\n.');
    const id = /queued as (\S+)/.exec(reply)?.[1];
    assert.ok(id, reply);
    await eventually('the message to be published', () => fixture.events.some((e) => e.event.eventId === id));
    const { event } = fixture.events.find((e) => e.event.eventId === id)!;
    const stored = (await fixture.storedBytes(event)).toString();
    assert.match(stored, /^X-Correo-Sender-Checks: score=[\d.]+; .*RBL_bl\.test=4\.0/m);
  });

  test('DNS failures never refuse: a refused query and an unreachable resolver let the client in, counted', async () => {
    const failures = await CounterWatch.start(ingressMetrics.checkFailures, 'check');
    const refusedQuery = await open(fixture.ingress.ports.mx, REFUSED_QUERY);
    assert.match(refusedQuery.greeting, /^220 /);

    // A resolver that never answers (closed at once): every lookup times out.
    deadDns = await startDnsServer();
    const deadAddress = deadDns.address;
    await deadDns.close();
    deadDns = undefined;
    const blind = await ingressWith({
      SMTP_DNSBL_ZONES: 'bl.test',
      SMTP_DNS_SERVERS: deadAddress,
      SMTP_DNS_TIMEOUT_MS: '200',
    });
    const session = await open(blind.ports.mx, LISTED);
    assert.match(session.greeting, /^220 /, 'a listed client is let in when the list cannot be asked');
    assert.ok(((await failures.added())['dns-list'] ?? 0) >= 2);
  });
});
