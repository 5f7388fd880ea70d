import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import {
  appendImapMessages,
  claimImapRecent,
  copyImapMessages,
  createImapMailbox,
  createPool,
  expungeMessages,
  findImapMailbox,
  migrate,
  openImapMailbox,
  readImapChanges,
  readImapVanished,
  renameImapMailbox,
  searchImapMailbox,
  storeImapFlags,
} from '../src/index.js';
import type { MessageFacts, Pool } from '../src/index.js';
import { createAccount, messageFacts, writerFor } from './fixtures.js';

function facts(subject: string, size = 100): MessageFacts {
  return {
    ...messageFacts('a'.repeat(64), size),
    internalDate: new Date('2026-11-26T06:00:00Z'),
    subject,
    from: 'Ana <ana@remote.test>',
    to: 'bob@example.test',
    messageId: `<${subject}@remote.test>`,
    date: new Date('2026-11-25T06:00:00Z'),
    sentDay: '2026-11-25',
    headerText: `subject: ${subject}\n`,
    bodyText: `${subject} body words`,
  };
}

describe('IMAP mailbox queries keep the invariants (UIDs ascend, MODSEQ rises)', () => {
  let db: FreshDatabase;
  let pool: Pool;
  let accountId: string;

  before(async () => {
    db = await freshDatabase();
    await migrate(db.url);
    pool = createPool(db.url);
    const tenant = await pool.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('t') RETURNING id`);
    const domain = await pool.query<{ id: string }>(
      `INSERT INTO domains (tenant_id, name) VALUES ($1, 'example.test') RETURNING id`,
      [tenant.rows[0]!.id],
    );
    const account = await pool.query<{ id: string }>(
      `INSERT INTO accounts (tenant_id, domain_id, local_part, address, quota_bytes)
       VALUES ($1, $2, 'bob', 'bob@example.test', 1000) RETURNING id`,
      [tenant.rows[0]!.id, domain.rows[0]!.id],
    );
    accountId = account.rows[0]!.id;
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  test('append, store, copy, expunge: every change gets a higher MODSEQ and changes/vanished see it', async () => {
    const created = await createImapMailbox(pool, accountId, 'INBOX');
    assert.equal(created.kind, 'created');
    const inbox = (await findImapMailbox(pool, accountId, 'INBOX'))!;
    const first = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      messages: [
        { facts: facts('alpha'), flags: ['\\Seen'] },
        { facts: facts('beta'), flags: [] },
      ],
    });
    assert.equal(first.kind, 'appended');
    if (first.kind !== 'appended') return;
    assert.deepEqual(first.uids, [1, 2]);

    const stored = await storeImapFlags(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      uids: [1, 2],
      operation: 'add',
      flags: ['\\Flagged'],
    });
    assert.equal(stored.changed.length, 2);
    assert.ok(stored.changed[0]!.modseq > first.modseq);
    const unchanged = await storeImapFlags(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      uids: [1],
      operation: 'add',
      flags: ['\\Flagged'],
    });
    assert.deepEqual(unchanged.changed, [], 'no MODSEQ for a STORE that changes nothing');
    const conditional = await storeImapFlags(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      uids: [1],
      operation: 'remove',
      flags: ['\\Seen'],
      unchangedSince: first.modseq,
    });
    assert.deepEqual(conditional.modified, [1]);

    const archive = await createImapMailbox(pool, accountId, 'Archive/2026');
    assert.equal(archive.kind, 'created');
    assert.ok(await findImapMailbox(pool, accountId, 'Archive'), 'the parent is created too');
    const copied = await copyImapMessages(writerFor(pool), {
      accountId,
      fromMailboxId: inbox.id,
      toMailboxId: archive.kind === 'created' ? archive.id : '',
      uids: [2, 1],
    });
    assert.equal(copied.kind, 'copied');
    if (copied.kind === 'copied') {
      assert.deepEqual(copied.sourceUids, [1, 2]);
      assert.deepEqual(copied.destinationUids, [1, 2]);
    }

    const before = (await openImapMailbox(pool, accountId, inbox.id))!;
    const expunged = await expungeMessages(writerFor(pool), { accountId, mailboxId: inbox.id, uids: [1] });
    assert.ok(expunged.modseq! > before.highestmodseq);
    const changes = (await readImapChanges(pool, accountId, inbox.id, before.highestmodseq))!;
    assert.deepEqual(changes.expunged, [1]);
    assert.deepEqual(await readImapVanished(pool, inbox.id, 0, [[1, 10]]), [1]);

    const again = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      messages: [{ facts: facts('gamma'), flags: [] }],
    });
    assert.ok(again.kind === 'appended' && again.uids[0] === 3, 'UID 1 is never reused');
    const quota = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      messages: [{ facts: facts('huge', 10_000), flags: [] }],
    });
    assert.equal(quota.kind, 'over-quota');
  });

  test('APPEND in one allocation: MULTIAPPEND gets consecutive UIDs, one MODSEQ and its flags; a refusal writes nothing', async () => {
    const created = await createImapMailbox(pool, accountId, 'Multi');
    assert.equal(created.kind, 'created');
    const box = (await findImapMailbox(pool, accountId, 'Multi'))!;
    const state = async () => {
      const { rows } = await pool.query<{ used_bytes: string; uidnext: string; highestmodseq: string }>(
        `SELECT a.used_bytes, m.uidnext, m.highestmodseq FROM accounts a JOIN mailboxes m ON m.account_id = a.id
         WHERE a.id = $1 AND m.id = $2`,
        [accountId, box.id],
      );
      return rows[0]!;
    };
    const before = await state();
    const appended = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: box.id,
      messages: [
        { facts: facts('one', 10), flags: ['\\Seen', 'work', '\\Seen'] },
        { facts: facts('two', 20), flags: [] },
      ],
    });
    assert.equal(appended.kind, 'appended');
    if (appended.kind !== 'appended') return;
    assert.deepEqual(appended.uids, [Number(before.uidnext), Number(before.uidnext) + 1]);
    const filed = await pool.query<{ uid: string; modseq: string; flags: string[]; size: string }>(
      `SELECT mm.uid, mm.modseq, mm.flags, m.size FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id
       WHERE mm.mailbox_id = $1 ORDER BY mm.uid`,
      [box.id],
    );
    assert.deepEqual(
      filed.rows.map((r) => [Number(r.uid), Number(r.modseq), r.flags, Number(r.size)]),
      [
        [appended.uids[0], appended.modseq, ['\\Seen', 'work'], 10],
        [appended.uids[1], appended.modseq, [], 20],
      ],
    );
    const after = await state();
    assert.equal(Number(after.used_bytes), Number(before.used_bytes) + 30);
    assert.equal(Number(after.highestmodseq), appended.modseq);

    // Over quota, and into a mailbox that does not exist: no UID, MODSEQ or byte is taken.
    const refused = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: box.id,
      messages: [{ facts: facts('too big', 10_000), flags: [] }],
    });
    assert.equal(refused.kind, 'over-quota');
    const missing = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: '999999999',
      messages: [{ facts: facts('nowhere', 10), flags: [] }],
    });
    assert.equal(missing.kind, 'nonexistent');
    assert.deepEqual(await state(), after);
  });

  test('an EXPUNGE of \\Deleted messages skips those whose \\Deleted another session has removed', async () => {
    assert.equal((await createImapMailbox(pool, accountId, 'Expunging')).kind, 'created');
    const inbox = (await findImapMailbox(pool, accountId, 'Expunging'))!;
    const appended = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      messages: [
        { facts: facts('kept', 1), flags: ['\\Deleted'] },
        { facts: facts('gone', 1), flags: ['\\Deleted'] },
      ],
    });
    assert.equal(appended.kind, 'appended');
    if (appended.kind !== 'appended') return;
    const [kept, gone] = appended.uids as [number, number];
    // The expunging session still believes both are \Deleted; the other session took it off one.
    await storeImapFlags(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      uids: [kept],
      operation: 'remove',
      flags: ['\\Deleted'],
      unchangedSince: null,
    });
    const result = await expungeMessages(writerFor(pool), {
      accountId,
      mailboxId: inbox.id,
      uids: [kept, gone],
      onlyDeleted: true,
    });
    assert.deepEqual(result.expunged, [gone]);
    const left = await searchImapMailbox(pool, accountId, inbox.id, { kind: 'uid', ranges: [[kept, gone]] });
    assert.deepEqual(
      left.map((m) => m.uid),
      [kept],
    );
  });

  test('STORE: one that changes nothing takes no lock; one that changes waits for the account and starts from the latest flags', async () => {
    assert.equal((await createImapMailbox(pool, accountId, 'Storing')).kind, 'created');
    const box = (await findImapMailbox(pool, accountId, 'Storing'))!;
    const appended = await appendImapMessages(writerFor(pool), {
      accountId,
      mailboxId: box.id,
      messages: [
        { facts: facts('seen', 1), flags: ['\\Seen'] },
        { facts: facts('plain', 1), flags: [] },
      ],
    });
    assert.equal(appended.kind, 'appended');
    if (appended.kind !== 'appended') return;
    const [seen, plain] = appended.uids as [number, number];
    const store = (
      uids: number[],
      operation: 'add' | 'remove',
      flags: string[],
      unchangedSince: number | null = null,
    ) =>
      storeImapFlags(writerFor(pool), {
        accountId,
        mailboxId: box.id,
        uids,
        operation,
        flags,
        unchangedSince,
      });
    const highest = async () =>
      Number(
        (await pool.query<{ m: string }>('SELECT highestmodseq AS m FROM mailboxes WHERE id = $1', [box.id]))
          .rows[0]!.m,
      );

    // Another session's transaction holds the account (as every write does until it commits) and has
    // changed `plain` without committing yet.
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
      const otherModseq = Number(
        (
          await other.query<{ m: string }>(
            'UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq AS m',
            [box.id],
          )
        ).rows[0]!.m,
      );
      await other.query(
        `UPDATE mailbox_messages SET flags = $3::text[], modseq = $4 WHERE mailbox_id = $1 AND uid = $2`,
        [box.id, plain, ['\\Flagged'], otherModseq],
      );
      const before = await highest();

      // Setting \Seen again, or with UNCHANGEDSINCE below the message's MODSEQ, changes nothing: answered
      // while the account is held, MODSEQ not moved.
      const again = await store([seen], 'add', ['\\Seen']);
      assert.deepEqual(again.changed, []);
      assert.deepEqual(again.modified, []);
      assert.deepEqual(
        again.current.map((m) => [m.uid, m.flags]),
        [[seen, ['\\Seen']]],
      );
      const conditional = await store([seen], 'remove', ['\\Seen'], 1);
      assert.deepEqual(conditional.modified, [seen]);
      assert.deepEqual(conditional.changed, []);
      assert.equal(await highest(), before, 'no MODSEQ handed out');

      // A real change waits for the account; the other session's commit goes first and its \Flagged is
      // kept (the flags are computed again from the row as committed, not as first read).
      let settled = false;
      const adding = store([plain, seen], 'add', ['\\Seen']).finally(() => (settled = true));
      await eventually('the STORE waiting for the account row', async () => {
        const { rowCount } = await pool.query(
          `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE NOT l.granted AND a.datname = current_database() AND a.query LIKE '%correo_store_flags%'`,
        );
        return (rowCount ?? 0) > 0;
      });
      assert.equal(settled, false);
      await other.query('COMMIT');
      const added = await adding;
      assert.deepEqual(
        added.changed.map((m) => [m.uid, m.flags]),
        [[plain, ['\\Flagged', '\\Seen']]],
      );
      assert.ok(added.changed[0]!.modseq > otherModseq, 'a MODSEQ above the committed change');
      assert.deepEqual(
        added.current.map((m) => [m.uid, m.flags]),
        [
          [seen, ['\\Seen']],
          [plain, ['\\Flagged', '\\Seen']],
        ],
      );

      // A STORE of one message (its own function, 0501) the same: it waits for the account, then starts
      // from the row as committed; a message expunged while it waited is left out of the answer.
      const waitingFor = (name: string) =>
        eventually(`the one-message STORE waiting (${name})`, async () => {
          const { rowCount } = await pool.query(
            `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE NOT l.granted AND a.datname = current_database() AND a.query LIKE '%correo_store_flag(%'`,
          );
          return (rowCount ?? 0) > 0;
        });
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
      await other.query(
        `UPDATE mailbox_messages SET flags = '{$Label1}' WHERE mailbox_id = $1 AND uid = $2`,
        [box.id, seen],
      );
      const single = store([seen], 'add', ['\\Answered']);
      await waitingFor('a change');
      await other.query('COMMIT');
      const answered = await single;
      assert.deepEqual(
        answered.changed.map((m) => [m.uid, m.flags]),
        [[seen, ['$Label1', '\\Answered']]],
      );
      assert.equal(answered.changed[0]!.modseq, await highest());
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
      await other.query('DELETE FROM mailbox_messages WHERE mailbox_id = $1 AND uid = $2', [box.id, seen]);
      const gone = store([seen], 'add', ['\\Flagged']);
      await waitingFor('an expunge');
      const modseqBefore = await highest();
      await other.query('COMMIT');
      assert.deepEqual(await gone, { changed: [], modified: [], current: [] });
      assert.equal(await highest(), modseqBefore, 'no MODSEQ for a message that is gone');
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      other.release();
    }
  });

  test('APPEND runs from a plan PostgreSQL prepared once (generic), not one planned for every call', async () => {
    // Each APPEND statement used to be planned again on every call (0.2-0.4 ms of PostgreSQL CPU, a
    // third of its cost: docs/performance.md, IMAP fifth round): its generic plan was costed for 1,000
    // messages per call and lost to a custom plan every time. One connection, so that its prepared
    // statements and their plan counters are the ones pg_prepared_statements shows.
    const single = createPool(db.url, { max: 1 });
    try {
      const mailbox = await createImapMailbox(single, accountId, 'Plans');
      assert.equal(mailbox.kind, 'created');
      const id = (await findImapMailbox(single, accountId, 'Plans'))!.id;
      const bytes = new TextEncoder().encode('Subject: kept\r\n\r\nbody\r\n');
      for (let i = 0; i < 12; i++) {
        const blobKey = `plans-${i}`.padEnd(64, '0');
        const uids: number[] = [];
        for (const bodies of [undefined, [{ blobKey, bytes }]]) {
          const appended = await appendImapMessages(writerFor(single), {
            accountId,
            mailboxId: id,
            messages: [{ facts: { ...facts(`plan ${i}`, 1), blobKey }, flags: i % 2 ? ['\\Seen'] : [] }],
            ...(bodies ? { bodies } : {}),
          });
          assert.equal(appended.kind, 'appended');
          if (appended.kind === 'appended') uids.push(...appended.uids);
        }
        // Expunged again, so that the account stays under its small quota.
        await expungeMessages(writerFor(single), { accountId, mailboxId: id, uids });
      }
      const { rows } = await single.query<{ name: string; generic_plans: string; custom_plans: string }>(
        `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
         WHERE name IN ('imap-append', 'imap-append-with-bodies') ORDER BY name`,
      );
      assert.deepEqual(
        rows.map((r) => r.name),
        ['imap-append', 'imap-append-with-bodies'],
      );
      for (const row of rows) {
        // PostgreSQL plans the first five executions for their parameters, then keeps the generic plan
        // when it is no dearer: every later call reuses it.
        assert.ok(Number(row.custom_plans) <= 5, `${row.name}: ${row.custom_plans} custom plans in 12 calls`);
        assert.ok(
          Number(row.generic_plans) >= 7,
          `${row.name}: ${row.generic_plans} generic plans in 12 calls`,
        );
      }
    } finally {
      await single.end();
    }
  });

  test('SEARCH conditions run as SQL: text, flags, dates, UIDs and boolean operators', async () => {
    const inbox = (await findImapMailbox(pool, accountId, 'INBOX'))!;
    const uids = async (condition: Parameters<typeof searchImapMailbox>[3]) =>
      (await searchImapMailbox(pool, accountId, inbox.id, condition)).map((m) => m.uid);
    assert.deepEqual(await uids({ kind: 'all' }), [2, 3]);
    assert.deepEqual(await uids({ kind: 'text', field: 'subject', value: 'GAM' }), [3]);
    assert.deepEqual(await uids({ kind: 'text', field: 'body', value: 'beta' }), [2]);
    assert.deepEqual(await uids({ kind: 'text', field: 'from', value: 'ana@remote' }), [2, 3]);
    assert.deepEqual(await uids({ kind: 'flag', flag: '\\Flagged', set: true }), [2]);
    assert.deepEqual(await uids({ kind: 'sent-date', op: 'on', date: '2026-11-25' }), [2, 3]);
    assert.deepEqual(await uids({ kind: 'internal-date', op: 'before', date: '2026-11-26' }), []);
    assert.deepEqual(await uids({ kind: 'header', field: 'Message-ID', value: '<beta@' }), [2]);
    assert.deepEqual(
      await uids({
        kind: 'or',
        left: { kind: 'uid', ranges: [[3, 3]] },
        right: { kind: 'not', operand: { kind: 'size', op: 'larger', size: 50 } },
      }),
      [3],
    );
  });

  test('\\Recent claims: concurrent sessions never claim one UID twice, and none is left out', async () => {
    const created = await createImapMailbox(pool, accountId, 'Recent');
    assert.equal(created.kind, 'created');
    const box = (await findImapMailbox(pool, accountId, 'Recent'))!;
    const append = (n: number) =>
      appendImapMessages(writerFor(pool), {
        accountId,
        mailboxId: box.id,
        messages: Array.from({ length: n }, (_, i) => ({ facts: facts(`recent ${i}`), flags: [] })),
      });
    await append(3);
    const claimedUids = async (uidnexts: number[]) => {
      const claims = await Promise.all(uidnexts.map((n) => claimImapRecent(pool, accountId, box.id, n)));
      const uids = claims.flatMap(({ from, to }) => Array.from({ length: to - from }, (_, i) => from + i));
      assert.equal(new Set(uids).size, uids.length, `claimed twice: ${JSON.stringify(claims)}`);
      return uids.sort((a, b) => a - b);
    };
    // Sessions that have seen different UIDNEXTs race; together they take 1..3 exactly once.
    assert.deepEqual(await claimedUids([4, 2, 4, 3, 4, 4, 2, 4, 4, 4, 3, 4]), [1, 2, 3]);
    assert.deepEqual(await claimedUids([4, 4]), []);
    await append(2);
    const open = await openImapMailbox(pool, accountId, box.id);
    assert.equal(open?.firstRecentUid, 4);
    assert.deepEqual(await claimedUids([6, 6, 6, 5, 6]), [4, 5]);
    // Sessions that read the mark before others moved it (a stale `seenFrom`) still claim each UID once.
    await append(3);
    const stale = await Promise.all(
      [7, 9, 8, 9, 9, 8].map((n, i) => claimImapRecent(pool, accountId, box.id, n, i % 2 ? 6 : 1)),
    );
    const uids = stale.flatMap(({ from, to }) => Array.from({ length: to - from }, (_, i) => from + i));
    assert.deepEqual(
      uids.sort((a, b) => a - b),
      [6, 7, 8],
    );
  });

  test('renaming INBOX moves its messages to a new folder and leaves INBOX empty', async () => {
    assert.equal(await renameImapMailbox(pool, accountId, 'INBOX', 'Old'), 'renamed');
    const inbox = (await findImapMailbox(pool, accountId, 'INBOX'))!;
    const old = (await findImapMailbox(pool, accountId, 'Old'))!;
    assert.deepEqual((await openImapMailbox(pool, accountId, inbox.id))!.messages, []);
    assert.deepEqual(
      (await openImapMailbox(pool, accountId, old.id))!.messages.map((m) => m.uid),
      [2, 3],
    );
    assert.equal(await renameImapMailbox(pool, accountId, 'Nope', 'Other'), 'nonexistent');
    assert.equal(await renameImapMailbox(pool, accountId, 'Old', 'Archive'), 'exists');
  });
});

/**
 * A mailbox named `name` in a database of its own, reached through one connection: no other
 * session's work lands in what the test reads of the server (index statistics, timings). Dropped after.
 */
async function inOwnDatabase(
  name: string,
  run: (single: Pool, accountId: string, mailboxId: string) => Promise<void>,
): Promise<void> {
  const own = await freshDatabase();
  await migrate(own.url);
  const single = createPool(own.url, { max: 1 });
  try {
    const { accountId } = await createAccount(single);
    assert.equal((await createImapMailbox(single, accountId, name)).kind, 'created');
    const box = (await findImapMailbox(single, accountId, name))!;
    await run(single, accountId, box.id);
  } finally {
    await single.end();
    await own.drop();
  }
}

test('STORE and APPEND reach rows through their keys, not by walking the mailbox or the account', async () => {
  // Before, the plan PostgreSQL kept for STORE was costed for "some" UIDs and, without statistics (a
  // new install, every benchmark run), read the mailbox through its (mailbox_id, modseq) index: every
  // row version of the mailbox for one UID. Counted with the server's own index statistics, on a
  // mailbox of 120 messages, for the STOREs answered from that read alone (nothing to change; a
  // message modified since UNCHANGEDSINCE) and for one that changes a message. The same for APPEND's
  // foreign-key check of its message row: an index leading with account_id alone (0490, 0493) let it
  // walk the account's messages.
  // A database of its own and one connection: no other session's index scans can land in the counts.
  await inOwnDatabase('Lookups', async (single, accountId, mailboxId) => {
    const appended = await appendImapMessages(writerFor(single), {
      accountId,
      mailboxId,
      messages: Array.from({ length: 120 }, (_, i) => ({
        facts: facts(`lookup ${i}`, 1),
        flags: ['\\Seen'],
      })),
    });
    assert.equal(appended.kind, 'appended');
    if (appended.kind !== 'appended') return;
    const uids = [appended.uids[30]!, appended.uids[60]!, appended.uids[90]!];
    const scans = async () => {
      const { rows } = await single.query<{ indexrelname: string; idx_scan: string }>(
        `SELECT pg_stat_clear_snapshot(), indexrelname, idx_scan FROM pg_stat_user_indexes
       WHERE relname IN ('mailbox_messages', 'messages') ORDER BY indexrelname`,
      );
      return Object.fromEntries(rows.map((r) => [r.indexrelname, Number(r.idx_scan)]));
    };
    // The connection's counts reach the shared statistics when it is next idle, forced right away.
    const flushed = () => single.query('SELECT pg_stat_force_next_flush()');
    await flushed();
    const before = await scans();
    const again = await storeImapFlags(writerFor(single), {
      accountId,
      mailboxId,
      uids,
      operation: 'add',
      flags: ['\\Seen'],
    });
    assert.deepEqual(again.changed, []);
    assert.equal(again.current.length, 3);
    const modified = await storeImapFlags(writerFor(single), {
      accountId,
      mailboxId,
      uids,
      operation: 'remove',
      flags: ['\\Seen'],
      unchangedSince: 1,
    });
    assert.deepEqual(modified.modified, uids);
    // A STORE that changes one message: its row is updated through the whole primary key too.
    const marked = await storeImapFlags(writerFor(single), {
      accountId,
      mailboxId,
      uids: [uids[1]!],
      operation: 'add',
      flags: ['\\Flagged'],
    });
    assert.deepEqual(
      marked.changed.map((m) => [m.uid, m.flags]),
      [[uids[1], ['\\Flagged', '\\Seen']]],
    );
    const added = await appendImapMessages(writerFor(single), {
      accountId,
      mailboxId,
      messages: [{ facts: facts('one more', 1), flags: [] }],
    });
    assert.equal(added.kind, 'appended');
    await flushed();
    let after: Record<string, number> = {};
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    await eventually('the STOREs counted in the statistics', async () => {
      after = await scans();
      return total(after) > total(before);
    });
    assert.ok(after['mailbox_messages_pkey']! >= before['mailbox_messages_pkey']! + 9, 'a lookup per UID');
    assert.equal(
      after['mailbox_messages_changed_since_idx'],
      before['mailbox_messages_changed_since_idx'],
      'no STORE scanned the mailbox through (mailbox_id, modseq)',
    );
    // The messages rows were reached by their keys only (the APPEND's foreign-key check).
    const messageIndexes = Object.keys(after).filter((name) => name.startsWith('messages_'));
    const used = messageIndexes.filter((name) => after[name] !== before[name]);
    assert.ok(used.length > 0, 'the foreign-key check is counted');
    assert.deepEqual(
      used.filter((name) => name !== 'messages_account_id_id_key' && name !== 'messages_pkey'),
      [],
    );
  });
});

test('STORE on every message of a 20,000-message mailbox changes them all under one MODSEQ, and again changes none', async () => {
  // The worst input a client can send STORE (`STORE 1:* +FLAGS`, a mailbox as large as a session may
  // hold): one lookup per UID through the primary key, not a join costed for a few rows. The statement
  // before this function took 12.8 s here and held the account lock throughout (docs/performance.md).
  await inOwnDatabase('Large', async (single, accountId, mailboxId) => {
    const uids: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const appended = await appendImapMessages(writerFor(single), {
        accountId,
        mailboxId,
        messages: Array.from({ length: 1000 }, (_, i) => ({
          facts: facts(`large ${batch}-${i}`, 1),
          flags: [],
        })),
      });
      assert.equal(appended.kind, 'appended');
      if (appended.kind === 'appended') uids.push(...appended.uids);
    }
    const store = (operation: 'add' | 'remove') =>
      storeImapFlags(writerFor(single), {
        accountId,
        mailboxId,
        uids,
        operation,
        flags: ['\\Seen'],
      });
    const marked = await store('add');
    assert.equal(marked.changed.length, 20_000);
    assert.equal(new Set(marked.changed.map((m) => m.modseq)).size, 1, 'one MODSEQ for the whole STORE');
    assert.ok(marked.changed.every((m) => m.flags.length === 1 && m.flags[0] === '\\Seen'));
    const again = await store('add');
    assert.equal(again.changed.length, 0);
    assert.equal(again.current.length, 20_000);
    const cleared = await store('remove');
    assert.equal(cleared.changed.length, 20_000);
    const { rows } = await single.query<{ seen: string }>(
      `SELECT count(*) AS seen FROM mailbox_messages WHERE mailbox_id = $1 AND '\\Seen' = ANY(flags)`,
      [mailboxId],
    );
    assert.equal(rows[0]!.seen, '0');
  });
});
