import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { simpleParser } from 'mailparser';
import { eventually, startAllInOneProcess, type AllInOneProcess } from '@correo/testkit';
import { readMailbox, headerValues, type MailHost } from '../../../e2e/test/support/mailbox-reader.js';
import { createAccount, deliver as deliverBySwaks, imapHostOf } from './support/all-in-one.js';
import { ARTIFACTS_DIR, ensureFrontEndBuilt, launchChromium, signInPage } from './support/browser.js';

/*
 * Writing mail in a real browser (Debian's chromium): rich text, autocomplete, attachments, drafts
 * saved while typing and resumed, settings; results read with Python's imaplib, never the webmail.
 */

const LIMIT = 400_000;
const BOB = { address: 'bob@example.test', password: randomBytes(12).toString('base64url') };

let stack: AllInOneProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let imapHost: MailHost;

const deliver = (subject: string, extra: string[] = []) =>
  deliverBySwaks(stack, BOB.address, stack.demo.address, subject, extra);

async function mailbox(user: { address: string; password: string }, folder = 'INBOX'): Promise<string[]> {
  return readMailbox('imap', imapHost, user.address, user.password, folder);
}

async function received(subject: string): Promise<string> {
  let found: string | undefined;
  await eventually(`"${subject}" in bob's INBOX`, async () => {
    found = (await mailbox(BOB)).find((m) => headerValues(m, 'subject')[0] === subject);
    return found !== undefined;
  });
  return found!;
}

const subjects = (messages: string[]) => messages.map((m) => headerValues(m, 'subject')[0] ?? '');
const compose = () => page.getByRole('form', { name: /New message|Reply|Forward|Draft/ });

async function shot(name: string) {
  await page.screenshot({ path: join(ARTIFACTS_DIR, name) });
}

describe('webmail compose and settings in a real browser', { timeout: 600_000 }, () => {
  before(async () => {
    await ensureFrontEndBuilt();
    [stack, browser] = await Promise.all([
      startAllInOneProcess({ env: { SMTP_MAX_MESSAGE_BYTES: String(LIMIT) } }),
      launchChromium(),
    ]);
    imapHost = imapHostOf(stack);
    await createAccount(stack, BOB);
    // Bob has written before: autocomplete knows him from the INBOX.
    await deliver('Hello from Bob', ['--body', 'Hi there.']);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    await signInPage(page, stack.webmailUrl, stack.demo.address, stack.demo.password);
    await page.locator('.message-row', { hasText: 'Hello from Bob' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('rich text with autocomplete and attachments; the draft is saved while typing, replaced, resumed and sent', async () => {
    await page.getByRole('button', { name: 'Compose' }).click();
    await page.getByRole('button', { name: 'Rich text' }).click();
    const to = page.getByLabel('To', { exact: true });
    await to.pressSequentially('bo');
    await page.getByRole('option', { name: BOB.address }).click();
    assert.equal(await to.inputValue(), `${BOB.address}, `);
    await page.getByLabel('Subject').fill('Rich draft');
    const editor = page.getByRole('textbox', { name: 'Message text' });
    await editor.click();
    await editor.pressSequentially('Hello ');
    await page.getByRole('button', { name: 'Bold' }).click();
    await editor.pressSequentially('bold');
    await page.getByRole('button', { name: 'Bold' }).click();
    await editor.pressSequentially(' world');

    const keep = randomBytes(50_000);
    const drop = randomBytes(1_000);
    await page.locator('#files').setInputFiles([
      { name: 'keep.bin', mimeType: 'application/octet-stream', buffer: keep },
      { name: 'drop.bin', mimeType: 'application/octet-stream', buffer: drop },
    ]);
    const list = compose().getByRole('list', { name: 'Attachments' });
    // On a slow line the upload shows its progress, then the file joins the list.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 32 * 1024,
    });
    await page
      .locator('#files')
      .setInputFiles([
        { name: 'slow.bin', mimeType: 'application/octet-stream', buffer: randomBytes(200_000) },
      ]);
    await page.getByRole('progressbar', { name: 'Uploading slow.bin' }).waitFor();
    await list.getByText('slow.bin').waitFor();
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await page.getByRole('progressbar').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Remove slow.bin' }).click();
    await list.getByText('keep.bin').waitFor();
    await list.getByText('drop.bin').waitFor();
    await page.getByRole('button', { name: 'Remove drop.bin' }).click();
    await eventually(
      'drop.bin removed from the form',
      async () => (await list.getByText('drop.bin').count()) === 0,
    );

    // Too large for the submission server: refused in words, before it is sent anywhere.
    await page
      .locator('#files')
      .setInputFiles([
        { name: 'huge.bin', mimeType: 'application/octet-stream', buffer: randomBytes(LIMIT + 10) },
      ]);
    await compose().getByRole('alert').filter({ hasText: 'larger than the' }).waitFor();

    await compose().getByRole('status').filter({ hasText: 'Draft saved' }).waitFor();
    await shot('compose-rich.png');
    await eventually('one draft in Drafts', async () => {
      const drafts = await mailbox(stack.demo, 'Drafts');
      return drafts.length === 1 && /keep\.bin/.test(drafts[0]!);
    });
    // Typing more saves a new version in place of the old one.
    await editor.press('End');
    await editor.pressSequentially(', again');
    let seen = '';
    try {
      await eventually(
        'the draft replaced by the new version',
        async () => {
          const drafts = await mailbox(stack.demo, 'Drafts');
          seen = `${drafts.length} drafts: ${(await Promise.all(drafts.map(async (d) => (await simpleParser(d)).text))).join(' | ')}`;
          return drafts.length === 1 && (await simpleParser(drafts[0]!)).text?.includes('again') === true;
        },
        15_000,
      );
    } catch (error) {
      await shot('failed-draft.png');
      throw new Error(`${String(error)}; ${seen}; status: ${await compose().locator('.saved').innerText()}`);
    }

    // Type a little more and leave at once for another message: what was typed still reaches Drafts.
    await editor.pressSequentially('!');
    await page.locator('.message-row', { hasText: 'Hello from Bob' }).click();
    await page.locator('#message-subject', { hasText: 'Hello from Bob' }).waitFor();
    await eventually('the last typing saved on leaving', async () => {
      const drafts = await mailbox(stack.demo, 'Drafts');
      return drafts.length === 1 && (await simpleParser(drafts[0]!)).text?.includes('again!') === true;
    });
    // Resume it from the Drafts folder.
    await page.locator('.folder[data-path="Drafts"]').click();
    await page.locator('.message-row', { hasText: 'Rich draft' }).click();
    await compose().getByRole('heading', { name: 'Draft' }).waitFor();
    assert.equal(await page.getByLabel('To', { exact: true }).inputValue(), BOB.address);
    assert.equal(await page.getByLabel('Subject').inputValue(), 'Rich draft');
    await compose().getByRole('list', { name: 'Attachments' }).getByText('keep.bin').waitFor();
    assert.match(await page.getByRole('textbox', { name: 'Message text' }).innerHTML(), /<b>bold<\/b>/);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').filter({ hasText: 'Message sent.' }).waitFor();

    const message = await simpleParser(await received('Rich draft'));
    assert.match(String(message.html), /Hello <b>bold<\/b>(?: |&nbsp;)world, again!/);
    assert.match(message.text ?? '', /Hello bold\sworld, again/);
    assert.equal(message.attachments.length, 1);
    assert.ok(message.attachments[0]!.content.equals(keep), 'the attachment arrives byte-identical');
    assert.deepEqual(await mailbox(stack.demo, 'Drafts'), [], 'the draft is gone once sent');
    assert.deepEqual(subjects(await mailbox(stack.demo, 'Sent')), ['Rich draft']);
  });

  test("forward brings the original's attachments into the form", async () => {
    const file = join(ARTIFACTS_DIR, `original-${randomBytes(4).toString('hex')}.bin`);
    const bytes = randomBytes(20_000);
    await (await import('node:fs/promises')).writeFile(file, bytes);
    await deliver('With a file', [
      '--body',
      'See attached.',
      '--attach-type',
      'application/octet-stream',
      '--attach',
      `@${file}`,
    ]);
    await page.locator('.folder[data-path="INBOX"]').click();
    await page.locator('.message-row', { hasText: 'With a file' }).click();
    await page.locator('#message-subject', { hasText: 'With a file' }).waitFor();
    await page.getByRole('button', { name: 'Forward (f)' }).click();
    const list = compose().getByRole('list', { name: 'Attachments' });
    await list.getByText(/original-.*\.bin/).waitFor();
    await page.getByLabel('To', { exact: true }).fill(BOB.address);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').filter({ hasText: 'Message sent.' }).waitFor();
    const forwarded = await simpleParser(await received('Fwd: With a file'));
    assert.ok(forwarded.attachments[0]?.content.equals(bytes), "the original's attachment, byte-identical");
  });

  test('settings are saved on the server and used: signature, reply mode, remote images; client setup and mobileconfig', async () => {
    const settingsButton = page.getByRole('button', { name: 'Settings', exact: true });
    await settingsButton.click();
    await page.getByLabel('Display name').fill('Demo User');
    await page.getByLabel('Signature').fill('Demo from the browser');
    await page.getByLabel('Reply (r) answers').selectOption('reply-all');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
    await page.getByRole('heading', { name: 'Set up your mail client' }).waitFor();
    await page.getByRole('cell', { name: String(stack.ports.imap), exact: true }).waitFor();
    await shot('settings.png');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /Download profile/ }).click(),
    ]);
    assert.match(download.suggestedFilename(), /\.mobileconfig$/);
    const profile = await readFile((await download.path())!, 'utf8');
    assert.ok(profile.includes(`<string>${stack.demo.address}</string>`));
    assert.ok(profile.includes('<string>Demo User</string>'));

    // A reload (a new page) gets them back from the server.
    await page.reload();
    await settingsButton.click();
    assert.equal(await page.getByLabel('Display name').inputValue(), 'Demo User');
    assert.equal(await page.getByLabel('Reply (r) answers').inputValue(), 'reply-all');
    await settingsButton.click();

    await deliver('Group question', ['--header', 'Cc: carol@remote.test', '--body', 'Who comes?']);
    await page.locator('.message-row', { hasText: 'Group question' }).click();
    await page.locator('#message-subject', { hasText: 'Group question' }).waitFor();
    await page.keyboard.press('r');
    assert.equal(
      await page.getByLabel('Cc', { exact: true }).inputValue(),
      'carol@remote.test',
      'r answers everyone',
    );
    assert.match(
      await page.getByRole('textbox', { name: 'Message text' }).inputValue(),
      /^\n\n-- \nDemo from the browser\n\nOn .* wrote:\n> Who comes\?/,
    );
    await page.getByRole('button', { name: 'Discard' }).click();

    // Remote images: "always" loads them at once, "never" does not even offer them.
    await deliver('Newsletter', [
      '--add-header',
      'Content-Type: text/html; charset=utf-8',
      '--body',
      '<p>News of the week</p><img src="http://127.0.0.1:9/pixel.png" alt="">',
    ]);
    const bodyFrame = page.locator('iframe.body');
    for (const policy of ['always', 'never'] as const) {
      await settingsButton.click();
      await page.getByLabel('Remote images in mail').selectOption(policy);
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
      await settingsButton.click();
      await page.locator('.message-row', { hasText: 'Newsletter' }).click();
      await page.locator('#message-subject', { hasText: 'Newsletter' }).waitFor();
      await page.frameLocator('iframe.body').getByText('News of the week').waitFor();
      const src = (await bodyFrame.getAttribute('src')) ?? '';
      assert.equal(/images=true/.test(src), policy === 'always', `${policy}: ${src}`);
      assert.equal(await page.getByRole('button', { name: 'Show images' }).count(), 0, policy);
    }
  });

  test('compose and settings are usable at phone width: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.getByRole('button', { name: 'Compose' }).click();
      await page.getByRole('button', { name: 'Rich text' }).click();
      await page.locator('#files').setInputFiles([
        {
          name: 'a-file-with-a-rather-long-name-for-a-phone.pdf',
          mimeType: 'application/pdf',
          buffer: randomBytes(2000),
        },
      ]);
      await compose()
        .getByRole('list', { name: 'Attachments' })
        .getByText(/rather-long-name/)
        .waitFor();
      const composeOverflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'compose-phone.png'), fullPage: true });
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll('*')]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
          .map((e) => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`)
          .slice(0, 15)
          .join('; '),
      );
      assert.ok(composeOverflow <= 0, `compose is ${composeOverflow}px wider than a phone screen: ${wide}`);
      await page.getByRole('button', { name: 'Discard' }).click();
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await page.getByRole('heading', { name: 'Set up your mail client' }).waitFor();
      const settingsOverflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      assert.ok(settingsOverflow <= 0, `settings are ${settingsOverflow}px wider than a phone screen`);
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'settings-phone.png'), fullPage: true });
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
