// Webmail speed (a report, not a test): the embedded default (make dev's all-in-one process) with
// BENCH_MESSAGES (10,000) messages in INBOX, appended over IMAP; Debian's chromium signs in, then
//  - sign-in to the inbox listed: the cold case (a new session's IMAP login and first SORT);
//  - first meaningful paint of the inbox: navigation start to the first message row on screen, over
//    BENCH_LOADS reloads (the session cookie is kept, so this is the signed-in inbox);
//  - opening a message: click on a row to its body shown, over BENCH_OPENS messages.
// Prints p50/p90/max of each. `make bench-webmail`.
import { performance } from 'node:perf_hooks';
import { LineClient, startAllInOneProcess } from '@correo/testkit';
import { ensureFrontEndBuilt, launchChromium } from '../services/webmail/test/support/browser.js';

const messages = Number(process.env.BENCH_MESSAGES ?? 10_000);
const loads = Number(process.env.BENCH_LOADS ?? 10);
const opens = Number(process.env.BENCH_OPENS ?? 40);
const appenders = 4;
/** Messages per MULTIAPPEND command. */
const BATCH = 200;

function message(i: number): string {
  const html = i % 2 === 0;
  return [
    `From: Sender ${i % 97} <sender${i % 97}@remote.test>`,
    'To: demo@example.test',
    `Subject: Benchmark message ${i}`,
    `Date: ${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString()}`,
    `Message-ID: <bench-${i}@remote.test>`,
    'MIME-Version: 1.0',
    `Content-Type: ${html ? 'text/html' : 'text/plain'}; charset=utf-8`,
    '',
    html
      ? `<p>Hello,</p><p>${'This is a paragraph of a benchmark message. '.repeat(20)}</p><img src="https://tracker.test/p.gif">`
      : 'Hello,\r\n\r\n' + 'This is a line of a benchmark message.\r\n'.repeat(30),
    '',
  ].join('\r\n');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const summary = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(0)} ms  p90 ${percentile(values, 90).toFixed(0)} ms  max ${Math.max(...values).toFixed(0)} ms  (n=${values.length})`;

await ensureFrontEndBuilt();
const stack = await startAllInOneProcess();
const browser = await launchChromium();
try {
  const seedStarted = performance.now();
  // MULTIAPPEND (RFC 3502) with LITERAL+: one command files a batch, so a 100,000-message folder is
  // seeded in minutes (the make dev setup allows LOGIN on loopback without TLS).
  await Promise.all(
    Array.from({ length: appenders }, async (_, worker) => {
      const imap = await LineClient.imapLogin(stack.ports.imap, stack.demo.address, stack.demo.password);
      const mine = Array.from(
        { length: Math.ceil(messages / appenders) },
        (_, k) => worker + k * appenders,
      ).filter((i) => i < messages);
      for (let start = 0; start < mine.length; start += BATCH) {
        const parts = mine.slice(start, start + BATCH).map((i) => {
          const body = Buffer.from(message(i));
          return Buffer.concat([Buffer.from(` (\\Seen) {${body.length}+}\r\n`), body]);
        });
        const tag = `s${start}`;
        imap.write(Buffer.concat([Buffer.from(`${tag} APPEND INBOX`), ...parts, Buffer.from('\r\n')]));
        const done = await imap.collect(tag);
        if (!done.status.startsWith('OK')) throw new Error(`APPEND refused: ${done.status}`);
      }
      imap.end();
    }),
  );
  console.log(`seeded ${messages} messages in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // What one open of the folder costs the page: summaries fetched per list answer (a page, not the folder).
  const fetchedPerAnswer: number[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname !== '/api/messages') return;
    void response
      .json()
      .then((body: { messages: unknown[] }) => fetchedPerAnswer.push(body.messages.length))
      .catch(() => {});
  });
  await page.goto(stack.webmailUrl);
  await page.getByLabel('Mail address').fill(stack.demo.address);
  await page.getByLabel('Password').fill(stack.demo.password);
  const signInStarted = performance.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.message-row').first().waitFor();
  // A new session sorts the folder for the first time (no cached SORT answer): the cold case.
  const signInToInbox = performance.now() - signInStarted;
  const rowsRendered = await page.locator('.message-row').count();

  const paints: number[] = [];
  for (let i = 0; i < loads; i++) {
    await page.reload();
    await page.locator('.message-row').first().waitFor();
    paints.push(await page.evaluate(() => performance.now()));
  }

  const openTimes: number[] = [];
  const rows = page.locator('.message-row');
  for (let i = 0; i < opens; i++) {
    const row = rows.nth(i % 50);
    const subject = (await row.locator('.subject').innerText()).trim();
    const started = performance.now();
    await row.click();
    await page.locator('#message-subject', { hasText: subject }).waitFor();
    await page.locator('iframe.body, pre.body').first().waitFor();
    const frame = page.locator('iframe.body');
    if ((await frame.count()) > 0) await page.frameLocator('iframe.body').locator('p').first().waitFor();
    openTimes.push(performance.now() - started);
  }
  console.log(`webmail, ${messages} messages in INBOX, embedded default, chromium headless`);
  console.log(
    `  sign-in to the inbox listed (cold: LOGIN, LIST-STATUS, first SORT): ${signInToInbox.toFixed(0)} ms`,
  );
  console.log(
    `  rows rendered: ${rowsRendered}; message summaries fetched per list answer: max ${Math.max(...fetchedPerAnswer)} (of ${messages} in the folder)`,
  );
  console.log(`  first meaningful paint of the inbox (reload, signed in): ${summary(paints)}`);
  console.log(`  open a message (click to body shown): ${summary(openTimes)}`);
} finally {
  await browser.close();
  await stack.stop();
}
