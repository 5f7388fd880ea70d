import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { loadConfig } from '@correo/config';
import { encodeProxyHeader } from '@correo/line-server';
import { listDecisions, putDomainSpamSettings } from '@correo/store';
import { CounterWatch, LineClient, freePort, testRspamd, uniqueName } from '@correo/testkit';
import { smtpIngressSection, type SmtpIngress } from '../src/index.js';
import { ingressMetrics } from '../src/metrics.js';
import {
  LOCAL_DOMAIN,
  OTHER_USER,
  USER,
  startIngressFixture,
  swaksMessage,
  testEnv,
  type IngressFixture,
} from './support/ingress-fixture.js';

// Rspamd from Debian (scripts/backends/rspamd.sh): its test config adds CORREO_TEST_SCORE (the
// X-Correo-Test-Score header scores its value) and CORREO_TEST_ACTION (forces an action).
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

function message(
  subject: string,
  extraHeaders = '',
  body = 'Hola, quedamos el viernes a las doce en la plaza.',
) {
  return (
    `From: Ana <ana@remote.example>\r\nTo: ${USER}\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${uniqueName('spam')}@remote.example>\r\nDate: Sat, 05 Dec 2026 01:00:00 +0000\r\n` +
    `${extraHeaders}\r\n${body}\r\n`
  );
}

function sendMx(
  fixture: IngressFixture,
  ingress: SmtpIngress,
  message: string,
  to: string[] = [USER],
  listener: 'mx' | 'submission' = 'mx',
) {
  return swaksMessage(fixture, {
    ingress,
    listener,
    name: uniqueName('msg'),
    message,
    from: listener === 'submission' ? USER : 'ana@remote.example',
    to: to.join(','),
  });
}

/** The event published after the first `before` ones. */
async function eventAfter(fixture: IngressFixture, before: number) {
  const published = await fixture.waitForEvents(before + 1);
  return published[before]!.event;
}

const verdicts = () => CounterWatch.start(ingressMetrics.spamVerdicts, 'action');

describe('smtp-ingress asks Rspamd after DATA (RSPAMD_URL)', () => {
  let fixture: IngressFixture;
  before(async () => {
    fixture = await startIngressFixture({ env: { RSPAMD_URL: testRspamd().url } });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('GTUBE is refused with 550 5.7.1: nothing published, nothing left in the spool', async () => {
    const watch = await verdicts();
    const before = fixture.events.length;
    const run = await sendMx(fixture, fixture.ingress, message('gtube', '', GTUBE));
    assert.notEqual(run.exitCode, 0, run.output);
    assert.ok(run.replies.includes('550 5.7.1 Message rejected as spam'), run.output);
    assert.deepEqual(await watch.added(), { reject: 1 });
    const spooled = (await readdir(fixture.dataDir)).filter((name) => name.startsWith('correo-spool-'));
    assert.deepEqual(spooled, []);
    // Why, for the operator (GET /v1/decisions): the spam refusal with Rspamd's score.
    await fixture.ingress.flushDecisions();
    const [decision] = await listDecisions(fixture.pool, { tenantId: null }, { recipient: USER, limit: 1 });
    assert.equal(decision?.stage, 'data');
    assert.equal(decision?.outcome, 'rejected');
    assert.equal(decision?.reason, 'spam');
    assert.equal(decision?.score, 15);
    // Last: the marker this sends is a decision of its own.
    await fixture.expectNothingPublishedSince(before);
  });

  test("a ham message is accepted with our X-Spam headers; the client's forged ones are gone", async () => {
    const watch = await verdicts();
    const before = fixture.events.length;
    const run = await sendMx(
      fixture,
      fixture.ingress,
      message('lunch', 'X-Spam-Status: No, score=-100 forged\r\nX-Spam-Score: -100\r\n'),
    );
    assert.equal(run.exitCode, 0, run.output);
    const event = await eventAfter(fixture, before);
    assert.equal(event.spam?.status, 'checked');
    assert.equal(event.spam?.action, 'no action');
    assert.ok(event.spam!.score < 6, `score ${event.spam!.score}`);
    assert.equal(event.spam?.rejectScore, 15);
    assert.deepEqual(event.spam?.junkRecipients, []);
    const stored = (await fixture.storedBytes(event)).toString('latin1');
    const header = stored.slice(0, stored.indexOf('\r\n\r\n'));
    assert.match(header, /^X-Spam-Status: No, score=-?\d+\.\d\d required=15\.00 action=no_action/m);
    assert.match(header, /^X-Spam-Score: -?\d+\.\d\d\r$/m);
    assert.doesNotMatch(header, /-100/, 'the forged verdict is removed');
    assert.equal(header.match(/^X-Spam-Status:/gim)?.length, 1);
    assert.deepEqual(await watch.added(), { accept: 1 });
  });

  test('a score over the Junk threshold rides in the event for the mda to file into Junk', async () => {
    const watch = await verdicts();
    const before = fixture.events.length;
    const run = await sendMx(fixture, fixture.ingress, message('offer', 'X-Correo-Test-Score: 10\r\n'));
    assert.equal(run.exitCode, 0, run.output);
    const event = await eventAfter(fixture, before);
    // Rspamd's Bayes (trained by other tests) may move it a little either way: still in [6, 15).
    assert.ok(event.spam!.score >= 6 && event.spam!.score < 15, `score ${event.spam!.score}`);
    assert.deepEqual(event.spam?.junkRecipients, [USER]);
    assert.ok(event.spam?.symbols.some((symbol) => symbol === 'CORREO_TEST_SCORE(10)'));
    const stored = (await fixture.storedBytes(event)).toString('latin1');
    assert.match(stored, /^X-Spam-Status: Yes, score=\d+\.\d\d .*tests=.*CORREO_TEST_SCORE\(10\)/m);
    assert.match(stored, /^X-Spam-Flag: YES\r$/m);
    assert.deepEqual(await watch.added(), { junk: 1 });
    await fixture.ingress.flushDecisions();
    const [decision] = await listDecisions(
      fixture.pool,
      { tenantId: null },
      { eventId: event.eventId, limit: 1 },
    );
    assert.equal(decision?.outcome, 'junk');
    assert.equal(decision?.reason, 'spam-score');
    assert.equal(decision?.score, event.spam!.score);
    assert.equal(decision?.symbols.CORREO_TEST_SCORE, 10);
  });

  test("the recipient domain's own thresholds change the outcome", async () => {
    const { rows } = await fixture.pool.query<{ id: string }>('SELECT id FROM domains WHERE name = $1', [
      LOCAL_DOMAIN,
    ]);
    const domainId = rows[0]!.id;
    try {
      // Stricter: this domain rejects from 5 (Rspamd alone would only add a header at about 10).
      await putDomainSpamSettings(fixture.pool, domainId, { rejectScore: 5 });
      const rejected = await sendMx(
        fixture,
        fixture.ingress,
        message('strict', 'X-Correo-Test-Score: 10\r\n'),
      );
      assert.ok(rejected.replies.includes('550 5.7.1 Message rejected as spam'), rejected.output);

      // More lenient: Junk only from 20, so the same message goes to the inbox.
      await putDomainSpamSettings(fixture.pool, domainId, { junkScore: 20 });
      const before = fixture.events.length;
      const run = await sendMx(fixture, fixture.ingress, message('lenient', 'X-Correo-Test-Score: 10\r\n'));
      assert.equal(run.exitCode, 0, run.output);
      const event = await eventAfter(fixture, before);
      assert.deepEqual(event.spam?.junkRecipients, []);
    } finally {
      await putDomainSpamSettings(fixture.pool, domainId, {});
    }
  });

  test("Rspamd's soft reject is 451 4.7.1 and nothing is published", async () => {
    const before = fixture.events.length;
    const run = await sendMx(
      fixture,
      fixture.ingress,
      message('later', 'X-Correo-Test-Action: soft reject\r\n'),
    );
    assert.ok(
      run.replies.includes('451 4.7.1 Message deferred by the spam filter, try again later'),
      run.output,
    );
    await fixture.ingress.flushDecisions();
    const [decision] = await listDecisions(fixture.pool, { tenantId: null }, { recipient: USER, limit: 1 });
    assert.equal(decision?.outcome, 'tempfailed');
    assert.equal(decision?.reason, 'spam_deferred');
    // Last: the marker this sends is a decision of its own.
    await fixture.expectNothingPublishedSince(before);
  });

  test("the session's sender checks (HELO, rDNS) add to Rspamd's score in one verdict", async () => {
    const env = testEnv({ RSPAMD_URL: testRspamd().url, SMTP_DNS_SERVERS: fixture.dns.address });
    const ingress = await fixture.startIngress({
      config: loadConfig(env, { smtp: smtpIngressSection }).smtp,
      trustedProxies: ['127.0.0.0/8'],
    });
    const session = await LineClient.openSmtp(ingress.ports.mx, {
      // 203.0.113.7 has no PTR in the test zone, and "bogus" is no domain name: 1 + 1.
      preface: encodeProxyHeader(
        2,
        { address: '203.0.113.7', port: 40000 },
        { address: '127.0.0.1', port: 25 },
      ),
    });
    try {
      const before = fixture.events.length;
      assert.match(await session.askSmtp('EHLO bogus'), /^250/);
      assert.match(await session.askSmtp('MAIL FROM:<ana@remote.example>'), /^250 /);
      assert.match(await session.askSmtp(`RCPT TO:<${USER}>`), /^250 /);
      assert.match(await session.askSmtp('DATA'), /^354 /);
      const reply = await session.askSmtp(`${message('checks').replace(/\r\n$/, '')}\r\n.`);
      assert.match(reply, /^250 /);
      const event = await eventAfter(fixture, before);
      assert.ok(event.spam?.symbols.includes('HELO_NOT_FQDN(1)'), event.spam?.symbols.join(' '));
      assert.ok(event.spam?.symbols.includes('RDNS_NONE(1)'), event.spam?.symbols.join(' '));
    } finally {
      session.destroy();
      await ingress.close();
    }
  });

  test('authenticated submission is scanned too (outbound, Rspamd sees the user)', async () => {
    const before = fixture.events.length;
    const gtube = await sendMx(
      fixture,
      fixture.ingress,
      `From: ${USER}\r\nTo: ${OTHER_USER}\r\nSubject: out\r\n\r\n${GTUBE}\r\n`,
      [OTHER_USER],
      'submission',
    );
    assert.ok(gtube.replies.includes('550 5.7.1 Message rejected as spam'), gtube.output);
    await fixture.expectNothingPublishedSince(before);
  });
});

describe('fail open: Rspamd unreachable or too slow', () => {
  let fixture: IngressFixture;
  let silent: Server;
  const held: Socket[] = [];
  before(async () => {
    fixture = await startIngressFixture();
    // Accepts the connection and never answers: only RSPAMD_TIMEOUT_MS ends the check.
    silent = createServer((socket) => held.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await fixture?.stop();
  });

  for (const [name, target] of [
    ['down (connection refused)', async () => `http://127.0.0.1:${await freePort()}`],
    [
      'silent (timeout)',
      () => Promise.resolve(`http://127.0.0.1:${(silent.address() as { port: number }).port}`),
    ],
  ] as const) {
    test(`Rspamd ${name}: accepted, marked unchecked in the header, the event and the metric`, async () => {
      const env = testEnv({
        RSPAMD_URL: await target(),
        RSPAMD_TIMEOUT_MS: '300',
        SMTP_SENDER_AUTHENTICATION: 'false',
      });
      const ingress = await fixture.startIngress({
        config: loadConfig(env, { smtp: smtpIngressSection }).smtp,
      });
      try {
        const watch = await verdicts();
        const before = fixture.events.length;
        const run = await sendMx(fixture, ingress, message(`unchecked ${name}`));
        assert.equal(run.exitCode, 0, run.output);
        const event = await eventAfter(fixture, before);
        assert.equal(event.spam?.status, 'unchecked');
        const stored = (await fixture.storedBytes(event)).toString('latin1');
        const reason = name.includes('timeout') ? 'timeout' : 'ECONNREFUSED';
        assert.match(stored, new RegExp(`^X-Spam-Status: unchecked reason=${reason}\\r$`, 'm'));
        assert.deepEqual(await watch.added(), { unchecked: 1 });
      } finally {
        await ingress.close();
      }
    });
  }

  test('an answer that is no verdict (not JSON, no score, HTTP 500, 2 MiB) is unchecked, never a crash', async () => {
    const answers: [string, number, string][] = [
      ['answer is not JSON', 200, '<html>oops</html>'],
      ['answer without action or score', 200, JSON.stringify({ action: 5, symbols: null })],
      ['HTTP 500', 500, '{"error":"internal"}'],
      ['answer too large', 200, `{"action":"no action","score":1,"junk":"${'x'.repeat(2 * 1024 * 1024)}"}`],
    ];
    let next = 0;
    const broken = createHttpServer((_request, response) => {
      const [, status, body] = answers[next++]!;
      _request.resume();
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const env = testEnv({
      RSPAMD_URL: `http://127.0.0.1:${(broken.address() as { port: number }).port}`,
      SMTP_SENDER_AUTHENTICATION: 'false',
    });
    const ingress = await fixture.startIngress({
      config: loadConfig(env, { smtp: smtpIngressSection }).smtp,
    });
    try {
      for (const [reason] of answers) {
        const before = fixture.events.length;
        const run = await sendMx(fixture, ingress, message(`broken ${reason}`));
        assert.equal(run.exitCode, 0, run.output);
        const event = await eventAfter(fixture, before);
        assert.equal(event.spam?.status, 'unchecked', reason);
        const stored = (await fixture.storedBytes(event)).toString('latin1');
        assert.match(stored, new RegExp(`^X-Spam-Status: unchecked reason=${reason}\\r$`, 'm'));
      }
    } finally {
      await ingress.close();
      await new Promise((resolve) => broken.close(resolve));
    }
  });

  test('SMTP_SPAM_SCAN_SUBMISSION=false skips authenticated submission (marked skipped)', async () => {
    const env = testEnv({
      RSPAMD_URL: testRspamd().url,
      SMTP_SPAM_SCAN_SUBMISSION: 'false',
      SMTP_ALLOW_PLAINTEXT_AUTH_LOOPBACK: 'true',
    });
    const ingress = await fixture.startIngress({
      config: loadConfig(env, { smtp: smtpIngressSection }).smtp,
    });
    try {
      const before = fixture.events.length;
      const run = await sendMx(
        fixture,
        ingress,
        `From: ${USER}\r\nTo: ${OTHER_USER}\r\nSubject: out\r\n\r\n${GTUBE}\r\n`,
        [OTHER_USER],
        'submission',
      );
      assert.equal(run.exitCode, 0, run.output);
      const event = await eventAfter(fixture, before);
      assert.equal(event.spam?.status, 'skipped');
      assert.match((await fixture.storedBytes(event)).toString('latin1'), /^X-Spam-Status: skipped\r$/m);
    } finally {
      await ingress.close();
    }
  });
});
