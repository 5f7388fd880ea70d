import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { runProgram, startAllInOneProcess } from '@correo/testkit';
import type { AllInOneProcess } from '@correo/testkit';

const SCRIPT = fileURLToPath(new URL('./fixtures/imap_pop3_same_mailbox.py', import.meta.url));

/** What fixtures/imap_pop3_same_mailbox.py saw, step by step. */
interface SameMailboxRun {
  a_exists: number;
  a_uids_before: string[];
  b_exists: number;
  modseq_at_select: number;
  pop_stat: [number, number];
  pop_retr_1_subject: string;
  modseq_after_append: number;
  pop_stat_after_append: [number, number];
  pop_list_after_append: number;
  pop_retr_new: string;
  pop_dele: string;
  pop_quit: string;
  a_expunge: string[];
  modseq_after_quit: number;
  a_uids_after: string[];
  a_subjects_after: string[];
  b_vanished: string[];
  b_expunge: string[];
  pop_next_stat: number;
  pop_next_subjects: string[];
}

describe('IMAP and POP3 on the same mailbox at once (one all-in-one process)', () => {
  let app: AllInOneProcess;

  before(async () => {
    app = await startAllInOneProcess();
  });
  after(async () => {
    await app?.stop();
  });

  test('POP3 DELE+QUIT reaches selected IMAP sessions; IMAP APPEND waits for the next POP3 login', async () => {
    const { code, stdout, stderr } = await runProgram('python3', [
      SCRIPT,
      app.host,
      String(app.ports.imap),
      String(app.ports.pop3),
      app.demo.address,
      app.demo.password,
      app.caFile,
    ]);
    assert.equal(code, 0, stderr);
    const seen = JSON.parse(stdout) as SameMailboxRun;

    assert.equal(seen.a_exists, 3);
    assert.equal(seen.b_exists, 3);
    assert.equal(seen.pop_stat[0], 3);
    assert.equal(seen.pop_retr_1_subject, 'first');

    // The POP3 maildrop is INBOX as it was at login.
    assert.ok(seen.modseq_after_append > seen.modseq_at_select);
    assert.deepEqual(seen.pop_stat_after_append, seen.pop_stat);
    assert.equal(seen.pop_list_after_append, 3);
    assert.match(seen.pop_retr_new, /^-ERR/);

    assert.match(seen.pop_dele, /^\+OK/);
    assert.match(seen.pop_quit, /^\+OK/);

    // Session A (plain IMAP) hears the deletion as EXPUNGE of message 1 at its next NOOP.
    assert.deepEqual(seen.a_expunge, ['1']);
    assert.ok(seen.modseq_after_quit > seen.modseq_after_append, 'HIGHESTMODSEQ rose with the POP3 deletion');
    const [firstUid, ...keptUids] = seen.a_uids_before;
    assert.equal(seen.a_uids_after.length, 3);
    assert.deepEqual(seen.a_uids_after.slice(0, 2), keptUids);
    assert.ok(!seen.a_uids_after.includes(firstUid!));
    assert.deepEqual(seen.a_subjects_after, ['second', 'third', 'during pop3']);

    // Session B (QRESYNC) hears it as VANISHED of the deleted UID, never as EXPUNGE.
    assert.deepEqual(seen.b_vanished, [firstUid]);
    assert.deepEqual(seen.b_expunge, []);

    // The next POP3 login sees the IMAP append and not the deleted message.
    assert.equal(seen.pop_next_stat, 3);
    assert.deepEqual(seen.pop_next_subjects, ['second', 'third', 'during pop3']);
  });
});
