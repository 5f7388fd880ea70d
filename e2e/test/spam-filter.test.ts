import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import {
  LineClient,
  eventually,
  startAllInOneProcess,
  swaks,
  testRspamd,
  uniqueName,
  type AllInOneProcess,
} from '@correo/testkit';

/*
 * The spam filter end to end (issue 14, docs/spam.md) on the all-in-one with Debian's Rspamd
 * (scripts/backends/rspamd.sh): GTUBE refused at SMTP time, ham to INBOX, a high score to Junk, and a
 * user's moves over IMAP into and out of Junk teaching Rspamd (its controller then answers that the
 * message is already learned as that class).
 */
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const rspamd = testRspamd();

describe('Rspamd on the all-in-one: verdicts at SMTP time, Junk, training by IMAP moves', () => {
  let app: AllInOneProcess;
  let imap: ImapFlow;

  before(async () => {
    app = await startAllInOneProcess({
      env: {
        RSPAMD_URL: rspamd.url,
        RSPAMD_CONTROLLER_URL: rspamd.controllerUrl,
        RSPAMD_PASSWORD: rspamd.password,
        MDA_SPAM_TRAINING_INTERVAL_MS: '200',
        SMTP_SENDER_AUTHENTICATION: 'false',
        // Random words can score a few points with Rspamd's rules (never 8): Junk from 8 keeps the
        // plain messages in INBOX and still files X-Correo-Test-Score: 9 into Junk.
        SMTP_SPAM_JUNK_SCORE: '8',
      },
    });
    imap = new ImapFlow({
      host: app.host,
      port: app.ports.imap,
      secure: false,
      doSTARTTLS: false,
      auth: { user: app.demo.address, pass: app.demo.password },
      logger: false,
    });
    await imap.connect();
  });
  after(async () => {
    await imap?.logout().catch(() => undefined);
    await app?.stop();
  });

  /**
   * Text no earlier run has taught Rspamd's Bayes (its statistics stay in Redis between runs): with
   * familiar words it may answer "already in class" and learn nothing.
   */
  const freshWords = (count = 40) =>
    Array.from({ length: count }, () => randomBytes(4).toString('hex')).join(' ');

  /** Sends over the MX port; the Message-ID is unique so Rspamd's learn history starts fresh. */
  async function send(
    subject: string,
    extra = '',
    body = 'Hi, the report for friday is attached below, see you at the meeting in the blue room.',
  ) {
    const messageId = `<${uniqueName('spam-e2e')}@remote.example>`;
    const file = join(app.dataDir, `${uniqueName('msg')}.eml`);
    await writeFile(
      file,
      `From: Ana <ana@remote.example>\r\nTo: ${app.demo.address}\r\nSubject: ${subject}\r\n` +
        `Message-ID: ${messageId}\r\nDate: Sat, 05 Dec 2026 01:00:00 +0000\r\n${extra}\r\n${body}\r\n`,
    );
    const run = await swaks([
      '--server',
      app.host,
      '--port',
      String(app.ports.mx),
      '--from',
      'ana@remote.example',
      '--to',
      app.demo.address,
      '--data',
      file,
    ]);
    return { run, messageId };
  }

  /** The UID of the message with this Message-ID in `mailbox`, once it is there. */
  async function uidIn(mailbox: string, messageId: string): Promise<number> {
    let uid = 0;
    await eventually(`${messageId} in ${mailbox}`, async () => {
      const lock = await imap.getMailboxLock(mailbox);
      try {
        const found = await imap.search({ header: { 'message-id': messageId } }, { uid: true });
        uid = found && found.length > 0 ? found[0]! : 0;
      } finally {
        lock.release();
      }
      return uid > 0;
    });
    return uid;
  }

  async function storedBytes(mailbox: string, uid: number): Promise<Buffer> {
    const lock = await imap.getMailboxLock(mailbox);
    try {
      const message = await imap.fetchOne(String(uid), { source: true }, { uid: true });
      assert.ok(message && message.source);
      return message.source;
    } finally {
      lock.release();
    }
  }

  /** Learns the mda reports done for `spamClass` (correo_mda_spam_training_total). */
  async function trained(spamClass: 'spam' | 'ham'): Promise<number> {
    const line = new RegExp(
      `^correo_mda_spam_training_total\\{class="${spamClass}",outcome="learned"\\} (\\d+)`,
      'm',
    );
    return Number(line.exec(await app.metrics())?.[1] ?? 0);
  }

  /**
   * Rspamd's controller answers 208 "already learned as <class>" for a message it learned before.
   * Asked only after the mda reported the learn (a 200 from Rspamd for a message of words no run
   * taught before: freshWords); asked until it says so, as Rspamd records the learn in Redis just
   * after answering it.
   */
  async function learnedAs(spamClass: 'spam' | 'ham', bytes: Buffer): Promise<boolean> {
    const response = await fetch(`${rspamd.controllerUrl}/learn${spamClass}`, {
      method: 'POST',
      headers: { Password: rspamd.password },
      body: new Uint8Array(bytes),
    });
    const text = await response.text();
    return response.status === 208 && text.includes(`already learned as ${spamClass}`);
  }

  test('GTUBE is refused with 550 5.7.1 and never reaches a mailbox', async () => {
    const { run, messageId } = await send('gtube', '', GTUBE);
    assert.ok(
      run.replies.some((line) => /^550 5\.7\.1/.test(line)),
      run.output,
    );
    const lock = await imap.getMailboxLock('INBOX');
    try {
      assert.deepEqual(await imap.search({ header: { 'message-id': messageId } }, { uid: true }), []);
    } finally {
      lock.release();
    }
  });

  test('ham lands in INBOX with X-Spam headers; a high score lands in Junk', async () => {
    // Words Rspamd's Bayes (trained by earlier runs, kept in Redis) has no opinion on: the scores
    // are Rspamd's rules and the test header alone.
    const ham = await send(freshWords(6), '', freshWords());
    assert.equal(ham.run.exitCode, 0, ham.run.output);
    const hamBytes = (await storedBytes('INBOX', await uidIn('INBOX', ham.messageId))).toString('latin1');
    assert.match(hamBytes, /^X-Spam-Status: No, score=/m);
    assert.match(hamBytes, /^X-Spam-Score: /m);

    const junk = await send(freshWords(6), 'X-Correo-Test-Score: 9\r\n', freshWords());
    assert.equal(junk.run.exitCode, 0, junk.run.output);
    const junkBytes = (await storedBytes('Junk', await uidIn('Junk', junk.messageId))).toString('latin1');
    assert.match(junkBytes, /^X-Spam-Status: Yes, score=/m);
    assert.match(await app.metrics(), /^correo_smtp_spam_verdicts_total\{action="junk"\} [1-9]/m);
  });

  test('MOVE into Junk (imapflow) trains spam; COPY+EXPUNGE out of Junk (raw IMAP) trains ham', async () => {
    // Into Junk with imapflow's MOVE.
    const wanted = await send(freshWords(6), '', freshWords());
    assert.equal(wanted.run.exitCode, 0, wanted.run.output);
    const inboxUid = await uidIn('INBOX', wanted.messageId);
    const lock = await imap.getMailboxLock('INBOX');
    try {
      await imap.messageMove(String(inboxUid), 'Junk', { uid: true });
    } finally {
      lock.release();
    }
    const movedBytes = await storedBytes('Junk', await uidIn('Junk', wanted.messageId));
    await eventually('the mda taught Rspamd the spam', async () => (await trained('spam')) >= 1);
    await eventually('Rspamd to have the moved message as spam', () => learnedAs('spam', movedBytes));

    // Out of Junk by hand: UID COPY to INBOX, then \Deleted and EXPUNGE in Junk.
    const rescued = await send(freshWords(6), 'X-Correo-Test-Score: 9\r\n', freshWords());
    assert.equal(rescued.run.exitCode, 0, rescued.run.output);
    const junkUid = await uidIn('Junk', rescued.messageId);
    const raw = await LineClient.imapLogin(app.ports.imap, app.demo.address, app.demo.password);
    try {
      await raw.commandOk('SELECT Junk');
      await raw.commandOk(`UID COPY ${junkUid} INBOX`);
      await raw.commandOk(`UID STORE ${junkUid} +FLAGS.SILENT (\\Deleted)`);
      await raw.commandOk('EXPUNGE');
      await raw.commandOk('LOGOUT').catch(() => undefined);
    } finally {
      raw.socket.destroy();
    }
    const rescuedBytes = await storedBytes('INBOX', await uidIn('INBOX', rescued.messageId));
    await eventually('the mda taught Rspamd the ham', async () => (await trained('ham')) >= 1);
    await eventually('Rspamd to have the rescued message as ham', () => learnedAs('ham', rescuedBytes));
    assert.match(
      await app.metrics(),
      /^correo_mda_spam_training_total\{class="spam",outcome="learned"\} [1-9]/m,
    );
    assert.match(
      await app.metrics(),
      /^correo_mda_spam_training_total\{class="ham",outcome="learned"\} [1-9]/m,
    );
  });
});
