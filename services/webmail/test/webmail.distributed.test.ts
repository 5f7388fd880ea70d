import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { eventually } from '@correo/testkit';
import { startMailStack, type MailStack, type TopicWatch } from '../../../e2e/test/support/stacks.js';
import { createAccount, deliver } from './support/all-in-one.js';
import { ARTIFACTS_DIR, ensureFrontEndBuilt, launchChromium, signInPage } from './support/browser.js';

/*
 * The webmail on the distributed stack (Kafka bus, PostgreSQL, MinIO blobs, Redis limits): two people
 * in two browsers, one sends from the webmail, the other reads it there; mail from outside (swaks)
 * shows up live. The message is seen on Kafka's mail.accepted, so it really took the distributed path.
 */

const BOB = { address: 'bob@example.test', password: randomBytes(12).toString('base64url') };

let stack: MailStack;
let browser: Browser;
let accepted: TopicWatch;

async function signIn(address: string, password: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await signInPage(page, stack.app.webmailUrl, address, password);
  await page.getByRole('navigation', { name: 'Folders' }).getByText('Inbox').waitFor();
  return page;
}

describe('webmail on the distributed stack', { timeout: 600_000 }, () => {
  before(async () => {
    await ensureFrontEndBuilt();
    [stack, browser] = await Promise.all([startMailStack('distributed'), launchChromium()]);
    await createAccount(stack.app, BOB);
    accepted = await stack.watch('mail.accepted');
    await mkdir(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await accepted?.stop();
    await browser?.close();
    await stack?.close();
  });

  test('sign in, send from the webmail, the recipient reads it in the webmail; outside mail arrives live', async () => {
    assert.equal(stack.kind, 'distributed');
    const demo = await signIn(stack.app.demo.address, stack.app.demo.password);
    const bob = await signIn(BOB.address, BOB.password);

    await demo.getByRole('button', { name: 'Compose' }).click();
    await demo.getByLabel('To', { exact: true }).fill(BOB.address);
    await demo.getByLabel('Subject').fill('Across the cluster');
    await demo.getByRole('textbox', { name: 'Message text' }).fill('Sent over Kafka, stored in MinIO.');
    await demo.getByRole('button', { name: 'Send' }).click();
    await demo.getByRole('status').filter({ hasText: 'Message sent.' }).waitFor();

    // Bob's open inbox shows it without a reload (IDLE -> SSE), and he reads it.
    await bob.locator('.message-row', { hasText: 'Across the cluster' }).click();
    await bob.locator('#message-subject', { hasText: 'Across the cluster' }).waitFor();
    await bob.locator('pre.body', { hasText: 'Sent over Kafka, stored in MinIO.' }).waitFor();
    await bob.screenshot({ path: join(ARTIFACTS_DIR, 'distributed-read.png') });
    await eventually('the message on mail.accepted', () => accepted.messages.length >= 1);

    // Mail from outside, through the MX, into the demo's open inbox.
    await deliver(stack.app, 'someone@remote.test', stack.app.demo.address, 'From outside', [
      '--body',
      'Hello from the internet.',
    ]);
    await demo.locator('.message-row', { hasText: 'From outside' }).click();
    await demo.locator('pre.body', { hasText: 'Hello from the internet.' }).waitFor();
    // The sent copy is in the sender's Sent folder.
    await demo.locator('.folder[data-path="Sent"]').click();
    await demo.locator('.message-row', { hasText: 'Across the cluster' }).waitFor();
  });
});
