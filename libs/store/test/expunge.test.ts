import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { expungeMessages } from '../src/expunge.js';
import { migrate } from '../src/migrate.js';
import { createPool } from '../src/pool.js';
import type { Pool } from '../src/pool.js';
import { readPop3Maildrop, recordPop3Octets } from '../src/pop3-maildrop.js';
import { createAccount, deliverMessage, writerFor } from './fixtures.js';

let db: FreshDatabase;
let pool: Pool;

before(async () => {
  db = await freshDatabase();
  await migrate(db.url);
  pool = createPool(db.url, { max: 12 });
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

function deliver(accountId: string, address: string, size = 100) {
  return deliverMessage(pool, { accountId, address }, size);
}

async function usedBytes(accountId: string): Promise<number> {
  const { rows } = await pool.query<{ used_bytes: string }>('SELECT used_bytes FROM accounts WHERE id = $1', [
    accountId,
  ]);
  return Number(rows[0]!.used_bytes);
}

test('expunge removes rows, records one new MODSEQ per call and frees the bytes', async () => {
  const { accountId, address } = await createAccount(pool);
  const delivered = [await deliver(accountId, address, 100), await deliver(accountId, address, 200)];
  await deliver(accountId, address, 300);
  const mailboxId = delivered[0]!.mailboxId;
  assert.equal(await usedBytes(accountId), 600);

  const result = await expungeMessages(writerFor(pool), {
    accountId,
    mailboxId,
    uids: [delivered[1]!.uid, delivered[0]!.uid, delivered[0]!.uid, 999],
  });
  assert.deepEqual(result.expunged, [delivered[0]!.uid, delivered[1]!.uid]);
  const { rows } = await pool.query<{ highestmodseq: string }>(
    'SELECT highestmodseq FROM mailboxes WHERE id = $1',
    [mailboxId],
  );
  assert.equal(result.modseq, Number(rows[0]!.highestmodseq));
  const expunged = await pool.query<{ uid: string; modseq: string }>(
    'SELECT uid, modseq FROM expunged WHERE mailbox_id = $1 ORDER BY uid',
    [mailboxId],
  );
  assert.deepEqual(
    expunged.rows.map((row) => [Number(row.uid), Number(row.modseq)]),
    delivered.map((d) => [d.uid, result.modseq]),
  );
  assert.equal(await usedBytes(accountId), 300);

  const again = await expungeMessages(writerFor(pool), { accountId, mailboxId, uids: [delivered[0]!.uid] });
  assert.deepEqual(again, { expunged: [], modseq: null });
});

test("expunge never touches another account's mailbox", async () => {
  const owner = await createAccount(pool);
  const intruder = await createAccount(pool);
  const delivered = await deliver(owner.accountId, owner.address);
  const result = await expungeMessages(writerFor(pool), {
    accountId: intruder.accountId,
    mailboxId: delivered.mailboxId,
    uids: [delivered.uid],
  });
  assert.deepEqual(result, { expunged: [], modseq: null });
  assert.equal((await readPop3Maildrop(pool, owner.accountId)).messages.length, 1);
});

test('a message row still held by another mailbox survives the expunge', async () => {
  const { accountId, address } = await createAccount(pool);
  const delivered = await deliver(accountId, address, 50);
  // An IMAP COPY keeps the same message row under another mailbox.
  const archive = await pool.query<{ id: string }>(
    `INSERT INTO mailboxes (account_id, name) VALUES ($1, 'Archive') RETURNING id`,
    [accountId],
  );
  await pool.query(
    `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq) VALUES ($1, $2, 1, $3, 1)`,
    [accountId, archive.rows[0]!.id, delivered.messageId],
  );
  await expungeMessages(writerFor(pool), {
    accountId,
    mailboxId: delivered.mailboxId,
    uids: [delivered.uid],
  });
  const { rows } = await pool.query('SELECT 1 FROM messages WHERE id = $1', [delivered.messageId]);
  assert.equal(rows.length, 1);
  assert.equal(await usedBytes(accountId), 50);
});

test('expunges and deliveries to one account run concurrently without deadlock or lost MODSEQ', async () => {
  const { accountId, address } = await createAccount(pool);
  const first = await Promise.all(Array.from({ length: 10 }, () => deliver(accountId, address)));
  const mailboxId = first[0]!.mailboxId;
  const work = [
    ...first.map((d) => expungeMessages(writerFor(pool), { accountId, mailboxId, uids: [d.uid] })),
    ...Array.from({ length: 10 }, () => deliver(accountId, address)),
  ];
  const results = await Promise.all(work);
  const modseqs = results.map((r) => r.modseq);
  assert.equal(new Set(modseqs).size, 20, 'every change got its own MODSEQ');
  const maildrop = await readPop3Maildrop(pool, accountId);
  assert.equal(maildrop.messages.length, 10);
});

test('POP3 sizes are kept per blob and read back with the maildrop', async () => {
  const { accountId, address } = await createAccount(pool);
  const delivered = await deliver(accountId, address, 100);
  const before = await readPop3Maildrop(pool, accountId);
  assert.equal(before.messages[0]!.octets, null);
  const blobKey = before.messages[0]!.blobKey;
  await recordPop3Octets(pool, [{ blobKey, octets: 102 }]);
  await recordPop3Octets(pool, [{ blobKey, octets: 102 }]);
  const after = await readPop3Maildrop(pool, accountId);
  assert.deepEqual(after.messages, [
    { uid: delivered.uid, messageId: delivered.messageId, blobKey, size: 100, octets: 102 },
  ]);
  assert.equal(after.mailboxId, delivered.mailboxId);
});

// correo_expunge_messages (migrations/0480_imap_expunge_generic_plans.sql): the plans PostgreSQL runs
// inside the call, read back through auto_explain, and the snapshot guarantee of 0390's comment.

/** `count` accounts with one delivered message in INBOX each. */
async function createMailboxes(count: number) {
  const accounts: { accountId: string; mailboxId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const account = await createAccount(pool);
    const first = await deliverMessage(pool, account, 100);
    accounts.push({ accountId: account.accountId, mailboxId: first.mailboxId });
  }
  return accounts;
}

/**
 * Files messages `from`..`to` (UIDs) in the INBOX of each of `accounts`, round robin as concurrent
 * clients would, straight in SQL: what the plans see is the tables' size and statistics.
 */
async function fillMailboxes(accounts: { accountId: string }[], from: number, to: number) {
  await pool.query(
    `WITH stored AS (
       INSERT INTO messages (account_id, blob_key, size, sha256)
       SELECT a.id, k.key, 100, k.key
       FROM accounts a, generate_series($1::int, $2::int) g,
         LATERAL (SELECT encode(sha256(convert_to(a.id || '/' || g, 'UTF8')), 'hex') AS key) k
       WHERE a.id = ANY($3::bigint[]) ORDER BY g, a.id
       RETURNING id, account_id
     ), filed AS (
       INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq)
       SELECT s.account_id, mb.id, $1::int - 1 + row_number() OVER (PARTITION BY s.account_id ORDER BY s.id), s.id, 1
       FROM stored s JOIN mailboxes mb ON mb.account_id = s.account_id AND mb.name = 'INBOX'
       RETURNING mailbox_id
     )
     UPDATE mailboxes SET uidnext = $2::int + 1 WHERE id IN (SELECT mailbox_id FROM filed)`,
    [from, to, accounts.map((a) => a.accountId)],
  );
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Actual Loops'?: number;
  Operation?: string;
  Plans?: PlanNode[];
}

function* nodes(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* nodes(child);
}

/**
 * Runs `sql` on a connection of its own with auto_explain logging every plan, nested statements
 * (PL/pgSQL, triggers, foreign keys) included, to the client as notices; returns the plans of the
 * last of `calls` runs (each rolled back).
 */
async function plansOf(sql: string, values: unknown[], calls: number): Promise<PlanNode[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const plans: PlanNode[] = [];
  try {
    client.on('notice', (notice) => {
      const text = notice.message ?? '';
      const json = text.slice(text.indexOf('{'));
      if (text.includes('plan:') && json.startsWith('{'))
        plans.push((JSON.parse(json) as { Plan: PlanNode }).Plan);
    });
    await client.query(`LOAD 'auto_explain'`);
    await client.query(`SET auto_explain.log_min_duration = 0`);
    await client.query(`SET auto_explain.log_analyze = on`);
    await client.query(`SET auto_explain.log_timing = off`);
    await client.query(`SET auto_explain.log_nested_statements = on`);
    await client.query(`SET auto_explain.log_format = json`);
    await client.query(`SET auto_explain.log_level = notice`);
    // Several calls: PL/pgSQL's plan cache decides between custom and generic plans after five.
    for (let i = 0; i < calls; i++) {
      plans.length = 0;
      await client.query('BEGIN');
      await client.query(sql, values);
      await client.query('ROLLBACK');
    }
  } finally {
    await client.end();
  }
  return plans;
}

/** The scans an expunge ran (never-executed branches left out), by statement of the function. */
async function expungeScans(accountId: string, mailboxId: string, uids: number[], oneCall = false) {
  // oneCall: correo_expunge_message (0502), which expungeMessages calls for a single UID.
  const plans = await plansOf(
    oneCall
      ? 'SELECT * FROM correo_expunge_message($1, $2, $3, false)'
      : 'SELECT * FROM correo_expunge_messages($1, $2, $3::bigint[], false)',
    [accountId, mailboxId, oneCall ? uids[0] : uids],
    7,
  );
  const ran = (plan: PlanNode) => [...nodes(plan)].filter((n) => (n['Actual Loops'] ?? 1) > 0);
  // The statements of the function that delete from `relation` in a CTE; a statement that is the
  // delete itself is a foreign key's cascade.
  const statement = (relation: string) => {
    const found = plans.filter(
      (plan) =>
        plan.Operation !== 'Delete' &&
        [...nodes(plan)].some((n) => n.Operation === 'Delete' && n['Relation Name'] === relation),
    );
    assert.equal(found.length, 1, `one statement of the function deletes from ${relation}`);
    return found[0]!;
  };
  const scans = (plan: PlanNode, relation: string) =>
    ran(plan)
      .filter((n) => n['Relation Name'] === relation && n['Node Type'] !== 'ModifyTable')
      .map((n) => ({ type: n['Node Type'], index: n['Index Name'], cond: n['Index Cond'] }));
  const all = plans.flatMap(ran);
  return {
    removal: scans(statement('mailbox_messages'), 'mailbox_messages'),
    freeing: {
      messages: scans(statement('messages'), 'messages'),
      held: scans(statement('messages'), 'mailbox_messages'),
    },
    // A bitmap scan, or a scan of a whole table of mail.
    wide: all.filter(
      (n) =>
        n['Node Type'].startsWith('Bitmap') ||
        (n['Node Type'] === 'Seq Scan' &&
          ['mailbox_messages', 'messages', 'expunged'].includes(n['Relation Name']!)),
    ),
  };
}

test('an expunge finds its rows by key with plans made once, on statistics that favoured other plans', async () => {
  const accounts = await createMailboxes(20);
  // Statistics as the benchmark's tables had them: analysed while each mailbox held a few messages,
  // and not since (autovacuum kept away here, for the test's length). On them `uid = ANY(...)` costs
  // ten key lookups against a walk of a mailbox thought to hold three rows.
  await pool.query('ALTER TABLE mailbox_messages SET (autovacuum_enabled = false)');
  await pool.query('ALTER TABLE messages SET (autovacuum_enabled = false)');
  await fillMailboxes(accounts, 2, 3);
  await pool.query('ANALYZE');
  await fillMailboxes(accounts, 4, 100);
  // Generic plans (the statements' parameters in their conditions, not this call's values), by key.
  const one = await expungeScans(accounts[7]!.accountId, accounts[7]!.mailboxId, [50]);
  assert.deepEqual(
    one.removal.map(({ type, index }) => [type, index]),
    [['Index Scan', 'mailbox_messages_pkey']],
  );
  assert.match(
    one.removal[0]!.cond!,
    /^\(\(mailbox_id = \$\d+\) AND \(uid = \(\$\d+\)\[array_lower\(\$\d+, 1\)\]\)\)$/,
  );
  // The freeing: messages by id, and "still held" by message_id (0491's index), message by message.
  assert.deepEqual(
    one.freeing.messages.map(({ type, index }) => [type, index]),
    [['Index Scan', 'messages_pkey']],
  );
  assert.match(one.freeing.messages[0]!.cond!, /^\(id = ANY \(\$\d+\)\)$/);
  assert.deepEqual(
    one.freeing.held.map(({ type, index }) => [type, index]),
    [['Index Scan', 'mailbox_messages_message_id_idx']],
  );
  assert.deepEqual(one.wide, []);
  // The same through the function for one UID: its UID and message id are plain parameters.
  const lone = await expungeScans(accounts[7]!.accountId, accounts[7]!.mailboxId, [51], true);
  assert.deepEqual(
    lone.removal.map(({ type, index }) => [type, index]),
    [['Index Scan', 'mailbox_messages_pkey']],
  );
  assert.match(lone.removal[0]!.cond!, /^\(\(mailbox_id = \$\d+\) AND \(uid = \$\d+\)\)$/);
  assert.deepEqual(
    lone.freeing.messages.map(({ type, index }) => [type, index]),
    [['Index Scan', 'messages_pkey']],
  );
  assert.match(lone.freeing.messages[0]!.cond!, /^\(id = \$\d+\)$/);
  assert.deepEqual(
    lone.freeing.held.map(({ type, index }) => [type, index]),
    [['Index Scan', 'mailbox_messages_message_id_idx']],
  );
  assert.deepEqual(lone.wide, []);

  // Several UIDs, on statistics of the tables as they are (where a bitmap scan of the mailbox's
  // (mailbox_id, modseq) entries looked as cheap as the key lookups).
  await pool.query('ANALYZE');
  const several = await expungeScans(accounts[8]!.accountId, accounts[8]!.mailboxId, [40, 41]);
  assert.deepEqual(
    several.removal.map(({ type, index }) => [type, index]),
    [['Index Scan', 'mailbox_messages_pkey']],
  );
  assert.match(several.removal[0]!.cond!, /^\(\(mailbox_id = \$\d+\) AND \(uid = ANY \(\$\d+\)\)\)$/);
  assert.deepEqual(
    several.freeing.messages.map(({ type, index }) => [type, index]),
    [['Index Scan', 'messages_pkey']],
  );
  assert.deepEqual(several.wide, []);
});

test('a COPY of the message committed while the expunge waits for the account keeps the message and its bytes', async () => {
  const { accountId, address } = await createAccount(pool);
  const delivered = await deliverMessage(pool, { accountId, address }, 70);
  const { rows: archive } = await pool.query<{ id: string }>(
    `INSERT INTO mailboxes (account_id, name) VALUES ($1, 'Archive') RETURNING id`,
    [accountId],
  );
  // The COPY holds the account lock (as copyImapMessages does) and files the message in Archive...
  const copier = await pool.connect();
  // The expunge's own one-connection pool, whose backend can be watched.
  const expunger = createPool(db.url, { max: 1 });
  try {
    await copier.query('BEGIN');
    await copier.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
    await copier.query(
      `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq) VALUES ($1, $2, 1, $3, 1)`,
      [accountId, archive[0]!.id, delivered.messageId],
    );
    // ...while the expunge of the original starts: its first statement's snapshot is older than the COPY.
    const { rows: pid } = await expunger.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const expunge = expungeMessages(writerFor(expunger), {
      accountId,
      mailboxId: delivered.mailboxId,
      uids: [delivered.uid],
    });
    // Wait (on PostgreSQL's own report, not a timer) until the expunge waits for the account lock.
    for (;;) {
      const { rows } = await pool.query<{ waiting: boolean }>(
        `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
        [pid[0]!.pid],
      );
      if (rows[0]?.waiting) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await copier.query('COMMIT');
    const result = await expunge;
    assert.deepEqual(result.expunged, [delivered.uid]);
  } finally {
    copier.release();
    await expunger.end();
  }
  // The copy and its message row survive; the bytes stay counted, once.
  const { rows: held } = await pool.query<{ mailbox_id: string }>(
    'SELECT mailbox_id FROM mailbox_messages WHERE message_id = $1',
    [delivered.messageId],
  );
  assert.deepEqual(
    held.map((row) => row.mailbox_id),
    [archive[0]!.id],
  );
  const { rows: message } = await pool.query('SELECT 1 FROM messages WHERE id = $1', [delivered.messageId]);
  assert.equal(message.length, 1);
  assert.equal(await usedBytes(accountId), 70);
});
