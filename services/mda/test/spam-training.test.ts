import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyImapMessages, trainingClass } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { CounterWatch, eventually, testRspamd } from '@correo/testkit';
import { openTestStack, type TestStack } from '@correo/testkit/stack';
import { mdaMetrics } from '../src/metrics.js';
import { startSpamTraining } from '../src/spam-training.js';

/** The training queue a COPY/MOVE into or out of Junk leaves, worked against Debian's Rspamd. */
describe('spam training: Junk moves queue learns, the mda works them against Rspamd', () => {
  let stack: TestStack;
  before(async () => {
    stack = await openTestStack('embedded');
  });
  after(async () => {
    await stack?.close();
  });

  const noChanges = { publish: () => Promise.resolve() };
  const rspamd = testRspamd();
  // Words no earlier run taught Rspamd's Bayes (kept in Redis), or it may skip the learn as
  // "already in class" and the test could not tell a learn from a skip.
  const fresh = (count: number) => Array.from({ length: count }, () => randomUUID().slice(0, 8)).join(' ');
  const message = () =>
    [
      `From: ${fresh(1)} <promo@deals.example>`,
      'To: someone@example.test',
      `Subject: ${fresh(6)}`,
      `Message-ID: <${randomUUID()}@deals.example>`,
      'Date: Sat, 05 Dec 2026 01:00:00 +0000',
      '',
      fresh(40),
      '',
    ].join('\r\n');
  const jobs = async (accountId: string) =>
    (
      await stack.pool.query<{ class: string; attempts: number; last_error: string | null }>(
        'SELECT class, attempts, last_error FROM spam_training_jobs WHERE account_id = $1 ORDER BY id',
        [accountId],
      )
    ).rows;
  const mailboxId = async (accountId: string, name: string) =>
    (
      await stack.pool.query<{ id: string }>('SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2', [
        accountId,
        name,
      ])
    ).rows[0]!.id;

  test('which moves teach what: into Junk spam, out of Junk ham, into Trash nothing', () => {
    assert.equal(trainingClass(null, '\\Junk'), 'spam');
    assert.equal(trainingClass('\\Sent', '\\Junk'), 'spam');
    assert.equal(trainingClass('\\Junk', null), 'ham');
    assert.equal(trainingClass('\\Junk', '\\Archive'), 'ham');
    assert.equal(trainingClass('\\Junk', '\\Trash'), null);
    assert.equal(trainingClass('\\Junk', '\\Junk'), null);
    assert.equal(trainingClass(null, '\\Trash'), null);
  });

  test('a copy into Junk queues spam; a wrong password is retried, not lost; the right one learns', async () => {
    const account = await stack.account(`train-${randomUUID().slice(0, 8)}`);
    const delivered = await stack.deliver(account.accountId, account.address, message());
    const writer = { pool: stack.pool, changes: noChanges };
    const junk = await mailboxId(account.accountId, 'Junk');
    await copyImapMessages(writer, {
      accountId: account.accountId,
      fromMailboxId: delivered.mailboxId,
      toMailboxId: junk,
      uids: [delivered.uid],
    });
    // Into Trash from INBOX: nothing to learn.
    await copyImapMessages(writer, {
      accountId: account.accountId,
      fromMailboxId: delivered.mailboxId,
      toMailboxId: await mailboxId(account.accountId, 'Trash'),
      uids: [delivered.uid],
    });
    assert.deepEqual(await jobs(account.accountId), [{ class: 'spam', attempts: 0, last_error: null }]);

    const watch = await CounterWatch.start(mdaMetrics.spamTraining, 'outcome', { class: 'spam' });
    const settings = {
      controllerUrl: rspamd.controllerUrl,
      intervalMs: 0,
      timeoutMs: 10_000,
      maxAttempts: 3,
    };
    const logger = createLogger('spam-training-test', 'silent');
    const wrong = startSpamTraining({
      pool: stack.pool,
      blobs: stack.blobs,
      logger,
      settings: { ...settings, password: 'not-the-password' },
    });
    assert.equal(await wrong.runOnce(), 0);
    await wrong.close();
    const [retried] = await jobs(account.accountId);
    assert.equal(retried?.attempts, 1);
    assert.match(retried?.last_error ?? '', /HTTP 40[13]/);
    assert.deepEqual(await watch.added(), { retry: 1 });

    // Due again only after its back-off: make it due now instead of waiting.
    await stack.pool.query('UPDATE spam_training_jobs SET next_attempt_at = now() WHERE account_id = $1', [
      account.accountId,
    ]);
    const right = startSpamTraining({
      pool: stack.pool,
      blobs: stack.blobs,
      logger,
      settings: { ...settings, password: rspamd.password },
    });
    assert.equal(await right.runOnce(), 1);
    await right.close();
    assert.deepEqual(await jobs(account.accountId), []);
    assert.deepEqual(await watch.added(), { retry: 1, learned: 1 });
    // Rspamd has this very message as spam now: learning it again is "already learned" (asked
    // until it says so: Rspamd records a learn in Redis just after answering it).
    await eventually('Rspamd to answer "already learned as spam"', async () => {
      const again = await fetch(`${rspamd.controllerUrl}/learnspam`, {
        method: 'POST',
        headers: { Password: rspamd.password },
        body: new Uint8Array(delivered.raw),
      });
      return again.status === 208 && (await again.text()).includes('already learned as spam');
    });
  });
});
