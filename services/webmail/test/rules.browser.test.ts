import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { eventually, startAllInOneProcess, type AllInOneProcess } from '@correo/testkit';
import { headerValues, readMailbox } from '../../../e2e/test/support/mailbox-reader.js';
import { ManageSieveClient } from '../src/managesieve-client.js';
import { imapHostOf } from './support/all-in-one.js';
import {
  ARTIFACTS_DIR,
  deliverToDemo,
  ensureFrontEndBuilt,
  launchChromium,
  signInPage,
} from './support/browser.js';

/*
 * Rules and vacation as a person sets them up: Debian's chromium on the embedded default's webmail
 * (make dev's all-in-one process), a rule "subject contains X -> move to Y" and the vacation reply
 * made in the settings, then a message from outside through the MX (swaks) with subject X is found
 * in Y by Python's imaplib: the script the webmail stored over the all-in-one's ManageSieve is the
 * one the mda ran. The active script is read back over ManageSieve (GETSCRIPT), not through the
 * webmail.
 */

const SUBJECT = 'Quarterly figures';
const FOLDER = 'Reports';

let stack: AllInOneProcess;
let browser: Browser;
let page: Page;

/** The demo's active script as another ManageSieve client reads it (GETSCRIPT), not the webmail. */
async function activeScript(): Promise<{ name: string; content: string } | null> {
  const gateways = {
    imap: { host: '127.0.0.1', port: stack.ports.imap },
    submission: { host: '127.0.0.1', port: stack.ports.submission },
    managesieve: { host: '127.0.0.1', port: stack.ports.managesieve },
    tls: { ca: await readFile(stack.caFile, 'utf8'), servername: 'mx.correo.test' },
  };
  const client = await ManageSieveClient.open(gateways, stack.demo.address, stack.demo.password);
  try {
    return await client.activeScript();
  } finally {
    await client.logout();
  }
}

describe('rules and vacation in a real browser', { timeout: 600_000 }, () => {
  before(async () => {
    await ensureFrontEndBuilt();
    [stack, browser] = await Promise.all([startAllInOneProcess(), launchChromium()]);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await mkdir(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('a rule files the message the mda receives; the vacation reply is in the active script', async () => {
    await signInPage(page, stack.webmailUrl, stack.demo.address, stack.demo.password);
    await page.getByRole('navigation', { name: 'Folders' }).getByText('Inbox').waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();

    // A rule: subject contains X -> move to Y.
    await page.getByRole('tab', { name: 'Rules' }).click();
    await page.getByText('No rules yet.').waitFor();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Rule name').fill('Reports to their folder');
    await page.getByLabel('Condition 1 value').fill(SUBJECT);
    await page.getByLabel('Action 1 folder').fill(FOLDER);
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule saved.' }).waitFor();
    await page.locator('ol.rules li', { hasText: 'Reports to their folder' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'rules-list.png') });

    // The vacation reply, on.
    await page.getByRole('tab', { name: 'Vacation' }).click();
    await page.getByLabel('Send an automatic reply').check();
    await page.getByLabel('Reply subject').fill('Away this week');
    await page.getByLabel('Reply text').fill('I am away until Monday.\n.\nAsk Bob.');
    await page.getByRole('button', { name: 'Save vacation reply' }).click();
    await page.getByRole('status').filter({ hasText: 'Vacation reply is on.' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'vacation-form.png') });

    // What the server holds, read over ManageSieve by another client.
    const active = await activeScript();
    assert.ok(active, 'an active script');
    assert.match(
      active.content,
      /^vacation :days 7 :subject "Away this week" text:\nI am away until Monday\.\n\.\.\nAsk Bob\.\n\.\n;$/m,
    );
    assert.match(
      active.content,
      /^if header :contains "subject" "Quarterly figures" \{\n {2}fileinto :create "Reports";\n\}$/m,
    );

    // Mail from outside through the MX: the mda runs that script and files it into the rule's folder.
    await deliverToDemo(stack, 'partner@remote.test', `${SUBJECT} for Q3`);
    await deliverToDemo(stack, 'partner@remote.test', 'Lunch on Friday?');
    const imapHost = imapHostOf(stack);
    await eventually(
      'the report filed into Reports',
      async () =>
        (await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, FOLDER).catch(() => []))
          .length === 1,
    );
    const filed = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, FOLDER);
    assert.deepEqual(
      filed.map((m) => headerValues(m, 'subject')[0]),
      [`${SUBJECT} for Q3`],
    );
    await eventually('the other message in INBOX', async () =>
      (await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password)).some(
        (m) => headerValues(m, 'subject')[0] === 'Lunch on Friday?',
      ),
    );
    const inbox = await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password);
    assert.ok(!inbox.some((m) => headerValues(m, 'subject')[0]?.startsWith(SUBJECT)), 'not kept in INBOX');

    // Edit script: the server's error with line and column, in the page.
    await page.getByRole('tab', { name: 'Edit script' }).click();
    const area = page.getByRole('textbox', { name: 'Script' });
    await area.waitFor();
    assert.equal(await area.inputValue(), active.content);
    await area.fill('require "fileinto";\nif true {\n  fileinto "x"\n}\n');
    await page.getByRole('button', { name: 'Save script' }).click();
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: /Line 4, column \d+:/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'script-error.png') });

    // Disable the rule from the list: the next report stays in INBOX.
    await page.getByRole('tab', { name: 'Rules' }).click();
    await page.getByLabel('Rule “Reports to their folder” enabled').uncheck();
    await page.getByRole('status').filter({ hasText: 'Rule saved.' }).waitFor();
    await deliverToDemo(stack, 'partner@remote.test', `${SUBJECT} for Q4`);
    await eventually('the second report in INBOX', async () =>
      (await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password)).some(
        (m) => headerValues(m, 'subject')[0] === `${SUBJECT} for Q4`,
      ),
    );
    assert.equal(
      (await readMailbox('imap', imapHost, stack.demo.address, stack.demo.password, FOLDER)).length,
      1,
    );
  });

  test('rules are edited, reordered and deleted in the list; the editor fits a phone screen', async () => {
    // The page is signed in and on the settings page from the test above.
    await page.getByRole('tab', { name: 'Rules' }).click();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Rule name').fill('Newsletters');
    await page.getByLabel('Condition 1 field').selectOption('header');
    await page.getByLabel('Condition 1 header name').fill('List-Id');
    await page.getByLabel('Condition 1 value').fill('news.example');
    await page.getByLabel('Action 1', { exact: true }).selectOption('read');
    await page.getByRole('button', { name: 'Add action' }).click();
    await page.getByLabel('Action 2', { exact: true }).selectOption('stop');
    await page.getByRole('button', { name: 'Save rule' }).click();
    const rows = page.locator('ol.rules li strong');
    await rows.nth(1).filter({ hasText: 'Newsletters' }).waitFor();

    // Up: it now comes first, in the list and in the script's order.
    await page.getByRole('button', { name: 'Move “Newsletters” up' }).click();
    await rows.nth(0).filter({ hasText: 'Newsletters' }).waitFor();
    const order = async () =>
      [...((await activeScript())?.content ?? '').matchAll(/^# rule "(.*)"$/gm)].map((m) => m[1]);
    // The first rule is switched off (test above): only enabled rules are written.
    assert.deepEqual(await order(), ['Newsletters']);

    // Edit: renamed, the condition changed.
    await page.getByRole('button', { name: 'Edit “Newsletters”' }).click();
    await page.getByLabel('Rule name').fill('Lists');
    await page.getByLabel('Condition 1 match').selectOption('is');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.locator('ol.rules li', { hasText: 'List-Id is exactly “news.example”' }).waitFor();
    assert.deepEqual(await order(), ['Lists']);

    // At phone width, the editor is no wider than the screen.
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      await page.getByRole('button', { name: 'Edit “Lists”' }).click();
      await page.getByLabel('Rule name').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'rule-editor-phone.png'), fullPage: true });
      assert.ok(overflow <= 0, `the rule editor is ${overflow}px wider than a phone screen`);
      await page.getByRole('button', { name: 'Cancel' }).click();
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // Delete (the page asks first; the dialog is accepted).
    await page.getByRole('button', { name: 'Delete “Lists”' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule deleted.' }).waitFor();
    assert.equal(await rows.count(), 1);
    assert.deepEqual(await order(), []);
  });
});
