import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '@correo/config';
import { pino } from 'pino';
import { eventually, startAllInOneProcess, type AllInOneProcess } from '@correo/testkit';
import { startWebmail, webmailSection } from '../src/index.js';
import { readMailbox, headerValues, type MailHost } from '../../../e2e/test/support/mailbox-reader.js';
import { HOSTILE_MAILS } from './fixtures/hostile-html.js';
import { createAccount, imapHostOf } from './support/all-in-one.js';
import {
  ARTIFACTS_DIR,
  deliverToDemo,
  ensureFrontEndBuilt,
  launchChromium,
  standaloneWebmailEnv,
  startForeignHost,
  type ForeignHost,
} from './support/browser.js';

/*
 * The webmail as a person uses it: Debian's chromium against the embedded default (make dev's
 * all-in-one process), mail delivered by swaks, results checked with Python's imaplib, never with
 * the webmail itself.
 */

const BOB = { address: 'bob@example.test', password: randomBytes(12).toString('base64url') };

let stack: AllInOneProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let foreign: ForeignHost;
let imapHost: MailHost;
/** Every URL the browser asked for, from the page and every frame in it. */
const requests: string[] = [];
const dialogs: string[] = [];

const deliver = (from: string, subject: string, extra: string[] = []) =>
  deliverToDemo(stack, from, subject, extra);

const rowFor = (subject: string) => page.locator('.message-row', { hasText: subject });

async function openMessage(subject: string): Promise<void> {
  try {
    await rowFor(subject).click();
    await page.locator('#message-subject', { hasText: subject }).waitFor();
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'failed-open.png') }).catch(() => {});
    throw error;
  }
}

function subjects(messages: string[]): string[] {
  return messages.map((message) => headerValues(message, 'subject')[0] ?? '');
}

describe('webmail in a real browser', { timeout: 600_000 }, () => {
  before(async () => {
    await ensureFrontEndBuilt();
    [stack, browser, foreign] = await Promise.all([
      startAllInOneProcess(),
      launchChromium(),
      startForeignHost(),
    ]);
    imapHost = imapHostOf(stack);
    await createAccount(stack, BOB);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.on('request', (request) => requests.push(request.url()));
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await mkdir(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await foreign?.close();
    await stack?.stop();
  });

  test('a wrong password is refused in words, then the right one signs in', async () => {
    await page.goto(stack.webmailUrl);
    await page.getByLabel('Mail address').fill(stack.demo.address);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'did not work' }).waitFor();
    await page.getByLabel('Password').fill(stack.demo.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Folders' }).getByText('Inbox').waitFor();
    for (const name of ['Sent', 'Drafts', 'Trash']) {
      await page.getByRole('navigation', { name: 'Folders' }).getByText(name).waitFor();
    }
  });

  test('the session cookie is httpOnly and SameSite=Strict (Secure is off only for this loopback dev setup)', async () => {
    const cookies = await context.cookies(stack.webmailUrl);
    assert.equal(cookies.length, 1);
    const [cookie] = cookies;
    assert.equal(cookie!.name, 'correo-webmail');
    assert.equal(cookie!.httpOnly, true);
    assert.equal(cookie!.sameSite, 'Strict');
    assert.equal(cookie!.secure, false);
    assert.equal(await page.evaluate(() => document.cookie), '', 'script cannot read the session cookie');
  });

  test('a message delivered by swaks appears in the open inbox without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    const started = Date.now();
    await deliver(BOB.address, 'Lunch on Friday?', ['--body', 'Shall we meet at noon?\nBob']);
    await rowFor('Lunch on Friday?').waitFor();
    const appearedMs = Date.now() - started;
    assert.equal(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere), true);
    assert.match(await page.locator('.folder[data-path="INBOX"] .unseen').innerText(), /^1$/);
    console.log(`# new mail shown ${appearedMs} ms after swaks started`);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'inbox.png') });
  });

  test("open it, reply; the reply is in Sent and in the sender's INBOX (read with imaplib)", async () => {
    await openMessage('Lunch on Friday?');
    await page.locator('pre.body', { hasText: 'Shall we meet at noon?' }).waitFor();
    await page.getByRole('button', { name: 'Reply (r)' }).click();
    assert.equal(await page.getByLabel('To').inputValue(), BOB.address);
    assert.equal(await page.getByLabel('Subject').inputValue(), 'Re: Lunch on Friday?');
    assert.match(
      await page.getByRole('textbox', { name: 'Message text' }).inputValue(),
      /> Shall we meet at noon\?/,
    );
    await page.getByRole('textbox', { name: 'Message text' }).press('Control+Home');
    await page.getByRole('textbox', { name: 'Message text' }).pressSequentially('Noon works. ');
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'reply.png') });
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').filter({ hasText: 'Message sent.' }).waitFor();

    const sent = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, 'Sent');
    assert.deepEqual(subjects(sent), ['Re: Lunch on Friday?']);
    let received: string[] = [];
    await eventually("the reply in bob's INBOX", async () => {
      received = await readMailbox('imap', imapHost, BOB.address, BOB.password);
      return received.length === 1;
    });
    const reply = received[0]!;
    assert.deepEqual(subjects(received), ['Re: Lunch on Friday?']);
    assert.deepEqual(headerValues(reply, 'from'), [stack.demo.address]);
    assert.equal(headerValues(reply, 'in-reply-to').length, 1, 'threaded under the original');
    assert.match(reply, /Noon works\./);
    assert.match(reply, /> Shall we meet at noon\?/);
  });

  test('search finds by words through IMAP SEARCH', async () => {
    await deliver(BOB.address, 'Quarterly report', ['--body', 'the numbers are attached']);
    await rowFor('Quarterly report').waitFor();
    await page.getByLabel('Search mail').fill('quarterly');
    await page.getByLabel('Search mail').press('Enter');
    await page.locator('.list-head h2', { hasText: 'Search: quarterly' }).waitFor();
    await eventually(
      'only the matching message listed',
      async () => (await page.locator('.message-row').count()) === 1,
    );
    assert.equal(await rowFor('Quarterly report').count(), 1);
    await page.getByRole('button', { name: 'Inbox' }).click();
    await rowFor('Lunch on Friday?').waitFor();
  });

  test('an attachment is listed and downloads byte-identical', async () => {
    const file = join(tmpdir(), `webmail-attachment-${randomBytes(4).toString('hex')}.bin`);
    const bytes = randomBytes(70_000);
    await writeFile(file, bytes);
    await deliver(BOB.address, 'The figures', [
      '--body',
      'See the file.',
      '--attach-type',
      'application/octet-stream',
      '--attach',
      `@${file}`,
    ]);
    await openMessage('The figures');
    const link = page.getByRole('region', { name: 'Attachments' }).getByRole('link');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = await readFile((await download.path())!);
    assert.ok(saved.equals(bytes), 'the downloaded attachment has the sent bytes');
  });

  test('flag, mark unread, move and delete to Trash (checked with imaplib)', async () => {
    await openMessage('Quarterly report');
    await page.getByRole('button', { name: 'Flag', exact: true }).click();
    await page.getByRole('button', { name: 'Unflag' }).waitFor();
    await page.getByRole('button', { name: 'Mark unread' }).click();
    await page.getByRole('button', { name: 'Mark read' }).waitFor();
    await page.getByLabel('Move to folder').selectOption('Archive');
    await page.getByRole('status').filter({ hasText: 'moved to Archive' }).waitFor();
    const archived = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, 'Archive');
    assert.deepEqual(subjects(archived), ['Quarterly report']);

    await openMessage('The figures');
    await page.getByRole('button', { name: 'Delete (#)' }).click();
    await page.getByRole('status').filter({ hasText: 'Message deleted.' }).waitFor();
    const trash = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, 'Trash');
    assert.deepEqual(subjects(trash), ['The figures']);
    const inbox = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password);
    assert.deepEqual(subjects(inbox), ['Lunch on Friday?']);
  });

  test('reply all, forward (checked with imaplib), raw source, archive', async () => {
    await deliver(BOB.address, 'Team plans', [
      '--header',
      'Cc: carol@remote.test',
      '--body',
      'Plans for the team.',
    ]);
    await openMessage('Team plans');
    await page.getByRole('button', { name: 'Reply all (a)' }).click();
    assert.equal(await page.getByLabel('To').inputValue(), BOB.address);
    assert.equal(
      await page.getByLabel('Cc', { exact: true }).inputValue(),
      'carol@remote.test',
      'everyone else, not me',
    );
    await page.getByRole('button', { name: 'Discard' }).click();

    await openMessage('Team plans');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Source' }).click(),
    ]);
    assert.match(await readFile((await download.path())!, 'utf8'), /^Subject: Team plans\r?$/m);

    await page.getByRole('button', { name: 'Forward (f)' }).click();
    assert.equal(await page.getByLabel('Subject').inputValue(), 'Fwd: Team plans');
    assert.match(
      await page.getByRole('textbox', { name: 'Message text' }).inputValue(),
      /Forwarded message[\s\S]*Plans for the team\./,
    );
    await page.getByLabel('To').fill(BOB.address);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').filter({ hasText: 'Message sent.' }).waitFor();
    await eventually("the forward in bob's INBOX", async () =>
      subjects(await readMailbox('imap', imapHost, BOB.address, BOB.password)).includes('Fwd: Team plans'),
    );

    await openMessage('Team plans');
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'moved to Archive' }).waitFor();
    const archived = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, 'Archive');
    assert.deepEqual(subjects(archived).sort(), ['Quarterly report', 'Team plans']);
  });

  test('keyboard: j opens the next message, / goes to search', async () => {
    await page.locator('body').click({ position: { x: 5, y: 790 } });
    await page.keyboard.press('j');
    await page.locator('#message-subject', { hasText: 'Lunch on Friday?' }).waitFor();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'search');
    await page.locator('#message-subject').click();
  });

  test('usable at phone width: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.locator('.message-row').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone screen`);
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'phone.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  test('hostile HTML renders with no script run and no request to any foreign host', async () => {
    for (const mail of HOSTILE_MAILS) {
      await deliver(BOB.address, `Hostile: ${mail.name}`, [
        '--add-header',
        'Content-Type: text/html; charset=utf-8',
        '--body',
        mail.html.replaceAll('FOREIGN', foreign.origin),
      ]);
    }
    const webmailOrigin = new URL(stack.webmailUrl).origin;
    requests.length = 0;
    for (const mail of HOSTILE_MAILS) {
      await openMessage(`Hostile: ${mail.name}`);
      const body = page.frameLocator('iframe.body');
      await body.getByText(mail.marker).waitFor();
      // Hover and click what the mail offers, as a reader would.
      await body.getByText(mail.marker).hover();
      if (mail.marker === 'canary-urls')
        await body
          .locator('#js')
          .click()
          .catch(() => {});
    }
    await page.getByRole('button', { name: 'Show images', exact: true }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'hostile-pixel.png') });
    // Anything that could still be in flight (a script's fetch, a refresh) has had its own page load
    // and the time of every later open to arrive; a round trip to the foreign host settles it.
    await fetch(`${foreign.origin}/settled`);

    const outside = requests.filter((url) => !url.startsWith(`${webmailOrigin}/`));
    assert.deepEqual(outside, [], 'the browser asked nothing of any other origin');
    assert.deepEqual(foreign.hits, ['/settled'], 'the foreign host saw no request from the mails');
    assert.deepEqual(dialogs, [], 'no script opened a dialog');
    assert.equal(page.url(), `${stack.webmailUrl}/`, 'nothing navigated the page');
    // The frame is sandboxed without scripts: script cannot run in it, whatever slips through.
    const sandbox = await page.locator('iframe.body').getAttribute('sandbox');
    assert.ok(
      sandbox !== null && !sandbox.includes('allow-scripts') && !sandbox.includes('allow-same-origin'),
    );
  });

  test('a cross-site form post and a cross-site request change nothing', async () => {
    const inboxBefore = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password);
    const target = `${stack.webmailUrl}/api/messages/delete`;
    const body = JSON.stringify({ folder: 'INBOX', uids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] });
    foreign.pages.set(
      '/attack.html',
      `<!doctype html><form id="f" method="post" action="${target}" enctype="text/plain">
<input name='${body.slice(0, -1)},"x":"' value='"}'></form>
<script>fetch(${JSON.stringify(target)}, {method: 'POST', mode: 'no-cors', credentials: 'include',
  headers: {'content-type': 'application/json'}, body: ${JSON.stringify(body)}}).finally(() => f.submit())</script>`,
    );
    const attacker = await context.newPage();
    await attacker.goto(`${foreign.origin}/attack.html`);
    await attacker.waitForURL(target);
    await attacker.close();

    // Same-origin requests that lack what only the page has: the Origin, then the CSRF token.
    const [cookie] = await context.cookies(stack.webmailUrl);
    const headers = { cookie: `${cookie!.name}=${cookie!.value}`, 'content-type': 'application/json' };
    const foreignOrigin = await fetch(target, {
      method: 'POST',
      headers: { ...headers, origin: foreign.origin },
      body,
    });
    assert.equal(foreignOrigin.status, 403);
    assert.equal(((await foreignOrigin.json()) as { error: { code: string } }).error.code, 'cross_site');
    const noToken = await fetch(target, {
      method: 'POST',
      headers: { ...headers, origin: stack.webmailUrl },
      body,
    });
    assert.equal(noToken.status, 403);
    assert.equal(((await noToken.json()) as { error: { code: string } }).error.code, 'csrf');

    const inboxAfter = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password);
    assert.deepEqual(subjects(inboxAfter), subjects(inboxBefore));
    const trash = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, 'Trash');
    assert.deepEqual(subjects(trash), ['The figures']);
  });

  test('empty Trash asks first, then deletes for good (checked with imaplib)', async () => {
    await page.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name: 'Trash' }).click();
    await rowFor('The figures').waitFor();
    await page.getByRole('button', { name: 'Empty', exact: true }).click();
    await page.getByRole('button', { name: 'Delete 1 for good' }).click();
    await page.getByRole('status').filter({ hasText: 'Trash emptied.' }).waitFor();
    const trash = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, 'Trash');
    assert.deepEqual(trash, []);
    await page.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name: 'Inbox' }).click();
  });

  test("refusals come back as JSON 4xx in the user's words, never a stack trace", async () => {
    const [cookie] = await context.cookies(stack.webmailUrl);
    const headers = { cookie: `${cookie!.name}=${cookie!.value}`, origin: stack.webmailUrl };
    const { csrfToken } = (await (await fetch(`${stack.webmailUrl}/api/session`, { headers })).json()) as {
      csrfToken: string;
    };
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${stack.webmailUrl}${path}`, {
        method,
        headers: { ...headers, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await response.json()) as { error: { code: string; message: string } };
      return { status: response.status, ...json.error };
    };
    const cases: [Awaited<ReturnType<typeof call>>, number, string, RegExp][] = [
      [
        await call('GET', '/api/messages?folder=Nowhere'),
        404,
        'folder_not_found',
        /no folder named "Nowhere"/,
      ],
      [
        await call('GET', '/api/message?folder=INBOX&uid=999999'),
        404,
        'message_not_found',
        /no longer exists/,
      ],
      [
        await call('POST', '/api/send', { to: ['not an address'], subject: 'x', text: 'x' }),
        400,
        'invalid_address',
        /is not an email address/,
      ],
      [
        await call('POST', '/api/send', { to: [], subject: 'x', text: 'x' }),
        400,
        'no_recipients',
        /at least one recipient/,
      ],
      [
        await call('POST', '/api/messages/move', { folder: 'INBOX', uids: [1], to: 'Nowhere' }),
        404,
        'folder_not_found',
        /Nowhere/,
      ],
      [
        await call('POST', '/api/folders/empty', { folder: 'INBOX' }),
        422,
        'not_emptiable',
        /Only the Trash and Junk/,
      ],
      [
        await call('POST', '/api/messages/flags', { folder: 'INBOX', uids: [1], colour: 'red' }),
        400,
        'invalid_request',
        /colour/,
      ],
    ];
    for (const [answer, status, code, message] of cases) {
      assert.equal(answer.status, status, JSON.stringify(answer));
      assert.equal(answer.code, code, JSON.stringify(answer));
      assert.match(answer.message, message);
      assert.doesNotMatch(answer.message, /\bat \w+ \(|node_modules|Error:/);
    }
  });

  test('one live-update stream per session: a new one ends the one before (streams cannot pile up)', async () => {
    const [cookie] = await context.cookies(stack.webmailUrl);
    const headers = { cookie: `${cookie!.name}=${cookie!.value}` };
    const controller = new AbortController();
    try {
      // The page's own stream is open; this one replaces it, and the next replaces this one.
      const first = await fetch(`${stack.webmailUrl}/api/events`, { headers, signal: controller.signal });
      assert.equal(first.status, 200);
      const second = await fetch(`${stack.webmailUrl}/api/events`, { headers, signal: controller.signal });
      assert.equal(second.status, 200);
      const rest = await first.text();
      assert.match(rest, /event: replaced/);
      await second.body?.cancel();
    } finally {
      controller.abort();
    }
  });

  test('sign-out ends the session and its IMAP connection', async () => {
    const [cookie] = await context.cookies(stack.webmailUrl);
    const before = await activeImapConnections();
    assert.ok(before >= 1, `an IMAP connection is open for the session (${before})`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Mail address').waitFor();
    const stale = await fetch(`${stack.webmailUrl}/api/folders`, {
      headers: { cookie: `${cookie!.name}=${cookie!.value}` },
    });
    assert.equal(stale.status, 401);
    await eventually(
      'the IMAP connection to close',
      async () => (await activeImapConnections()) === before - 1,
    );
  });

  test('mail clients set themselves up from the webmail host (autoconfig, autodiscover without Origin)', async () => {
    const thunderbird = await fetch(
      `${stack.webmailUrl}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=${stack.demo.address}`,
    );
    assert.equal(thunderbird.status, 200);
    assert.match(await thunderbird.text(), new RegExp(`<port>${stack.ports.imap}</port>`));
    const outlook = await fetch(`${stack.webmailUrl}/autodiscover/autodiscover.xml`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body:
        '<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">' +
        `<Request><EMailAddress>${stack.demo.address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`,
    });
    assert.equal(outlook.status, 200);
    assert.match(await outlook.text(), /<Protocol>/);
    const foreignDomain = await fetch(
      `${stack.webmailUrl}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=someone@elsewhere.test`,
    );
    assert.equal(foreignDomain.status, 404);
  });

  test('deployed on its own with production settings: a Secure __Host- cookie, and idle expiry ends the IMAP session', async () => {
    const config = loadConfig(standaloneWebmailEnv(stack, { WEBMAIL_SESSION_IDLE_SECONDS: '10' }), {
      webmail: webmailSection,
    });
    assert.equal(config.webmail.secureCookie, true, 'Secure is the default');
    const webmail = await startWebmail({ config: config.webmail, logger: pino({ level: 'silent' }) });
    try {
      const baseline = await activeImapConnections();
      const signIn = await fetch(`${webmail.url}/api/session`, {
        method: 'POST',
        headers: { origin: webmail.url, 'content-type': 'application/json' },
        body: JSON.stringify({ address: stack.demo.address, password: stack.demo.password }),
      });
      assert.equal(signIn.status, 200);
      const setCookie = signIn.headers.get('set-cookie') ?? '';
      assert.match(
        setCookie,
        /^__Host-correo-webmail=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
      );
      const cookie = setCookie.split(';')[0]!;
      const folders = await fetch(`${webmail.url}/api/folders`, { headers: { cookie } });
      assert.equal(folders.status, 200);
      assert.equal(webmail.sessionCount(), 1);
      // Nobody uses the session: it ends by itself, and its IMAP connection with it.
      await eventually('the idle session to end', () => webmail.sessionCount() === 0, 60_000, 250);
      await eventually(
        'its IMAP connection to close',
        async () => (await activeImapConnections()) <= baseline,
      );
      const after = await fetch(`${webmail.url}/api/folders`, { headers: { cookie } });
      assert.equal(after.status, 401);
      assert.equal(((await after.json()) as { error: { code: string } }).error.code, 'signed_out');
    } finally {
      await webmail.close();
    }
  });
});

async function activeImapConnections(): Promise<number> {
  const metrics = await stack.metrics();
  return Number(/^correo_imap_active_connections(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? NaN);
}
