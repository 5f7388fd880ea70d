import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { eventually, runProgram, swaks, swaksAuth } from '@correo/testkit';
import { headerValues, readMailbox } from './support/mailbox-reader.js';
import {
  newPassword,
  provisionSigningDomain,
  startTwoDomains,
  storedSubjects,
} from './support/two-domains.js';
import type { MailDomain, TwoDomains } from './support/two-domains.js';

const MIEMAIL = { name: 'miemail.test', ip: '127.0.0.2' };
const SUEMAIL = { name: 'suemail.test', ip: '127.0.0.3' };
// A third domain whose MX points where nothing listens.
const LEJOS = 'lejos.test';
const LEJOS_MX_IP = '127.0.0.9';
// An outside host forging miemail.test: neither stack's address.
const FORGER_IP = '127.0.0.5';

const YO = 'yo@miemail.test';
const EL = 'el@suemail.test';
const ELIAS = 'elias@suemail.test';

const CORREO_ADMIN = fileURLToPath(new URL('../../services/admin-api/bin/correo-admin.js', import.meta.url));

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The relay's lifetime and backoff, short enough to watch a message expire within the test. */
const RELAY_LIFETIME = '20s';

/**
 * The seed's journey across two correo installations (DESIGN.md, "The path of one message"),
 * each a separate all-in-one process on its own loopback address, with a real DNS server:
 * submission with AUTH, MX lookup and DKIM-signed relay, SPF/DKIM/DMARC verification, alias
 * resolution, reading over IMAP and POP3; and the three ways it can go wrong (a remote 5xx,
 * an unreachable domain, a forgery).
 */
describe('two domains: yo@miemail.test writes to el@suemail.test', () => {
  const run = randomBytes(4).toString('hex');
  const yoPassword = newPassword();
  const elPassword = newPassword();
  let world: TwoDomains;
  let mi: MailDomain;
  let su: MailDomain;
  let suToken: string;
  let strangerToken: string;

  before(async () => {
    world = await startTwoDomains({
      sender: MIEMAIL,
      receiver: SUEMAIL,
      env: {
        RELAY_MAX_LIFETIME: RELAY_LIFETIME,
        RELAY_RETRY_SCHEDULE: '2s',
        RELAY_QUEUE_POLL: '500ms',
        RELAY_CONNECT_TIMEOUT: '5s',
      },
    });
    ({ sender: mi, receiver: su } = world);
    world.dns.set(LEJOS, { MX: [{ exchange: `mx.${LEJOS}`, priority: 10 }] });
    world.dns.set(`mx.${LEJOS}`, { A: [LEJOS_MX_IP] });

    // Each operator provisions their own installation through its admin-api.
    const signing = await provisionSigningDomain(world, mi, 'miemail', `e2e${run}`);
    await mi.admin.createAccount(YO, yoPassword);
    assert.equal(signing.dkimRecordName, `e2e${run}._domainkey.${MIEMAIL.name}`);

    const suTenant = await su.admin.createTenant('suemail');
    await su.admin.createDomain(SUEMAIL.name, suTenant.id);
    await su.admin.createAccount(EL, elPassword);
    await su.admin.createAlias(ELIAS, [EL]);
    suToken = (await su.admin.createToken('ops', suTenant.id)).secret;
    // Another tenant of the same installation: it must not see suemail.test's mail.
    const stranger = await su.admin.createTenant('otro');
    await su.admin.createDomain(`otro-${run}.test`, stranger.id);
    strangerToken = (await su.admin.createToken('ops', stranger.id)).secret;
  });

  after(async () => {
    await world?.stop();
  });

  /** yo@ submits on miemail.test's 587: STARTTLS (certificate chain verified), then AUTH. */
  async function submit(to: string, subject: string, headers: string[] = []): Promise<string> {
    const result = await swaks([
      '--server',
      mi.ip,
      '--port',
      String(mi.app.ports.submission),
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      mi.app.caFile,
      ...swaksAuth(YO, yoPassword),
      '--to',
      to,
      '--header',
      `Subject: ${subject}`,
      ...headers.flatMap((header) => ['--header', header]),
      '--body',
      `Hola, ${to}.`,
    ]);
    assert.equal(result.exitCode, 0, result.output);
    assert.ok(
      result.replies.some((line) => line.startsWith('235 ')),
      result.output,
    );
    const queued = result.replies
      .map((line) => /^250 2\.0\.0 Ok: queued as (\S+)/.exec(line)?.[1])
      .find(Boolean);
    assert.ok(queued, result.output);
    return queued;
  }

  /** `correo-admin journey <id>` against one installation's admin-api, as its operator or a tenant. */
  async function journey(domain: MailDomain, id: string, token = domain.app.adminToken) {
    return runProgram(process.execPath, [CORREO_ADMIN, 'journey', id], {
      env: {
        CORREO_API_URL: domain.app.adminUrl,
        CORREO_API_TOKEN: token,
      },
    });
  }

  /** Waits until the journey's output matches `pattern` (each stage records its part asynchronously). */
  async function journeyShows(domain: MailDomain, id: string, pattern: RegExp, token?: string) {
    let last = '';
    await eventually(
      `the journey of ${id} to show ${pattern}`,
      async () => {
        const shown = await journey(domain, id, token);
        last = `${shown.stdout}${shown.stderr}`;
        return shown.code === 0 && pattern.test(shown.stdout);
      },
      30_000,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${last}`);
    });
    return last;
  }

  /**
   * The one DSN in yo@'s INBOX (read over IMAP) that reports on `recipient`, once yo@'s store holds
   * `storedCount` messages (polling SQL is cheaper than a client session every half second).
   */
  async function bounceFor(recipient: string, storedCount: number, timeoutMs: number): Promise<string> {
    await eventually(
      `a bounce for ${recipient} in yo@'s store`,
      async () => (await storedSubjects(mi, YO)).length >= storedCount,
      timeoutMs,
      500,
    );
    const inbox = await readMailbox('imap', mi.imap, YO, yoPassword);
    const bounces = inbox.filter((message) => message.includes(`Final-Recipient: rfc822;${recipient}`));
    assert.equal(bounces.length, 1, `exactly one bounce in yo@'s INBOX reports on ${recipient}`);
    return bounces[0]!;
  }

  function assertIsBounce(dsn: string, recipient: string, status: RegExp) {
    assert.match(
      headerValues(dsn, 'content-type')[0] ?? '',
      /^multipart\/report;.*report-type=delivery-status/,
    );
    assert.match(headerValues(dsn, 'to')[0] ?? '', new RegExp(YO));
    assert.match(dsn, /^Content-Type: message\/delivery-status/m);
    assert.match(dsn, new RegExp(`^Final-Recipient: rfc822;${recipient}\\r?$`, 'm'));
    assert.match(dsn, /^Action: failed\r?$/m);
    assert.match(dsn, status);
  }

  test('submitted on 587, relayed by MX to suemail.test, verified (SPF, DKIM, DMARC pass), filed through the alias, read over IMAP and POP3', async () => {
    const subject = `journey ${run}`;
    const messageId = `<journey-${run}@miemail.test>`;
    const eventId = await submit(ELIAS, subject, [`Message-Id: ${messageId}`]);

    await eventually(
      "the message in el@'s store at suemail.test",
      async () => (await storedSubjects(su, EL)).includes(subject),
      60_000,
      250,
    );
    // The relay looked the domain up the way any MTA does.
    assert.ok(world.dns.queries.includes(`MX ${SUEMAIL.name}`), world.dns.queries.join('\n'));

    const overImap = await readMailbox('imap', su.imap, EL, elPassword);
    const overPop3 = await readMailbox('pop3', su.pop3, EL, elPassword);
    for (const [protocol, mailbox] of [
      ['IMAP', overImap],
      ['POP3', overPop3],
    ] as const) {
      const found = mailbox.filter((message) => headerValues(message, 'subject')[0] === subject);
      assert.equal(found.length, 1, `el@ reads the message once over ${protocol}`);
      const message = found[0]!;
      assert.equal(headerValues(message, 'to')[0], ELIAS, `${protocol}: addressed to the alias`);

      // The verdict of suemail.test's MX, under its own authserv-id.
      const results = headerValues(message, 'authentication-results');
      assert.equal(results.length, 1, `${protocol}: one Authentication-Results header\n${message}`);
      const verdict = results[0]!;
      assert.match(verdict, new RegExp(`^${su.mxHost};`), verdict);
      assert.match(verdict, /\bspf=pass\b[^;]*\bsmtp\.mailfrom=yo@miemail\.test/, verdict);
      assert.match(verdict, new RegExp(`designates ${MIEMAIL.ip} as permitted sender`), verdict);
      assert.match(
        verdict,
        new RegExp(`\\bdkim=pass\\b[^;]*header\\.i=@miemail\\.test[^;]*header\\.s=e2e${run}`),
        verdict,
      );
      assert.match(verdict, /\bdmarc=pass\b[^;]*header\.from=miemail\.test/, verdict);

      // Signed by miemail.test's relay with the key its admin-api made.
      const signatures = headerValues(message, 'dkim-signature');
      assert.equal(signatures.length, 1, protocol);
      assert.match(signatures[0]!, /\bd=miemail\.test;/);
      assert.match(signatures[0]!, new RegExp(`\\bs=e2e${run};`));
      // Received by suemail.test's MX from the address miemail.test's relay sends from.
      const received = headerValues(message, 'received')[0] ?? '';
      assert.match(
        received,
        new RegExp(
          `^from mx\\.miemail\\.test \\(.*\\[${literal(MIEMAIL.ip)}\\]\\) by ${literal(su.mxHost)} `,
        ),
      );
    }
    assert.deepEqual(await storedSubjects(su, EL), [subject], 'stored once, for el@ only');

    // "Where is my mail?", answered by each operator with one command. miemail.test: accepted from
    // yo@ on submission, relayed to suemail.test with its MX's reply.
    const sent = await journeyShows(
      mi,
      eventId,
      /elias@suemail\.test: relayed after 1 attempt\(s\) at \S+: 250 /,
    );
    assert.match(sent, new RegExp(`^event ${eventId}$`, 'm'));
    assert.match(sent, /accepted \S+ on submission port \d+ from 127\.[0-9.]+ .* as yo@miemail\.test$/m);
    assert.match(sent, /^ {2}trace [0-9a-f]{32}$/m);
    // The Message-ID finds it too, though miemail.test stored no copy of it.
    await journeyShows(mi, messageId, new RegExp(`^event ${eventId}$`, 'm'));
    // suemail.test: accepted on its MX from miemail.test's relay, SPF/DKIM/DMARC pass, filed through
    // the alias into el@'s INBOX with its UID.
    const received = await journeyShows(
      su,
      messageId,
      /elias@suemail\.test: filed into INBOX of el@suemail\.test uid [1-9]\d* at /,
    );
    assert.match(
      received,
      new RegExp(`accepted \\S+ on mx port \\d+ from ${literal(MIEMAIL.ip)} \\(helo mx\\.miemail\\.test\\)`),
    );
    assert.match(received, /authentication .*spf=pass.*dkim=pass.*dmarc=pass/);
    // suemail.test's tenant sees it; another tenant of that installation does not know it exists.
    await journeyShows(su, messageId, /filed into INBOX of el@suemail\.test/, suToken);
    const stranger = await journey(su, messageId, strangerToken);
    assert.notEqual(stranger.code, 0);
    assert.match(stranger.stderr, /no message/);
  });

  test('a 550 5.1.1 from suemail.test at RCPT bounces at once into yo@s INBOX', async () => {
    const nobody = `nobody-${run}@${SUEMAIL.name}`;
    const subject = `to nobody ${run}`;
    const eventId = await submit(nobody, subject);

    // No retry schedule is waited for: a permanent failure bounces on the first attempt.
    const dsn = await bounceFor(nobody, 1, 30_000);
    assertIsBounce(dsn, nobody, /^Status: 5\.1\.1\r?$/m);
    assert.match(dsn, /^Remote-MTA: dns; mx\.suemail\.test\r?$/m);
    assert.match(dsn, /^Diagnostic-Code: smtp; 550 5\.1\.1 /m);
    assert.match(dsn, new RegExp(`^Subject: ${subject}\\r?$`, 'm'), 'the original header section comes back');
    assert.equal(headerValues(dsn, 'return-path')[0] ?? '<>', '<>', 'a bounce has the null sender');
    await journeyShows(
      mi,
      eventId,
      new RegExp(`${literal(nobody)}: bounced \\(bounced\\) after 1 attempt\\(s\\) at \\S+: 550 5\\.1\\.1 `),
    );
  });

  test(`an unreachable domain is retried, then bounced when RELAY_MAX_LIFETIME (${RELAY_LIFETIME}) runs out`, async () => {
    const someone = `alguien-${run}@${LEJOS}`;
    const subject = `to nowhere ${run}`;
    const deferredBefore = await relayOutcomes('deferred');
    const eventId = await submit(someone, subject);

    await eventually(
      'the relay to retry the unreachable MX',
      async () => (await relayOutcomes('deferred')) >= deferredBefore + 2,
      30_000,
      500,
    );
    assert.ok(world.dns.queries.includes(`MX ${LEJOS}`));
    await journeyShows(
      mi,
      eventId,
      new RegExp(
        `${literal(someone)}: deferred after [1-9]\\d* attempt\\(s\\), next attempt at \\S+: .*${literal(LEJOS_MX_IP)}`,
      ),
    );

    const dsn = await bounceFor(someone, 2, 60_000);
    assertIsBounce(dsn, someone, /^Status: 4\.4\.7\r?$/m);
    assert.match(dsn, new RegExp(`^Diagnostic-Code: .*${literal(LEJOS_MX_IP)}`, 'm'));
    assert.ok((await relayOutcomes('expired')) >= 1);
    await journeyShows(mi, eventId, new RegExp(`${literal(someone)}: bounced \\(expired\\)`));
  });

  test('a forged miemail.test sender from another host fails DMARC and is refused under p=reject', async () => {
    const subject = `forged ${run}`;
    const before = await storedSubjects(su, EL);
    const result = await swaks([
      '--server',
      su.ip,
      '--port',
      String(su.app.ports.mx),
      '--local-interface',
      FORGER_IP,
      '--ehlo',
      'mx.miemail.test',
      '--from',
      YO,
      '--to',
      EL,
      '--header',
      `Subject: ${subject}`,
    ]);
    assert.notEqual(result.exitCode, 0, result.output);
    assert.ok(
      result.replies.some((line) => /^550 5\.7\.1 DMARC policy of miemail\.test rejects/.test(line)),
      result.output,
    );
    assert.deepEqual(await storedSubjects(su, EL), before, 'nothing was stored for el@');
    assert.match(
      await su.app.metrics(),
      /^correo_smtp_messages_rejected_total\{listener="mx",reason="dmarc_reject"\} [1-9]/m,
    );
  });

  async function relayOutcomes(outcome: string): Promise<number> {
    const text = await mi.app.metrics();
    const match = new RegExp(
      `^correo_relay_recipient_outcomes_total\\{outcome="${outcome}"\\} (\\d+)`,
      'm',
    ).exec(text);
    return match ? Number(match[1]) : 0;
  }
});
