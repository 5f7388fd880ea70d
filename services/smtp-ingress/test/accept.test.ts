import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { analyzeMessage, decodeSummaryWire, messageSummary } from '@correo/mime';
import { SubmissionKind } from '@correo/proto';
import { curl, eventually, pythonSmtp, queuedId, swaks, swaksAuth } from '@correo/testkit';
import { CARRIED_ANALYSIS_MAX_MESSAGE_BYTES } from '../src/carried-analysis.js';
import type { MailAccepted } from '@correo/proto';
import {
  ALIAS,
  OTHER_USER,
  PASSWORD,
  USER,
  startIngressFixture,
  type IngressFixture,
} from './support/ingress-fixture.js';

/** Splits the Received header we prepend from the rest of a stored message. */
function splitReceived(stored: Buffer): { received: string; rest: Buffer } {
  const text = stored.toString('latin1');
  const match = /^Received: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*/.exec(text);
  assert.ok(match, `stored message starts with a Received header: ${text.slice(0, 200)}`);
  return { received: match[0], rest: stored.subarray(Buffer.byteLength(match[0], 'latin1')) };
}

/** The event carries the analysis of exactly the stored bytes, so the mda need not read them. */
async function assertCarriesAnalysis(event: MailAccepted, stored: Buffer): Promise<void> {
  const carried = decodeSummaryWire(event.analysis);
  assert.ok(carried, 'the event carries the message analysis');
  assert.deepEqual(carried, messageSummary(await analyzeMessage(Readable.from([stored]))));
}

describe('accepting mail (Postgres bus, filesystem blobs)', () => {
  let fixture: IngressFixture;
  let caFile: string;
  before(async () => {
    fixture = await startIngressFixture({ kind: 'embedded' });
    caFile = join(fixture.dataDir, 'ca.pem');
    await writeFile(caFile, fixture.tls.cert);
  });
  after(async () => {
    await fixture?.stop();
  });

  /**
   * The MailAccepted event of the 250 that said `id`, once published. By id, not by how many events
   * came before: each test stands alone, whatever the others published on the fixture's bus.
   */
  async function publishedOf(id: string): Promise<IngressFixture['events'][number]> {
    await eventually(`the event of ${id}`, () => fixture.events.some((e) => e.event.eventId === id));
    return fixture.events.find((e) => e.event.eventId === id)!;
  }
  const eventOf = async (id: string): Promise<MailAccepted> => (await publishedOf(id)).event;

  test('swaks submits over STARTTLS + AUTH on 587; Message-ID and Date are added; the event points at the blob', async () => {
    const original =
      'From: Yo <yo@local.test>\r\nTo: El <el@suemail.test>\r\nSubject: hola\r\n\r\nprimera linea\r\n.punto al principio\r\n';
    const file = join(fixture.dataDir, 'no-id.eml');
    await writeFile(file, original);
    const run = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.submission),
      '--tls',
      ...swaksAuth(USER, PASSWORD),
      '--to',
      `el@suemail.test,${OTHER_USER}`,
      '--data',
      file,
    ]);
    assert.equal(run.exitCode, 0, run.output);
    const id = queuedId(run.replies);
    assert.ok(id, run.output);

    const { event, message } = await publishedOf(id);
    assert.equal(message.key, 'el@suemail.test', 'keyed by the first recipient');
    assert.equal(event.kind, SubmissionKind.SUBMISSION);
    assert.equal(event.authenticatedUser, USER);
    assert.equal(event.mailFrom, USER);
    assert.deepEqual(
      event.recipients.map((r) => r.address),
      ['el@suemail.test', OTHER_USER],
    );
    assert.equal(event.port, fixture.ingress.ports.submission);

    const stored = await fixture.storedBytes(event);
    assert.equal(createHash('sha256').update(stored).digest('hex'), event.sha256);
    assert.equal(BigInt(stored.length), event.size);
    await assertCarriesAnalysis(event, stored);
    const { received, rest } = splitReceived(stored);
    assert.match(received, /by mx\.local\.test \(correo\) with ESMTPSA id /);
    assert.ok(received.includes(id));
    const text = rest.toString('utf8');
    const [head, body] = text.split('\r\n\r\n');
    // swaks drops the file's last line end; the dot-stuffed line arrives unstuffed.
    assert.equal(body, 'primera linea\r\n.punto al principio');
    assert.ok(head!.startsWith('From: Yo <yo@local.test>\r\nTo: El <el@suemail.test>\r\nSubject: hola\r\n'));
    assert.match(head!, new RegExp(`\r\nMessage-ID: <${id}@mx\\.local\\.test>`));
    assert.match(head!, /\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  });

  test('curl submits over implicit TLS on 465 with an alias as sender; the blob is Received + the exact bytes', async () => {
    const original =
      'Message-ID: <curl-1@client.test>\r\nDate: Thu, 26 Nov 2026 05:00:00 +0000\r\nFrom: alias@local.test\r\n' +
      'To: ella@local.test\r\nSubject: =?UTF-8?Q?ma=C3=B1ana?=\r\n\r\nbody \xe2\x82\xac\r\n';
    const file = join(fixture.dataDir, 'curl.eml');
    await writeFile(file, Buffer.from(original, 'latin1'));
    const run = await curl([
      `smtps://127.0.0.1:${fixture.ingress.ports.submissions}`,
      '--cacert',
      caFile,
      '--user',
      `${USER}:${PASSWORD}`,
      '--mail-from',
      ALIAS,
      '--mail-rcpt',
      OTHER_USER,
      '--upload-file',
      file,
    ]);
    assert.equal(run.exitCode, 0, run.output);
    const id = queuedId(run.replies);
    assert.ok(id, run.output);
    const event = await eventOf(id);
    assert.equal(event.mailFrom, ALIAS);
    assert.equal(event.authenticatedUser, USER);
    assert.equal(event.port, fixture.ingress.ports.submissions);
    const { received, rest } = splitReceived(await fixture.storedBytes(event));
    assert.match(received, /with ESMTPSA id /);
    assert.match(received, /for <ella@local\.test>;/);
    assert.deepEqual(rest, Buffer.from(original, 'latin1'));
  });

  test('a small message rides in its event (nothing in the blob store before the 250); one past SMTP_INLINE_BODY_BYTES is in the blob store', async () => {
    const send = async (message: string) => {
      const result = await pythonSmtp({
        host: '127.0.0.1',
        port: fixture.ingress.ports.mx,
        mode: 'plain',
        send: { from: 'someone@remote.test', to: [USER], message },
      });
      assert.equal(result.error, undefined);
      return eventOf(/queued as (\S+)/.exec(result.replies.at(-1)![1])![1]!);
    };
    const small = 'From: someone@remote.test\r\nSubject: small\r\n\r\nhello\r\n';
    const inline = await send(small);
    assert.ok(inline.body.byteLength > 0, 'the body is in the event');
    assert.equal(await fixture.blobs.stat(inline.blobKey), null, 'and not in the blob store');
    const stored = await fixture.storedBytes(inline);
    assert.ok(stored.toString('utf8').endsWith(small));
    await assertCarriesAnalysis(inline, stored);

    const large = `From: someone@remote.test\r\nSubject: large\r\n\r\n${'a line of a long letter\r\n'.repeat(6000)}`;
    const blob = await send(large);
    assert.equal(blob.body.byteLength, 0, 'no body in the event');
    assert.notEqual(await fixture.blobs.stat(blob.blobKey), null, 'the blob was stored before the 250');
    assert.ok((await fixture.storedBytes(blob)).toString('utf8').endsWith(large));
  });

  test("Python's smtplib delivers to local recipients on MX without AUTH; only Received and Authentication-Results are added", async () => {
    const original = 'From: someone@remote.test\r\nSubject: from afar\r\n\r\nhello\r\n';
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.mx,
      mode: 'plain',
      send: { from: 'someone@remote.test', to: [USER, ALIAS], message: original },
    });
    assert.equal(result.error, undefined);
    const [mail, rcpt1, rcpt2, data] = result.replies;
    assert.deepEqual([mail![0], rcpt1![0], rcpt2![0], data![0]], [250, 250, 250, 250]);
    const event = await eventOf(/queued as (\S+)/.exec(data![1])![1]!);
    assert.equal(event.kind, SubmissionKind.MX);
    assert.equal(event.authenticatedUser, '');
    assert.equal(event.helo, 'python.client.test');
    assert.deepEqual(
      event.recipients.map((r) => r.address),
      [USER, ALIAS],
    );
    await assertCarriesAnalysis(event, await fixture.storedBytes(event));
    const { received, rest } = splitReceived(await fixture.storedBytes(event));
    assert.match(received, /^Received: from python\.client\.test \(\[127\.0\.0\.1\] \[127\.0\.0\.1\]\)/);
    assert.doesNotMatch(received, /\bfor </, 'several recipients are not disclosed');
    // remote.test is not in the test DNS zone: every check finds no record.
    const results = rest.toString('utf8').slice(0, -original.length);
    assert.equal(rest.toString('utf8').slice(results.length), original);
    assert.match(results, /^Authentication-Results: mx\.local\.test;\r\n/);
    assert.match(
      results,
      /\tspf=none .*\r\n smtp\.mailfrom=someone@remote\.test smtp\.helo=python\.client\.test;\r\n/,
    );
    assert.match(
      results,
      /\tdkim=none \(message not signed\);\r\n\tdmarc=none header\.from=remote\.test\r\n$/,
    );
    assert.equal(event.authenticationResults?.header, results.replace(/\r\n$/, ''));
  });

  test('a message past the analysis cap carries none: the mda analyses its blob instead', async () => {
    const line = 'x'.repeat(76) + '\r\n';
    const original = `From: big@remote.test\r\nSubject: big\r\n\r\n${line.repeat(Math.ceil((CARRIED_ANALYSIS_MAX_MESSAGE_BYTES + 1) / line.length))}`;
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.mx,
      mode: 'plain',
      send: { from: 'big@remote.test', to: [USER], message: original },
    });
    assert.equal(result.error, undefined);
    const event = await eventOf(/queued as (\S+)/.exec(result.replies.at(-1)![1])![1]!);
    assert.ok(Number(event.size) > CARRIED_ANALYSIS_MAX_MESSAGE_BYTES);
    assert.equal(event.analysis.byteLength, 0);
  });

  test('EHLO advertises the ESMTP extensions; AUTH only once TLS is up', async () => {
    const plain = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submission,
      mode: 'plain',
      commands: ['EHLO python.client.test'],
    });
    const features = plain.replies[0]![1].split('\n');
    for (const feature of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', 'DSN']) {
      assert.ok(features.includes(feature), `${feature} in ${features.join(',')}`);
    }
    assert.ok(features.includes('SIZE 52428800'));
    assert.ok(!features.some((f) => f.startsWith('AUTH')), 'no AUTH before TLS');
    assert.ok(!features.includes('CHUNKING'), 'smtp-server has no BDAT');

    const secured = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submission,
      mode: 'starttls',
      cafile: caFile,
      checkHostname: false,
      commands: ['EHLO python.client.test'],
    });
    assert.equal(secured.replies[0]![0], 220);
    assert.ok(secured.replies[1]![1].split('\n').includes('AUTH PLAIN LOGIN'));
  });
});
