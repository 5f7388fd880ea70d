import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually, runProgram, startAllInOneProcess, type AllInOneProcess } from '@correo/testkit';
import {
  ARTIFACTS_DIR,
  deliverToDemo,
  ensureFrontEndBuilt,
  launchChromium,
  signInPage,
  startForeignHost,
  type ForeignHost,
} from './support/browser.js';

/*
 * Browsing mail in Debian's chromium against the all-in-one process: the folder tree (create, rename,
 * delete, drag to move, unread counts), the list (sort, conversations, pages, multi-select and bulk
 * actions) and the reader (all headers, raw source, sender checks, remote images per message and per
 * sender). Results are checked with Python's imaplib (test/fixtures/imap_state.py), not the webmail.
 */

const IMAP_STATE = fileURLToPath(new URL('./fixtures/imap_state.py', import.meta.url));

interface ImapState {
  folders: string[];
  mailboxes: Record<string, { subject: string; flags: string[] }[]>;
}

let stack: AllInOneProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let foreign: ForeignHost;

async function imapState(...mailboxes: string[]): Promise<ImapState> {
  const { code, stdout, stderr } = await runProgram('python3', [
    IMAP_STATE,
    stack.host,
    String(stack.ports.imap),
    'mx.correo.test',
    stack.demo.address,
    stack.demo.password,
    stack.caFile,
    ...mailboxes,
  ]);
  assert.equal(code, 0, stderr);
  const state = JSON.parse(stdout) as ImapState & { error?: string };
  assert.equal(state.error, undefined);
  return state;
}

/** SORT commands the IMAP gateway has answered (its Prometheus counter). */
async function sortCommands(): Promise<number> {
  const metrics = await stack.metrics();
  return [...metrics.matchAll(/^correo_imap_commands_total\{[^}]*command="(?:UID )?SORT"[^}]*\} (\d+)/gm)]
    .map((match) => Number(match[1]))
    .reduce((a, b) => a + b, 0);
}

const subjectsIn = async (mailbox: string) =>
  (await imapState(mailbox)).mailboxes[mailbox]!.map((m) => m.subject);

const deliver = (subject: string, extra: string[] = [], from = 'carol@remote.test') =>
  deliverToDemo(stack, from, subject, extra);

const folderButton = (name: string) =>
  page.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name, exact: false });
const rowFor = (subject: string) => page.locator('.message-row', { hasText: subject });
const listedSubjects = () =>
  page
    .locator('.message-row .subject')
    .allInnerTexts()
    .then((all) => all.map((s) => s.trim()));
const bulkBar = () => page.getByRole('toolbar', { name: 'Selected messages' });
const status = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();

async function openFolder(name: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Folders' })
    .locator('.folder', { hasText: name })
    .first()
    .click();
  await page.locator('.list-head h2', { hasText: name }).waitFor();
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`) }).catch(() => {});
}

describe('webmail browsing in a real browser', { timeout: 900_000 }, () => {
  before(async () => {
    await ensureFrontEndBuilt();
    [stack, browser, foreign] = await Promise.all([
      startAllInOneProcess(),
      launchChromium(),
      startForeignHost(),
    ]);
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    await signInPage(page, stack.webmailUrl, stack.demo.address, stack.demo.password);
    await folderButton('Inbox').waitFor();
  });

  after(async () => {
    await browser?.close();
    await foreign?.close();
    await stack?.stop();
  });

  test('folders: create, rename, delete with confirmation; standard folders are protected', async () => {
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('Projects');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await status('Folder "Projects" created.');
    await folderButton('Projects').waitFor();
    assert.ok((await imapState()).folders.includes('Projects'));

    await openFolder('Projects');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await page.getByLabel('New name').fill('Clients');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await status('renamed to "Clients"');
    let folders = (await imapState()).folders;
    assert.ok(folders.includes('Clients') && !folders.includes('Projects'), folders.join());

    // A standard folder offers neither; the server refuses them too (a forged request).
    await openFolder('Trash');
    assert.equal(await page.getByRole('button', { name: 'Rename', exact: true }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).count(), 0);
    const refused = await page.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const answer = await fetch('/api/folders/delete', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ folder: 'Trash' }),
      });
      return { status: answer.status, body: (await answer.json()) as { error: { code: string } } };
    });
    assert.deepEqual([refused.status, refused.body.error.code], [422, 'special_folder']);

    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('Old stuff');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await openFolder('Old stuff');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Delete "Old stuff" for good?' }).waitFor();
    await shot('folder-delete-confirm');
    await page.getByRole('button', { name: 'Delete folder' }).click();
    await status('Folder "Old stuff" deleted.');
    await page.locator('.list-head h2', { hasText: 'Inbox' }).waitFor();
    folders = (await imapState()).folders;
    assert.ok(!folders.includes('Old stuff') && folders.includes('Trash'), folders.join());
  });

  test('folder and sender requests the server refuses come back in words', async () => {
    const call = (path: string, body: unknown) =>
      page.evaluate(
        async ({ path, body }) => {
          const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
          const answer = await fetch(path, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
            body: JSON.stringify(body),
          });
          const json = (await answer.json()) as { error: { code: string; message: string } };
          return [answer.status, json.error.code, json.error.message] as const;
        },
        { path, body },
      );
    const cases: [readonly [number, string, string], number, string, RegExp][] = [
      [
        await call('/api/folders', { folder: 'Clients' }),
        409,
        'folder_exists',
        /already a folder named "Clients"/,
      ],
      [await call('/api/folders', { folder: 'All*' }), 400, 'invalid_request', /folder/],
      [
        await call('/api/folders/rename', { folder: 'INBOX', to: 'Mine' }),
        422,
        'special_folder',
        /standard folders/,
      ],
      [
        await call('/api/folders/delete', { folder: 'Nowhere' }),
        404,
        'folder_not_found',
        /no folder named "Nowhere"/,
      ],
      [
        await call('/api/image-senders', { sender: 'not an address', allow: true }),
        400,
        'invalid_request',
        /sender/,
      ],
    ];
    for (const [[status, code, message], wantStatus, wantCode, words] of cases) {
      assert.deepEqual([status, code], [wantStatus, wantCode], message);
      assert.match(message, words);
    }
    assert.ok(!(await imapState()).folders.includes('Mine'));
  });

  test('drag a message, then a multi-selection, onto a folder; its unread count follows', async () => {
    for (const subject of ['Drag one', 'Drag two', 'Drag three']) await deliver(subject);
    await openFolder('Inbox');
    await rowFor('Drag three').waitFor();
    await rowFor('Drag one').dragTo(folderButton('Clients'));
    await status('1 message moved to Clients.');
    assert.deepEqual(await subjectsIn('Clients'), ['Drag one']);
    await page.locator('.folder[data-path="Clients"] .unseen', { hasText: '1' }).waitFor();

    await rowFor('Drag two').click({ modifiers: ['Control'] });
    await rowFor('Drag three').click({ modifiers: ['Control'] });
    await bulkBar().getByText('2 selected').waitFor();
    await rowFor('Drag three').dragTo(folderButton('Clients'));
    await status('2 messages moved to Clients.');
    assert.deepEqual((await subjectsIn('Clients')).sort(), ['Drag one', 'Drag three', 'Drag two']);
    await page.locator('.folder[data-path="Clients"] .unseen', { hasText: '3' }).waitFor();
    assert.equal(await rowFor('Drag t').count(), 0);
    await shot('after-drag');
  });

  test('sort by subject, size and sender, both ways, on the server', async () => {
    await openFolder('Clients');
    await page.getByLabel('Sort by').selectOption('subject');
    await eventually(
      'subject order',
      async () => (await listedSubjects()).join() === 'Drag two,Drag three,Drag one',
    );
    await page.getByRole('button', { name: 'Descending order' }).click();
    await eventually(
      'ascending subject order',
      async () => (await listedSubjects()).join() === 'Drag one,Drag three,Drag two',
    );
    await deliver('Big one', ['--body', `${'x'.repeat(70)}\n`.repeat(300)], 'aaron@remote.test');
    await page.getByLabel('Sort by').selectOption('size');
    await openFolder('Inbox');
    await rowFor('Big one').click();
    await page.locator('#message-subject', { hasText: 'Big one' }).waitFor();
    await page.getByLabel('Move to folder').selectOption('Clients');
    await status('Message moved to Clients.');
    await openFolder('Clients');
    // Ascending (kept from before): the big one last; then descending: first.
    await eventually('size ascending', async () => (await listedSubjects()).at(-1) === 'Big one');
    await page.getByRole('button', { name: 'Ascending order' }).click();
    await eventually('size descending', async () => (await listedSubjects())[0] === 'Big one');
    await page.getByLabel('Sort by').selectOption('from');
    await eventually('sender descending', async () => (await listedSubjects()).at(-1) === 'Big one');
    await page.getByLabel('Sort by').selectOption('date');
  });

  test('conversations (THREAD=REFERENCES) collapse and expand', async () => {
    await deliver('Trip plans', ['--header', 'Message-ID: <trip-1@remote.test>']);
    await deliver('Re: Trip plans', [
      '--header',
      'Message-ID: <trip-2@remote.test>',
      '--header',
      'In-Reply-To: <trip-1@remote.test>',
      '--header',
      'References: <trip-1@remote.test>',
    ]);
    await deliver('Unrelated note');
    await openFolder('Inbox');
    await rowFor('Unrelated note').waitFor();
    await page.getByLabel('Conversations').check();
    const toggle = page.getByRole('button', { name: 'Expand conversation of 2' });
    await toggle.waitFor();
    assert.equal(await rowFor('Re: Trip plans').count(), 0, 'the answer is folded under its thread');
    assert.equal(await rowFor('Unrelated note').count(), 1);
    await toggle.click();
    await rowFor('Re: Trip plans').waitFor();
    assert.equal(await page.locator('.message-item.depth-1', { hasText: 'Re: Trip plans' }).count(), 1);
    await shot('conversations');
    await page.getByRole('button', { name: 'Collapse conversation of 2' }).click();
    await eventually('folded again', async () => (await rowFor('Re: Trip plans').count()) === 0);
    await page.getByLabel('Conversations').uncheck();
    await rowFor('Re: Trip plans').waitFor();
  });

  test('multi-select: shift range, select all; bulk read, flag, archive, delete to Trash; empty Trash', async () => {
    await openFolder('Inbox');
    await rowFor('Unrelated note').click();
    await page.locator('#message-subject', { hasText: 'Unrelated note' }).waitFor();
    // Opening marked it read and reloaded the list: the range is taken from the list as it is now.
    await page.locator('.message-row:not(.unread)', { hasText: 'Unrelated note' }).waitFor();
    const order = await listedSubjects();
    const [from, to] = [order.indexOf('Unrelated note'), order.indexOf('Trip plans')];
    assert.ok(from >= 0 && to >= 0, order.join());
    const range = order.slice(Math.min(from, to), Math.max(from, to) + 1);
    assert.ok(range.length >= 2, order.join());
    const tripRow = page.locator('.message-item', {
      has: page.locator('.subject', { hasText: /^\s*Trip plans\s*$/ }),
    });
    await tripRow.locator('.message-row').click({ modifiers: ['Shift'] });
    await bulkBar().getByText(`${range.length} selected`).waitFor();
    await bulkBar().getByRole('button', { name: 'Flag', exact: true }).click();
    await status(`${range.length} messages flagged.`);
    let inbox = (await imapState('INBOX')).mailboxes.INBOX!;
    const flagged = inbox.filter((m) => m.flags.includes('\\Flagged')).map((m) => m.subject);
    assert.deepEqual(flagged.sort(), [...range].sort());

    await page.getByLabel('Select all').check();
    const count = await page.locator('.message-item').count();
    await bulkBar().getByText(`${count} selected`).waitFor();
    await bulkBar().getByRole('button', { name: 'Mark read' }).click();
    await status(`${count} messages marked read.`);
    inbox = (await imapState('INBOX')).mailboxes.INBOX!;
    assert.ok(inbox.length > 0 && inbox.every((m) => m.flags.includes('\\Seen')), JSON.stringify(inbox));
    assert.equal(await page.locator('.folder[data-path="INBOX"] .unseen').count(), 0);

    await rowFor('Unrelated note').click({ modifiers: ['Control'] });
    await bulkBar().getByRole('button', { name: 'Mark unread' }).click();
    await status('1 message marked unread.');
    await page.locator('.folder[data-path="INBOX"] .unseen', { hasText: '1' }).waitFor();

    await rowFor('Re: Trip plans').click({ modifiers: ['Control'] });
    await bulkBar().getByRole('button', { name: 'Archive' }).click();
    await status('1 message moved to Archive.');
    assert.deepEqual(await subjectsIn('Archive'), ['Re: Trip plans']);

    await rowFor('Unrelated note').click({ modifiers: ['Control'] });
    await page.locator('.message-item', { hasText: 'Trip plans' }).locator('.pick').check();
    await bulkBar().getByText('2 selected').waitFor();
    await bulkBar().getByRole('button', { name: 'Delete', exact: true }).click();
    await status('2 messages deleted.');
    assert.deepEqual((await subjectsIn('Trash')).sort(), ['Trip plans', 'Unrelated note']);

    await openFolder('Trash');
    await page.getByRole('button', { name: 'Empty', exact: true }).click();
    await page.getByRole('button', { name: 'Delete 2 for good' }).click();
    await status('Trash emptied.');
    assert.deepEqual(await subjectsIn('Trash'), []);
  });

  test('a 1,000-message folder opens one page: 50 rows fetched and rendered, not 1,000', async () => {
    const ca = stack.caFile;
    const imap = new ImapFlow({
      host: stack.host,
      port: stack.ports.imap,
      secure: false,
      doSTARTTLS: true,
      tls: { ca: await readFile(ca, 'utf8'), servername: 'mx.correo.test' },
      auth: { user: stack.demo.address, pass: stack.demo.password },
      logger: false,
    });
    await imap.connect();
    try {
      await imap.mailboxCreate('Big');
      for (let i = 0; i < 1000; i++) {
        await imap.append(
          'Big',
          `From: s${i}@remote.test\r\nSubject: Bulk ${i}\r\nDate: ${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString()}\r\n\r\nbody ${i}\r\n`,
          ['\\Seen'],
        );
      }
    } finally {
      await imap.logout();
    }
    await page.reload();
    const pages: number[] = [];
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.pathname === '/api/messages' && url.searchParams.get('folder') === 'Big') {
        void response.json().then((body: { messages: unknown[] }) => pages.push(body.messages.length));
      }
    });
    const sortsBefore = await sortCommands();
    await openFolder('Big');
    await rowFor('Bulk 999').waitFor();
    assert.equal(await page.locator('.message-row').count(), 50);
    assert.match(await page.locator('.list-head .range').innerText(), /1–50 of 1000/);
    await page.getByRole('button', { name: 'Older messages' }).click();
    await rowFor('Bulk 949').waitFor();
    assert.equal(await page.locator('.message-row').count(), 50);
    await eventually('both pages answered', async () => pages.length >= 2);
    assert.ok(
      pages.every((n) => n === 50),
      `each page fetched 50 summaries: ${pages.join()}`,
    );
    // Received order (the default) is the mailbox's own: no SORT of the 1,000 at all.
    assert.equal(await sortCommands(), sortsBefore);
    // By date: one SORT, kept for the next page.
    await page.getByLabel('Sort by').selectOption('date');
    await page.getByRole('button', { name: 'Older messages' }).click();
    await rowFor('Bulk 949').waitFor();
    await eventually('the SORT counted', async () => (await sortCommands()) > sortsBefore);
    assert.equal(await sortCommands(), sortsBefore + 1);
  });

  test("reader: all headers, raw source, and only our MX's SPF/DKIM/DMARC results", async () => {
    // A sender-written field claiming our authserv-id is removed at the MX, another host's is kept
    // but not believed: the badges show what our MX found (here DNS is unanswered: temperror/none).
    await deliver('Checked mail', [
      '--header',
      'Authentication-Results: mx.correo.test; spf=pass; dkim=pass; dmarc=pass',
      '--header',
      'X-Marker: raw-source-marker',
    ]);
    await openFolder('Inbox');
    await rowFor('Checked mail').click();
    await page.locator('#message-subject', { hasText: 'Checked mail' }).waitFor();
    const badges = page.getByRole('list', { name: 'Sender checks by our mail server' });
    await badges.waitFor();
    const words = (await badges.locator('li').allInnerTexts()).map((w) => w.trim());
    assert.equal(words.length, 3);
    assert.match(words[0]!, /^SPF /);
    assert.ok(
      !words.some((w) => / pass$/.test(w)),
      `nothing the sender wrote is believed: ${words.join(', ')}`,
    );
    await shot('sender-checks');

    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    const headers = page.getByRole('region', { name: 'All headers' });
    await headers.getByRole('rowheader', { name: 'X-Marker' }).waitFor();
    assert.equal(await headers.getByRole('cell', { name: 'raw-source-marker' }).count(), 1);
    await page.getByRole('button', { name: 'Raw source' }).click();
    const raw = page.getByRole('region', { name: 'Raw source' });
    await raw.waitFor();
    assert.match(await raw.innerText(), /^Subject: Checked mail$/m);
    assert.match(await raw.innerText(), /^X-Marker: raw-source-marker$/m);
  });

  test('remote images: blocked, shown for one message, then always for the sender (kept on the server)', async () => {
    const html = (n: number) => `<p>Newsletter ${n}</p><img src="${foreign.origin}/pixel-${n}.gif" alt="">`;
    for (const n of [1, 2]) {
      await deliver(
        `Newsletter ${n}`,
        ['--add-header', 'Content-Type: text/html; charset=utf-8', '--body', html(n)],
        'news@shop.test',
      );
    }
    await deliver(
      'Other sender',
      ['--add-header', 'Content-Type: text/html; charset=utf-8', '--body', html(3)],
      'someone@else.test',
    );
    await openFolder('Inbox');
    await rowFor('Newsletter 1').click();
    await page.frameLocator('iframe.body').getByText('Newsletter 1').waitFor();
    await page.getByRole('button', { name: 'Show images', exact: true }).waitFor();
    await fetch(`${foreign.origin}/settled-1`);
    assert.deepEqual(foreign.hits, ['/settled-1'], 'nothing loaded while blocked');

    await page.getByRole('button', { name: 'Show images', exact: true }).click();
    await eventually('the image of this message loaded', () => foreign.hits.includes('/pixel-1.gif'));

    await rowFor('Newsletter 2').click();
    await page.frameLocator('iframe.body').getByText('Newsletter 2').waitFor();
    await page.getByRole('button', { name: 'Always show images from news@shop.test' }).click();
    await status('Images from news@shop.test will always be shown.');
    await eventually('the image of the second loaded', () => foreign.hits.includes('/pixel-2.gif'));

    // A new browser session (another device): the choice is on the server, per user and sender.
    const other = await browser.newContext();
    try {
      const second = await other.newPage();
      await second.goto(stack.webmailUrl);
      await second.getByLabel('Mail address').fill(stack.demo.address);
      await second.getByLabel('Password').fill(stack.demo.password);
      await second.getByRole('button', { name: 'Sign in' }).click();
      foreign.hits.length = 0;
      await second.locator('.message-row', { hasText: 'Newsletter 1' }).click();
      await second.getByText('Images from news@shop.test are shown because you allowed them.').waitFor();
      await eventually('shown at once for the allowed sender', () => foreign.hits.includes('/pixel-1.gif'));
      await second.locator('.message-row', { hasText: 'Other sender' }).click();
      await second.frameLocator('iframe.body').getByText('Newsletter 3').waitFor();
      await second.getByRole('button', { name: 'Show images', exact: true }).waitFor();
      await fetch(`${foreign.origin}/settled-2`);
      assert.ok(!foreign.hits.includes('/pixel-3.gif'), 'another sender stays blocked');
      // Taken back: blocked again.
      await second.locator('.message-row', { hasText: 'Newsletter 2' }).click();
      await second.getByRole('button', { name: 'Stop showing them' }).click();
      await second.getByRole('button', { name: 'Show images', exact: true }).waitFor();
    } finally {
      await other.close();
    }
    await rowFor('Newsletter 1').click();
    await page.frameLocator('iframe.body').getByText('Newsletter 1').waitFor();
    await page.getByRole('button', { name: 'Show images', exact: true }).waitFor();
  });
});
