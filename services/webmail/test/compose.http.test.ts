import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { eventually, startAllInOneProcess, startServiceProcess, type AllInOneProcess } from '@correo/testkit';
import { readMailbox, headerValues, type MailHost } from '../../../e2e/test/support/mailbox-reader.js';
import { createAccount, deliver as deliverBySwaks, imapHostOf } from './support/all-in-one.js';
import { standaloneWebmailEnv } from './support/browser.js';
import { WebmailClient } from './support/webmail-client.js';

/*
 * Compose, drafts, attachments, autocomplete and settings over the webmail's HTTP API, against the
 * real all-in-one (its IMAP gateway and submission behind the webmail); what arrived is read with
 * Python's imaplib and imapflow, never through the webmail.
 */

const LIMIT = 300_000;
const BOB = { address: 'bob@example.test', password: randomBytes(12).toString('base64url') };
const CAROL = { address: 'carol@example.test', password: randomBytes(12).toString('base64url') };

let stack: AllInOneProcess;
let imapHost: MailHost;
let demo: WebmailClient;

const deliver = (from: string, to: string, subject: string, extra: string[] = []) =>
  deliverBySwaks(stack, from, to, subject, extra);

/** An imapflow session of the user's own, to look at flags the way another client would. */
async function withImap<T>(
  user: { address: string; password: string },
  work: (imap: ImapFlow) => Promise<T>,
): Promise<T> {
  const imap = new ImapFlow({
    host: stack.host,
    port: stack.ports.imap,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: [await readFile(stack.caFile, 'utf8')], servername: 'mx.correo.test' },
    auth: { user: user.address, pass: user.password },
    logger: false,
  });
  await imap.connect();
  try {
    return await work(imap);
  } finally {
    await imap.logout();
  }
}

/** Flags and UID of each message in `folder`, by subject. */
async function folderState(
  user: { address: string; password: string },
  folder: string,
): Promise<Map<string, { uid: number; flags: Set<string> }>> {
  return withImap(user, async (imap) => {
    const state = new Map<string, { uid: number; flags: Set<string> }>();
    const lock = await imap.getMailboxLock(folder);
    try {
      if ((imap.mailbox ? imap.mailbox.exists : 0) === 0) return state;
      for await (const m of imap.fetch('1:*', { uid: true, flags: true, envelope: true })) {
        state.set(m.envelope?.subject ?? '', { uid: m.uid, flags: m.flags ?? new Set() });
      }
    } finally {
      lock.release();
    }
    return state;
  });
}

async function inboxOf(user: { address: string; password: string }, subject: string): Promise<string> {
  let found: string | undefined;
  await eventually(`"${subject}" in ${user.address}'s INBOX`, async () => {
    const messages = await readMailbox('imap', imapHost, user.address, user.password);
    found = messages.find((m) => headerValues(m, 'subject')[0] === subject);
    return found !== undefined;
  });
  return found!;
}

async function uidOf(folder: string, subject: string): Promise<number> {
  let uid: number | undefined;
  await eventually(`"${subject}" in ${folder}`, async () => {
    uid = (await folderState(stack.demo, folder)).get(subject)?.uid;
    return uid !== undefined;
  });
  return uid!;
}

describe(
  'webmail compose, drafts, attachments, autocomplete and settings over HTTP',
  { timeout: 300_000 },
  () => {
    before(async () => {
      stack = await startAllInOneProcess({ env: { SMTP_MAX_MESSAGE_BYTES: String(LIMIT) } });
      imapHost = imapHostOf(stack);
      await createAccount(stack, BOB);
      await createAccount(stack, CAROL);
      demo = await WebmailClient.signIn(stack.webmailUrl, stack.demo.address, stack.demo.password);
    });

    after(async () => {
      await stack?.stop();
    });

    test('a rich-text message with an attachment goes out as multipart/alternative, sanitised, and is filed in Sent', async () => {
      const file = randomBytes(40_000);
      const uploaded = await demo.upload('figures.bin', 'application/octet-stream', file);
      assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
      assert.equal(uploaded.body.size, file.length);
      const sent = await demo.ok('POST', '/api/send', {
        to: [BOB.address],
        subject: 'Rich hello',
        text: 'Hello Bob, in bold.',
        html:
          '<p>Hello <b>Bob</b>, in bold.</p><script>alert(1)</script>' +
          '<img src="https://tracker.example/p.gif" onerror="alert(2)"><a href="javascript:alert(3)">x</a>' +
          '<a href="https://example.org/">a link</a>',
        attachments: [uploaded.body.id],
      });
      assert.equal(sent.sent, true);

      const raw = await inboxOf(BOB, 'Rich hello');
      const parsed = await simpleParser(raw);
      assert.match(raw, /multipart\/alternative/i);
      assert.equal(parsed.text?.trim(), 'Hello Bob, in bold.');
      assert.match(String(parsed.html), /<b>Bob<\/b>/);
      assert.match(String(parsed.html), /href="https:\/\/example\.org\/"/);
      for (const hostile of ['<script', 'alert(', 'tracker.example', 'onerror', 'javascript:']) {
        assert.ok(!String(parsed.html).includes(hostile), `${hostile} taken out before sending`);
      }
      assert.equal(parsed.attachments.length, 1);
      assert.equal(parsed.attachments[0]!.filename, 'figures.bin');
      assert.ok(parsed.attachments[0]!.content.equals(file), 'the attachment arrives byte-identical');
      const inSent = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, 'Sent');
      assert.deepEqual(
        inSent.map((m) => headerValues(m, 'subject')[0]),
        ['Rich hello'],
      );
      assert.deepEqual(
        headerValues(inSent[0]!, 'message-id'),
        headerValues(raw, 'message-id'),
        'the same message',
      );
      // Sent: the upload is used up.
      const again = await demo.call('POST', '/api/send', {
        to: [BOB.address],
        subject: 'x',
        text: 'x',
        attachments: [uploaded.body.id],
      });
      assert.equal(again.status, 400);
      assert.equal(again.body.error?.code, 'attachment_not_found');
    });

    test('plain-text mode sends a single text/plain part', async () => {
      await demo.ok('POST', '/api/send', {
        to: [BOB.address],
        subject: 'Just text',
        text: 'No markup here.',
      });
      const raw = await inboxOf(BOB, 'Just text');
      assert.match(headerValues(raw, 'content-type')[0] ?? '', /^text\/plain/);
      assert.doesNotMatch(raw, /multipart/i);
    });

    test("From is limited to the user's own addresses: another is refused with 403 JSON, nothing sent", async () => {
      const refused = await demo.call('POST', '/api/send', {
        from: BOB.address,
        to: [CAROL.address],
        subject: 'Spoofed',
        text: 'I am Bob.',
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error?.code, 'not_your_address');
      assert.match(refused.body.error?.message ?? '', /not one of your addresses/);
      const own = await demo.ok('POST', '/api/send', {
        from: stack.demo.address.toUpperCase(),
        to: [CAROL.address],
        subject: 'Own address',
        text: 'hi',
      });
      assert.equal(own.sent, true);
      // An alias that delivers to the user is one of the user's addresses (the directory says so).
      const alias = await fetch(`${stack.adminUrl}/v1/aliases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'sales@example.test', targets: [stack.demo.address] }),
      });
      assert.equal(alias.status, 201, await alias.text());
      const identities = await demo.ok<{ addresses: string[] }>('GET', '/api/identities');
      assert.deepEqual(identities.addresses, [stack.demo.address, 'sales@example.test']);
      await demo.ok('POST', '/api/send', {
        from: 'sales@example.test',
        to: [CAROL.address],
        subject: 'From the alias',
        text: 'hi',
      });
      assert.deepEqual(headerValues(await inboxOf(CAROL, 'From the alias'), 'from'), ['sales@example.test']);
      const carolInbox = await readMailbox('imap', imapHost, CAROL.address, CAROL.password);
      assert.ok(!carolInbox.some((m) => /Spoofed/.test(m)));
    });

    test('reply: In-Reply-To and References set, \\Answered on the original; reply-all to everyone else', async () => {
      await deliver(BOB.address, stack.demo.address, 'Dinner plans', [
        '--header',
        'Message-Id: <dinner-1@example.test>',
        '--header',
        'References: <earlier@example.test>',
        '--header',
        `Cc: ${CAROL.address}`,
        '--body',
        'Pizza or pasta?',
      ]);
      const uid = await uidOf('INBOX', 'Dinner plans');
      await demo.ok('POST', '/api/send', {
        to: [BOB.address],
        cc: [CAROL.address],
        subject: 'Re: Dinner plans',
        text: 'Pasta.\n\n> Pizza or pasta?',
        inReplyTo: { folder: 'INBOX', uid },
      });
      for (const user of [BOB, CAROL]) {
        const reply = await inboxOf(user, 'Re: Dinner plans');
        assert.deepEqual(headerValues(reply, 'in-reply-to'), ['<dinner-1@example.test>']);
        assert.deepEqual(headerValues(reply, 'references'), [
          '<earlier@example.test> <dinner-1@example.test>',
        ]);
      }
      const flags = (await folderState(stack.demo, 'INBOX')).get('Dinner plans')!.flags;
      assert.ok(flags.has('\\Answered'), `\\Answered set: ${[...flags].join(' ')}`);
    });

    test("forward: the original's attachments go along, removable, and $Forwarded is set on it", async () => {
      const { writeFile } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const [one, two] = [randomBytes(20_000), randomBytes(10_000)];
      const files = [
        join(tmpdir(), `fwd-${randomBytes(4).toString('hex')}-one.bin`),
        join(tmpdir(), `fwd-${randomBytes(4).toString('hex')}-two.bin`),
      ];
      await writeFile(files[0]!, one);
      await writeFile(files[1]!, two);
      await deliver(BOB.address, stack.demo.address, 'Two files', [
        '--body',
        'Both attached.',
        '--attach-type',
        'application/octet-stream',
        '--attach',
        `@${files[0]}`,
        '--attach-type',
        'application/octet-stream',
        '--attach',
        `@${files[1]}`,
      ]);
      const uid = await uidOf('INBOX', 'Two files');
      const { attachments } = await demo.ok<{
        attachments: { id: string; filename: string; size: number }[];
      }>('POST', '/api/attachments/from-message', { folder: 'INBOX', uid });
      assert.deepEqual(
        attachments.map((a) => a.size),
        [one.length, two.length],
      );
      // The user drops the second one in the form.
      const removed = await demo.call('DELETE', `/api/attachments/${attachments[1]!.id}`);
      assert.equal(removed.status, 204);
      assert.equal((await demo.call('DELETE', `/api/attachments/${attachments[1]!.id}`)).status, 404);
      await demo.ok('POST', '/api/send', {
        to: [CAROL.address],
        subject: 'Fwd: Two files',
        text: '---------- Forwarded message ----------\nBoth attached.',
        attachments: [attachments[0]!.id],
        forwardOf: { folder: 'INBOX', uid },
      });
      const forwarded = await simpleParser(await inboxOf(CAROL, 'Fwd: Two files'));
      assert.equal(forwarded.attachments.length, 1);
      assert.ok(forwarded.attachments[0]!.content.equals(one), 'the original attachment, byte-identical');
      const flags = (await folderState(stack.demo, 'INBOX')).get('Two files')!.flags;
      assert.ok(flags.has('$Forwarded'), `$Forwarded set: ${[...flags].join(' ')}`);
    });

    test('an upload over the submission limit is refused with a clear 413 JSON, and so is a message over it', async () => {
      const big = await demo.upload('big.bin', 'application/octet-stream', randomBytes(LIMIT + 1));
      assert.equal(big.status, 413);
      assert.equal(big.body.error?.code, 'too_large');
      assert.match(big.body.error?.message ?? '', /larger than the 292 KB the mail server accepts/);
      // Each part fits, the message (base64 grows it by a third) does not.
      const part = await demo.upload('part.bin', 'application/octet-stream', randomBytes(LIMIT - 1000));
      assert.equal(part.status, 201);
      const tooBig = await demo.call('POST', '/api/send', {
        to: [BOB.address],
        subject: 'Too big',
        text: 'x',
        attachments: [part.body.id],
      });
      assert.equal(tooBig.status, 413);
      assert.equal(tooBig.body.error?.code, 'too_large');
      await demo.ok('DELETE', `/api/attachments/${String(part.body.id)}`);
      // Signed out, an upload is refused before its body is read.
      const anonymous = await fetch(`${stack.webmailUrl}/api/attachments?filename=x`, {
        method: 'POST',
        headers: { origin: stack.webmailUrl, 'content-type': 'application/octet-stream' },
        body: randomBytes(1000),
      });
      assert.equal(anonymous.status, 401);
    });

    test('drafts: saved to Drafts with \\Draft, each save replaces the last, reopened, deleted on send', async () => {
      const attachment = await demo.upload('notes.txt', 'text/plain', Buffer.from('draft notes\n'));
      const first = await demo.ok<{ folder: string; uid: number }>('POST', '/api/drafts', {
        to: [BOB.address],
        bcc: [CAROL.address],
        subject: 'Half written',
        text: 'First version',
        attachments: [attachment.body.id],
      });
      assert.equal(first.folder, 'Drafts');
      assert.ok(first.uid > 0);
      const second = await demo.ok<{ folder: string; uid: number }>('POST', '/api/drafts', {
        to: [BOB.address],
        bcc: [CAROL.address],
        subject: 'Half written',
        text: 'Second version',
        html: '<p>Second <i>version</i></p>',
        attachments: [attachment.body.id],
        draftUid: first.uid,
      });
      const drafts = await folderState(stack.demo, 'Drafts');
      assert.equal(drafts.size, 1, 'one version kept');
      const kept = drafts.get('Half written')!;
      assert.equal(kept.uid, second.uid);
      assert.ok(kept.flags.has('\\Draft'));

      // Reopened in a new session (another browser): fields, Bcc, rich text and the attachment are back.
      const elsewhere = await WebmailClient.signIn(stack.webmailUrl, stack.demo.address, stack.demo.password);
      const opened = await elsewhere.ok<{
        to: string[];
        bcc: string[];
        text: string;
        html?: string;
        attachments: string[];
        attachmentList: { filename: string; size: number }[];
        draftUid: number;
      }>('GET', `/api/drafts/open?uid=${second.uid}`);
      assert.deepEqual(opened.to, [BOB.address]);
      assert.deepEqual(opened.bcc, [CAROL.address]);
      assert.equal(opened.text.trim(), 'Second version');
      assert.match(opened.html ?? '', /<i>version<\/i>/);
      assert.deepEqual(
        opened.attachmentList.map((a) => [a.filename, a.size]),
        [['notes.txt', 12]],
      );
      await elsewhere.ok('POST', '/api/send', {
        to: opened.to,
        bcc: opened.bcc,
        subject: 'Half written',
        text: 'Final version',
        attachments: opened.attachments,
        draftUid: opened.draftUid,
      });
      assert.equal((await folderState(stack.demo, 'Drafts')).size, 0, 'the draft is gone once sent');
      const received = await simpleParser(await inboxOf(CAROL, 'Half written'));
      assert.equal(received.text?.trim(), 'Final version');
      assert.equal(received.attachments[0]?.content.toString(), 'draft notes\n');
      assert.equal(
        headerValues(await inboxOf(CAROL, 'Half written'), 'bcc').length,
        0,
        'Bcc not in the header',
      );

      // A reply's draft keeps what it answers; discarding it removes it for good.
      const dinner = (await folderState(stack.demo, 'INBOX')).get('Dinner plans')!.uid;
      const reply = await demo.ok<{ uid: number }>('POST', '/api/drafts', {
        to: [BOB.address],
        subject: 'Re: Dinner plans',
        text: 'Maybe',
        inReplyTo: { folder: 'INBOX', uid: dinner },
      });
      const reopened = await demo.ok<{ inReplyTo?: { folder: string; uid: number } }>(
        'GET',
        `/api/drafts/open?uid=${reply.uid}`,
      );
      assert.deepEqual(reopened.inReplyTo, { folder: 'INBOX', uid: dinner });
      assert.equal((await demo.call('DELETE', `/api/drafts/${reply.uid}`)).status, 204);
      assert.equal((await folderState(stack.demo, 'Drafts')).size, 0, 'discarded');
    });

    test('autocomplete suggests people the user wrote to or received from, per user, limited', async () => {
      await deliver('dora.explorer@remote.test', stack.demo.address, 'Hello from Dora');
      await uidOf('INBOX', 'Hello from Dora');
      const fresh = await WebmailClient.signIn(stack.webmailUrl, stack.demo.address, stack.demo.password);
      const byName = await fresh.ok<{ contacts: { address: string }[] }>('GET', '/api/contacts?q=dora');
      assert.deepEqual(
        byName.contacts.map((c) => c.address),
        ['dora.explorer@remote.test'],
      );
      const written = await fresh.ok<{ contacts: { address: string }[] }>('GET', '/api/contacts?q=carol');
      assert.deepEqual(
        written.contacts.map((c) => c.address),
        [CAROL.address],
      );
      const all = await fresh.ok<{ contacts: { address: string }[] }>('GET', '/api/contacts?q=.');
      assert.ok(all.contacts.length <= 10);
      assert.ok(!all.contacts.some((c) => c.address === stack.demo.address), 'never the user themself');
      // Bob never corresponded with Dora: his suggestions are his own.
      const bob = await WebmailClient.signIn(stack.webmailUrl, BOB.address, BOB.password);
      const bobs = await bob.ok<{ contacts: { address: string }[] }>('GET', '/api/contacts?q=dora');
      assert.deepEqual(bobs.contacts, []);
      const bobKnows = await bob.ok<{ contacts: { address: string }[] }>('GET', '/api/contacts?q=demo');
      assert.deepEqual(
        bobKnows.contacts.map((c) => c.address),
        [stack.demo.address],
      );
    });

    test('settings are kept per user on the server; the display name is used in From', async () => {
      const defaults = await demo.ok<Record<string, string>>('GET', '/api/settings');
      assert.deepEqual(defaults, {
        displayName: '',
        signature: '',
        replyMode: 'reply',
        imagesPolicy: 'ask',
        composeMode: 'text',
      });
      const bad = await demo.call('PUT', '/api/settings', { replyMode: 'shout' });
      assert.equal(bad.status, 400);
      const unknown = await demo.call('PUT', '/api/settings', { theme: 'dark' });
      assert.equal(unknown.status, 400);
      await demo.ok('PUT', '/api/settings', {
        displayName: 'Demo Person',
        signature: '-- \nDemo',
        replyMode: 'reply-all',
        imagesPolicy: 'always',
        composeMode: 'html',
      });
      const elsewhere = await WebmailClient.signIn(stack.webmailUrl, stack.demo.address, stack.demo.password);
      const saved = await elsewhere.ok<Record<string, string>>('GET', '/api/settings');
      assert.equal(saved.displayName, 'Demo Person');
      assert.equal(saved.replyMode, 'reply-all');
      assert.equal(saved.imagesPolicy, 'always');
      const bob = await WebmailClient.signIn(stack.webmailUrl, BOB.address, BOB.password);
      assert.equal(
        (await bob.ok<Record<string, string>>('GET', '/api/settings')).displayName,
        '',
        'per user',
      );

      await demo.ok('POST', '/api/send', { to: [BOB.address], subject: 'With my name', text: 'hi' });
      const raw = await inboxOf(BOB, 'With my name');
      assert.deepEqual(headerValues(raw, 'from'), [`Demo Person <${stack.demo.address}>`]);
    });

    test('set up your mail client: the endpoints and a mobileconfig download without the password', async () => {
      const setup = await demo.ok<{ hostname: string; endpoints: { protocol: string; port: number }[] }>(
        'GET',
        '/api/settings/client-setup',
      );
      assert.ok(setup.endpoints.some((e) => e.protocol === 'imap' && e.port === stack.ports.imap));
      assert.ok(setup.endpoints.some((e) => e.protocol === 'smtp' && e.port === stack.ports.submission));
      const profile = await demo.download('/api/settings/mobileconfig');
      assert.equal(profile.status, 200);
      assert.equal(profile.headers.get('content-type'), 'application/x-apple-aspen-config');
      assert.match(
        profile.headers.get('content-disposition') ?? '',
        /attachment; filename=".+\.mobileconfig"/,
      );
      const xml = await profile.text();
      assert.match(xml, /<key>EmailAddress<\/key><string>[^<]+<\/string>/);
      assert.ok(xml.includes(stack.demo.address));
      assert.ok(
        xml.includes(`<integer>${stack.ports.imap}</integer>`) ||
          xml.includes(`<integer>${stack.ports.imaps}</integer>`),
      );
      assert.ok(!xml.includes(stack.demo.password), 'the password is never in the profile');
    });

    test('run alone (its own main.ts with DATABASE_URL), the webmail finds the same settings and describes client setup', async () => {
      const alone = await startServiceProcess(
        fileURLToPath(new URL('../src/main.ts', import.meta.url)),
        standaloneWebmailEnv(stack, {
          DATABASE_URL: stack.databaseUrl,
          WEBMAIL_SECURE_COOKIE: 'false',
          CLIENT_HOSTNAME: 'mail.example.test',
        }),
      );
      try {
        const url = alone.listeners.webmail!;
        const client = await WebmailClient.signIn(url, stack.demo.address, stack.demo.password);
        const settings = await client.ok<Record<string, string>>('GET', '/api/settings');
        assert.equal(settings.displayName, 'Demo Person', 'the settings saved through the all-in-one');
        const setup = await client.ok<{ hostname: string; endpoints: { port: number }[] }>(
          'GET',
          '/api/settings/client-setup',
        );
        assert.equal(setup.hostname, 'mail.example.test');
        assert.ok(
          setup.endpoints.some((e) => e.port === 993),
          'the standard ports when CLIENT_* say nothing',
        );
      } finally {
        await alone.process.stop('SIGTERM');
      }
    });
  },
);
