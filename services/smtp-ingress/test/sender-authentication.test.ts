import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dkimDnsRecord, dkimSignatureHeader, generateDkimKeyPair } from '@correo/dkim';
import type { AuthenticationResult, MailAccepted } from '@correo/proto';
import { pythonSmtp, queuedId, swaks, swaksAuth } from '@correo/testkit';
import { PASSWORD, USER, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';
import { BACKEND_FAILURE } from './support/refused-body.js';

const SELECTOR = 'mayo2026';

/** SPF never permits 127.0.0.1 (where the tests connect from) except for signed.test. */
const ZONE = {
  'signed.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
  '_dmarc.signed.test': { TXT: ['v=DMARC1; p=reject'] },
  'forged.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
  '_dmarc.forged.test': { TXT: ['v=DMARC1; p=reject'] },
  'lax.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
  '_dmarc.lax.test': { TXT: ['v=DMARC1; p=none'] },
  'junk.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
  '_dmarc.junk.test': { TXT: ['v=DMARC1; p=quarantine'] },
  'boss.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
  '_dmarc.boss.test': { TXT: ['v=DMARC1; p=reject'] },
  // Its SPF lookup fails (SERVFAIL); its DMARC record answers.
  'tempfail.test': { SERVFAIL: true },
  '_dmarc.tempfail.test': { TXT: ['v=DMARC1; p=reject'] },
};

function result(event: MailAccepted, method: string): AuthenticationResult {
  const found = event.authenticationResults?.results.find((r) => r.method === method);
  assert.ok(found, `${method} result in ${JSON.stringify(event.authenticationResults?.results)}`);
  return found;
}

/** The Authentication-Results field right under our Received header, unfolded. */
function storedResults(stored: string): string {
  const match =
    /^Received: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*(Authentication-Results: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)/.exec(
      stored,
    );
  assert.ok(match, `Received then Authentication-Results lead the stored message: ${stored.slice(0, 600)}`);
  return match[1]!.replace(/\r\n(?=[ \t])/g, '');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('SPF, DKIM and DMARC on the MX listener (DNS server on 127.0.0.1)', () => {
  let fixture: IngressFixture;

  before(async () => {
    const keys = await generateDkimKeyPair();
    const record = dkimDnsRecord('signed.test', SELECTOR, keys.publicKey);
    fixture = await startIngressFixture({ zone: { ...ZONE, [record.name]: { TXT: [record.strings] } } });
    privateKey = keys.privateKey;
  });
  after(async () => {
    await fixture?.stop();
  });
  let privateKey: string;

  async function mx(from: string, message: string) {
    return pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.mx,
      mode: 'plain',
      send: { from, to: [USER], message },
    });
  }

  async function eventOf(id: string): Promise<MailAccepted> {
    for (let count = 1; ; count++) {
      const events = await fixture.waitForEvents(count);
      const found = events.find((e) => e.event.eventId === id);
      if (found) return found.event;
    }
  }

  test('swaks: DKIM-signed mail from a permitted IP passes spf, dkim and dmarc; forged results of ours are dropped', async () => {
    const original = Buffer.from(
      'From: Noticias <news@signed.test>\r\nTo: <yo@local.test>\r\nSubject: firmado\r\n' +
        'Message-ID: <signed-1@signed.test>\r\n\r\nUn mensaje firmado.\r\n',
    );
    const signature = await dkimSignatureHeader(original, {
      domain: 'signed.test',
      selector: SELECTOR,
      privateKey,
      algorithm: 'rsa-sha256',
    });
    // Results a sender wrote in our name (RFC 8601 section 5) versus results of another hop.
    const carried =
      'Authentication-Results: MX.local.test; dmarc=pass header.from=paypal.test\r\n' +
      'Authentication-Results: relay.other.test;\r\n\tspf=pass smtp.mailfrom=news@signed.test\r\n';
    const file = join(fixture.dataDir, 'signed.eml');
    await writeFile(file, Buffer.concat([Buffer.from(carried + signature), original]));

    const run = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.mx),
      '--helo',
      'mail.signed.test',
      '--from',
      'news@signed.test',
      '--to',
      USER,
      '--data',
      file,
    ]);
    assert.equal(run.exitCode, 0, run.output);
    const id = queuedId(run.replies);
    assert.ok(id, run.output);

    const event = await eventOf(id);
    assert.equal(result(event, 'spf').result, 'pass');
    assert.equal(result(event, 'spf').properties['smtp.mailfrom'], 'news@signed.test');
    const dkim = result(event, 'dkim');
    assert.equal(dkim.result, 'pass');
    assert.equal(dkim.properties['header.s'], SELECTOR);
    assert.equal(dkim.properties['header.i'], '@signed.test');
    assert.equal(result(event, 'dmarc').result, 'pass');
    assert.equal(result(event, 'dmarc').properties['header.from'], 'signed.test');

    const stored = (await fixture.storedBytes(event)).toString('latin1');
    const header = storedResults(stored);
    assert.match(header, /^Authentication-Results: mx\.local\.test;/);
    assert.match(header, /;\s*spf=pass /);
    assert.match(header, /;\s*dkim=pass /);
    assert.match(header, /;\s*dmarc=pass /);
    assert.equal(event.authenticationResults?.header.replace(/\r\n(?=[ \t])/g, ''), header.trimEnd());
    assert.equal(stored.match(/^Authentication-Results:/gim)?.length, 2, 'ours and relay.other.test only');
    assert.ok(stored.includes('Authentication-Results: relay.other.test;\r\n\tspf=pass'));
    assert.ok(!stored.includes('paypal.test'), 'the forged results claiming mx.local.test are gone');
    // swaks ends its DATA with one more CRLF.
    assert.ok(
      stored.includes(signature + original.toString('latin1')),
      'the signed message is stored intact',
    );

    for (const query of [
      'TXT signed.test',
      'TXT _dmarc.signed.test',
      `TXT ${SELECTOR}._domainkey.signed.test`,
    ]) {
      assert.ok(fixture.dns.queries.includes(query), `${query} in ${fixture.dns.queries.join(', ')}`);
    }
  });

  test('smtplib: a forged From of a p=reject domain from a non-permitted IP is refused 550 5.7.1; nothing is stored or published', async () => {
    const blobsBefore = await filesUnder(join(fixture.dataDir, 'blobs'));
    const eventsBefore = fixture.events.length;
    const refused = await mx(
      'boss@forged.test',
      'From: El Jefe <boss@forged.test>\r\nTo: <yo@local.test>\r\nSubject: urgente: transferencia\r\n\r\nPaga ya.\r\n',
    );
    assert.equal(refused.error, undefined);
    assert.deepEqual(refused.replies.at(-1), [550, '5.7.1 DMARC policy of forged.test rejects this message']);
    assert.deepEqual(
      refused.replies.slice(0, 2).map(([code]) => code),
      [250, 250],
      'envelope accepted first',
    );

    await fixture.expectNothingPublishedSince(eventsBefore, 'no event for the refused mail');
    const blobsAfter = await filesUnder(join(fixture.dataDir, 'blobs'));
    const added = blobsAfter.filter((path) => !blobsBefore.includes(path) && !path.includes('/tmp/'));
    for (const path of added) {
      assert.ok(
        !(await readFile(path, 'latin1')).includes('Paga ya.'),
        'the refused message never reached the blob store',
      );
    }
    assert.deepEqual(
      (await readdir(fixture.dataDir)).filter((name) => name.startsWith('correo-spool-')),
      [],
      'spool files are removed',
    );
  });

  test('p=none: failing mail is accepted with dmarc=fail recorded', async () => {
    const sent = await mx(
      'someone@lax.test',
      'From: <someone@lax.test>\r\nSubject: sin firma\r\n\r\nhola\r\n',
    );
    assert.equal(sent.replies.at(-1)![0], 250, JSON.stringify(sent));
    const event = await eventOf(/queued as (\S+)/.exec(sent.replies.at(-1)![1])![1]!);
    assert.equal(result(event, 'spf').result, 'fail');
    assert.equal(result(event, 'dkim').result, 'none');
    const dmarc = result(event, 'dmarc');
    assert.equal(dmarc.result, 'fail');
    assert.equal(dmarc.properties['policy.dmarc'], 'none');
    const header = storedResults((await fixture.storedBytes(event)).toString('latin1'));
    assert.match(header, /;\s*spf=fail /);
    const dmarcResinfo = /;\s*(dmarc=fail \(p=NONE[^)]*\)[^;]*)/.exec(header)?.[1] ?? '';
    assert.match(dmarcResinfo, / header\.from=lax\.test\b/);
    // Each property once (RFC 8601 resinfo): mailauth writes policy.dmarc itself since 7.x.
    assert.deepEqual(dmarcResinfo.match(/policy\.dmarc=\w+/g), ['policy.dmarc=none'], header);
  });

  test('DNS answers are reused: a second message of the same sender asks nothing again and gets the same results', async () => {
    const send = async (subject: string) => {
      const sent = await mx(
        'again@lax.test',
        `From: <again@lax.test>\r\nSubject: ${subject}\r\n\r\nhola\r\n`,
      );
      assert.equal(sent.replies.at(-1)![0], 250, JSON.stringify(sent));
      return eventOf(/queued as (\S+)/.exec(sent.replies.at(-1)![1])![1]!);
    };
    const first = await send('uno');
    const queriesBefore = fixture.dns.queries.length;
    const second = await send('dos');
    assert.deepEqual(fixture.dns.queries.slice(queriesBefore), [], 'answered from the cache');
    for (const method of ['spf', 'dkim', 'dmarc']) {
      assert.equal(result(second, method).result, result(first, method).result, method);
    }
  });

  test('p=quarantine: accepted and marked policy.dmarc=quarantine for the mda to file in Junk', async () => {
    const sent = await mx(
      'offers@junk.test',
      'From: <offers@junk.test>\r\nSubject: oferta\r\n\r\ncompra\r\n',
    );
    assert.equal(sent.replies.at(-1)![0], 250, JSON.stringify(sent));
    const event = await eventOf(/queued as (\S+)/.exec(sent.replies.at(-1)![1])![1]!);
    const dmarc = result(event, 'dmarc');
    assert.equal(dmarc.result, 'fail');
    assert.equal(dmarc.properties['policy.dmarc'], 'quarantine');
    assert.match(event.authenticationResults!.header, /dmarc=fail .*policy\.dmarc=quarantine/);
  });

  test('SMTP_DMARC_REJECT=false keeps a forged p=reject message with dmarc=fail; SMTP_SENDER_AUTHENTICATION=false checks nothing', async () => {
    const forged =
      'From: El Jefe <boss@forged.test>\r\nTo: <yo@local.test>\r\nSubject: urgente\r\n\r\nPaga ya.\r\n';
    const send = (port: number) =>
      pythonSmtp({
        host: '127.0.0.1',
        port,
        mode: 'plain',
        send: { from: 'boss@forged.test', to: [USER], message: forged },
      });
    const queued = (replies: [number, string][]) => {
      const [code, text] = replies.at(-1) ?? [];
      const id = /^2\.0\.0 Ok: queued as ([0-9a-f-]{36})$/.exec(text ?? '')?.[1];
      assert.ok(code === 250 && id, JSON.stringify(replies));
      return id;
    };
    // Both on (the defaults, the fixture's own ingress): refused.
    assert.deepEqual((await send(fixture.ingress.ports.mx)).replies.at(-1), [
      550,
      '5.7.1 DMARC policy of forged.test rejects this message',
    ]);

    const noReject = await fixture.startIngress({}, { SMTP_DMARC_REJECT: 'false' });
    const noChecks = await fixture.startIngress({}, { SMTP_SENDER_AUTHENTICATION: 'false' });
    try {
      // Checked, not refused: the verdict rides along for the mda and the reader.
      const kept = await eventOf(queued((await send(noReject.ports.mx)).replies));
      assert.equal(result(kept, 'spf').result, 'fail');
      assert.equal(result(kept, 'dmarc').result, 'fail');
      assert.equal(result(kept, 'dmarc').properties['policy.dmarc'], 'reject');
      const keptHeader = storedResults((await fixture.storedBytes(kept)).toString('latin1'));
      assert.match(keptHeader, /;\s*spf=fail /);
      assert.match(keptHeader, /;\s*dmarc=fail .*policy\.dmarc=reject/);

      // Not checked at all: no lookups, no results in the event or in the stored message.
      const queriesBefore = fixture.dns.queries.length;
      const unchecked = await eventOf(queued((await send(noChecks.ports.mx)).replies));
      assert.equal(unchecked.authenticationResults, undefined);
      const stored = (await fixture.storedBytes(unchecked)).toString('latin1');
      assert.doesNotMatch(stored, /^Authentication-Results:/im);
      assert.ok(stored.endsWith(forged), 'the message is stored as sent, under our Received header');
      assert.deepEqual(
        fixture.dns.queries.slice(queriesBefore).filter((query) => query.startsWith('TXT ')),
        [],
        'no SPF, DKIM or DMARC record was asked',
      );
    } finally {
      await noReject.close();
      await noChecks.close();
    }
  });

  test('an SPF lookup failing (SERVFAIL) under p=reject defers the message 451 4.7.0 instead of refusing it; nothing published', async () => {
    const before = fixture.events.length;
    const deferred = await mx(
      'boss@tempfail.test',
      'From: <boss@tempfail.test>\r\nSubject: quizas\r\n\r\nhola\r\n',
    );
    assert.deepEqual(deferred.replies.at(-1), [
      451,
      '4.7.0 Temporary DNS failure verifying the DMARC policy of tempfail.test, please try again later',
    ]);
    assert.ok(fixture.dns.queries.includes('TXT tempfail.test'), 'the SPF record was asked');
    await fixture.expectNothingPublishedSince(before);
  });

  test('sender checks that cannot run (their spool is unwritable) answer 451 4.3.0; nothing stored or published', async () => {
    // Past the spool's memory part (256 KiB): the message spills to SMTP_SPOOL_DIR, which does not exist.
    const broken = await fixture.startIngress({}, { SMTP_SPOOL_DIR: join(fixture.dataDir, 'no-such-dir') });
    const keysBefore = await fixture.blobKeys();
    const before = fixture.events.length;
    try {
      const sent = await pythonSmtp({
        host: '127.0.0.1',
        port: broken.ports.mx,
        mode: 'plain',
        send: {
          from: 'someone@lax.test',
          to: [USER],
          message: `From: <someone@lax.test>\r\nSubject: grande\r\n\r\n${'sin revisar\r\n'.repeat(30_000)}`,
        },
      });
      assert.deepEqual(sent.replies.at(-1), BACKEND_FAILURE);
    } finally {
      await broken.close();
    }
    await fixture.expectNothingPublishedSince(before);
    // The marker is small enough to ride in its event: the store holds nothing new.
    assert.deepEqual(
      [...(await fixture.blobKeys())].filter((key) => !keysBefore.has(key)),
      [],
      'nothing stored',
    );
  });

  // A From the account may not use (e.g. ceo@boss.test) is refused 553 before any of this
  // (header-sender.test.ts); its own address is not looked up in DNS at all.
  test('authenticated submission skips the checks: no DNS lookups, no Authentication-Results', async () => {
    const file = join(fixture.dataDir, 'submitted.eml');
    await writeFile(file, `From: Yo <${USER}>\r\nTo: <el@suemail.test>\r\nSubject: interno\r\n\r\nok\r\n`);
    const queriesBefore = fixture.dns.queries.length;
    const run = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.submission),
      '--tls',
      ...swaksAuth(USER, PASSWORD),
      '--to',
      'el@suemail.test',
      '--data',
      file,
    ]);
    assert.equal(run.exitCode, 0, run.output);
    const event = await eventOf(queuedId(run.replies)!);
    assert.equal(event.authenticationResults, undefined);
    assert.doesNotMatch((await fixture.storedBytes(event)).toString('latin1'), /^Authentication-Results:/im);
    assert.deepEqual(fixture.dns.queries.slice(queriesBefore), []);
  });
});

describe('a DNS server that never answers', () => {
  let fixture: IngressFixture;
  let silent: Socket;

  before(async () => {
    // A real UDP socket on loopback that swallows every query: lookups time out.
    silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    fixture = await startIngressFixture({
      env: { SMTP_DNS_SERVERS: `127.0.0.1:${silent.address().port}`, SMTP_DNS_TIMEOUT_MS: '200' },
    });
  });
  after(async () => {
    await fixture?.stop();
    silent?.close();
  });

  test('gives temperror results, never a refusal', async () => {
    const sent = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.mx,
      mode: 'plain',
      send: {
        from: 'boss@forged.test',
        to: [USER],
        message: 'From: <boss@forged.test>\r\nSubject: sin DNS\r\n\r\nhola\r\n',
      },
    });
    assert.equal(sent.replies.at(-1)![0], 250, JSON.stringify(sent));
    const [published] = await fixture.waitForEvents(1);
    const results = published!.event.authenticationResults!.results;
    assert.equal(results.find((r) => r.method === 'spf')?.result, 'temperror');
    assert.equal(results.find((r) => r.method === 'dmarc')?.result, 'temperror');
    assert.match(published!.event.authenticationResults!.header, /spf=temperror/);
  });
});
