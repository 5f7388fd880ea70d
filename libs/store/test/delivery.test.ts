import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresBus } from '@correo/bus';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { deliverManyToMailboxes, deliverToMailbox, recordRejection } from '../src/delivery.js';
import type { MessageFacts } from '../src/delivery.js';
import { messageFacts, writerFor } from './fixtures.js';
import { migrate } from '../src/migrate.js';
import { createPool } from '../src/pool.js';
import type { Pool } from '../src/pool.js';

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

async function account(address: string, quotaBytes: number | null = null): Promise<string> {
  const domain = address.split('@')[1]!;
  const tenant = await pool.query<{ id: string }>('INSERT INTO tenants (name) VALUES ($1) RETURNING id', [
    randomUUID(),
  ]);
  const tenantId = tenant.rows[0]!.id;
  const d = await pool.query<{ id: string }>(
    'INSERT INTO domains (tenant_id, name) VALUES ($1, $2) RETURNING id',
    [tenantId, domain],
  );
  const a = await pool.query<{ id: string }>(
    `INSERT INTO accounts (tenant_id, domain_id, local_part, address, quota_bytes)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [tenantId, d.rows[0]!.id, address.split('@')[0], address, quotaBytes],
  );
  return a.rows[0]!.id;
}

function facts(size = 100): MessageFacts {
  return {
    ...messageFacts('a'.repeat(64), size),
    internalDate: new Date('2026-11-26T06:00:00Z'),
    subject: 'hi',
    from: 'a@b.test',
    to: 'c@d.test',
    messageId: '<x@y.test>',
    bodyText: 'hello world',
  };
}

test('concurrent deliveries of one key store one copy; the others are duplicates', async () => {
  const accountId = await account(`same@${randomUUID().slice(0, 8)}.test`);
  const eventId = randomUUID();
  const outcomes = await Promise.all(
    Array.from({ length: 8 }, () =>
      deliverToMailbox(writerFor(pool), { eventId, recipient: 'Same@X.test', accountId, message: facts() }),
    ),
  );
  assert.deepEqual(outcomes.map((o) => o.kind).sort(), ['delivered', ...Array(7).fill('duplicate')]);
  const stored = await pool.query('SELECT 1 FROM messages WHERE received_event_id = $1', [eventId]);
  assert.equal(stored.rowCount, 1);
});

test('concurrent deliveries to one mailbox get distinct ascending UIDs and MODSEQs', async () => {
  const accountId = await account(`busy@${randomUUID().slice(0, 8)}.test`);
  const outcomes = await Promise.all(
    Array.from({ length: 30 }, () =>
      deliverToMailbox(writerFor(pool), {
        eventId: randomUUID(),
        recipient: 'busy@x.test',
        accountId,
        message: facts(),
      }),
    ),
  );
  const delivered = outcomes.flatMap((o) => (o.kind === 'delivered' ? [o] : []));
  assert.deepEqual(
    delivered.map((o) => o.uid).sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  const byUid = [...delivered].sort((a, b) => a.uid - b.uid);
  for (let i = 1; i < byUid.length; i++) assert.ok(byUid[i]!.modseq > byUid[i - 1]!.modseq);
  const used = await pool.query<{ used_bytes: string }>('SELECT used_bytes FROM accounts WHERE id = $1', [
    accountId,
  ]);
  assert.equal(used.rows[0]!.used_bytes, String(30 * 100));
});

test('an over-quota rejection is final for its key, even after space is freed', async () => {
  const accountId = await account(`tight@${randomUUID().slice(0, 8)}.test`, 150);
  const eventId = randomUUID();
  const first = await deliverToMailbox(writerFor(pool), {
    eventId,
    recipient: 'tight@x.test',
    accountId,
    message: facts(200),
  });
  assert.equal(first.kind, 'over-quota');
  await pool.query('UPDATE accounts SET quota_bytes = NULL WHERE id = $1', [accountId]);
  const again = await deliverToMailbox(writerFor(pool), {
    eventId,
    recipient: 'tight@x.test',
    accountId,
    message: facts(200),
  });
  assert.equal(again.kind, 'duplicate');
  const rejected = await pool.query('SELECT reason FROM delivery_rejections WHERE event_id = $1', [eventId]);
  assert.deepEqual(rejected.rows, [{ reason: 'over-quota' }]);
});

test('a deleted account is reported, and its rejection is recorded once, by the filing itself', async () => {
  const eventId = randomUUID();
  const gone = await deliverToMailbox(writerFor(pool), {
    eventId,
    recipient: 'gone@x.test',
    accountId: '999999',
    message: facts(),
  });
  assert.equal(gone.kind, 'unknown-user');
  const recorded = await pool.query(
    'SELECT recipient, account_id, reason FROM delivery_rejections WHERE event_id = $1',
    [eventId],
  );
  assert.deepEqual(recorded.rows, [{ recipient: 'gone@x.test', account_id: null, reason: 'unknown-user' }]);
  const rejection = { eventId, recipient: 'Gone@X.test', reason: 'unknown-user' as const };
  assert.equal(await recordRejection(pool, rejection), false);
});

test('a batch files in the order given, in one transaction, exactly as one by one would', async () => {
  const d = `${randomUUID().slice(0, 8)}.test`;
  const roomy = await account(`roomy@${d}`);
  const tight = await account(`tight@other-${d}`, 250);
  const [a, b, c, e] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const outcomes = await deliverManyToMailboxes(writerFor(pool), [
    { eventId: a, recipient: `Roomy@${d}`, accountId: roomy, message: facts() },
    { eventId: a, recipient: `tight@${d}`, accountId: tight, message: facts(200) },
    // The same key twice in one batch (a redelivered event fetched with the original): one copy.
    { eventId: a, recipient: `roomy@${d}`, accountId: roomy, message: facts() },
    { eventId: b, recipient: `roomy@${d}`, accountId: roomy, message: facts() },
    { eventId: b, recipient: `tight@${d}`, accountId: tight, message: facts(200) },
    { eventId: c, recipient: `roomy@${d}`, accountId: roomy, message: facts(), mailboxName: 'Junk' },
    { eventId: e, recipient: `gone@${d}`, accountId: '999999', message: facts() },
    { eventId: e, recipient: `roomy@${d}`, accountId: roomy, message: facts() },
  ]);
  assert.deepEqual(
    outcomes.map((o) => (o.kind === 'delivered' ? `${o.kind} uid ${o.uid}` : o.kind)),
    [
      'delivered uid 1',
      'delivered uid 1',
      'duplicate',
      'delivered uid 2',
      'over-quota',
      'delivered uid 1',
      'unknown-user',
      'delivered uid 3',
    ],
  );
  const modseqs = outcomes.flatMap((o) =>
    o.kind === 'delivered' && o.accountId === roomy && o.uid > 0 ? [[o.mailboxId, o.modseq]] : [],
  );
  const inbox = modseqs.filter(([m]) => m === modseqs[0]![0]).map(([, modseq]) => Number(modseq));
  assert.deepEqual(
    inbox,
    [...inbox].sort((x, y) => x - y),
    'MODSEQ rises in the order given',
  );
  assert.equal(new Set(inbox).size, inbox.length);

  const oneTransaction = await pool.query<{ n: string }>(
    `SELECT count(DISTINCT xmin::text) AS n FROM deliveries WHERE event_id = ANY($1::text[])`,
    [[a, b, c, e]],
  );
  assert.equal(oneTransaction.rows[0]!.n, '1', 'every delivery of the batch in one transaction');
  const used = await pool.query<{ id: string; used_bytes: string }>(
    'SELECT id, used_bytes FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id',
    [[roomy, tight]],
  );
  assert.deepEqual(
    used.rows.map((r) => [r.id, Number(r.used_bytes)]),
    [
      [roomy, 400],
      [tight, 200],
    ],
  );
  const rejected = await pool.query(
    'SELECT event_id, reason FROM delivery_rejections WHERE event_id = ANY($1::text[])',
    [[a, b, c, e]],
  );
  assert.deepEqual(
    rejected.rows.sort((x, y) => String(x.reason).localeCompare(String(y.reason))),
    [
      { event_id: b, reason: 'over-quota' },
      // Recorded by the filing itself (no step after it may be needed: it can carry the bus offset).
      { event_id: e, reason: 'unknown-user' },
    ],
  );

  const again = await deliverManyToMailboxes(writerFor(pool), [
    { eventId: a, recipient: `roomy@${d}`, accountId: roomy, message: facts() },
    { eventId: b, recipient: `tight@${d}`, accountId: tight, message: facts(200) },
  ]);
  assert.deepEqual(
    again.map((o) => o.kind),
    ['duplicate', 'duplicate'],
    'a redelivered batch changes nothing',
  );
});

test('a batch that fails midway files nothing and commits no offset; filed again, each copy is filed exactly once with its offset', async () => {
  const d = `${randomUUID().slice(0, 8)}.test`;
  const first = await account(`first@${d}`);
  const second = await account(`second@other-${d}`, 10_000);
  // The bus's tables and bus.commit_offset, as the PostgreSQL-table bus creates them on first use.
  const bus = createPostgresBus({ connectionString: db.url });
  const topic = `mail.accepted.${randomUUID()}`;
  await bus.ensureTopics([{ name: topic, partitions: 1 }]);
  await bus.close();
  const consumed = { group: 'mda', topic, partition: 0, nextOffset: '3' };
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const batch = [
    { eventId: a, recipient: `first@${d}`, accountId: first, message: facts() },
    { eventId: b, recipient: `second@other-${d}`, accountId: second, message: facts(200) },
    // The same idempotency key twice in the batch (a redelivered event fetched with the original).
    { eventId: a, recipient: `first@${d}`, accountId: first, message: facts() },
    { eventId: c, recipient: `first@${d}`, accountId: first, message: facts(), flags: ['\\Seen'] },
  ];
  // The last copy fails after the UIDs were allocated, the quotas charged and the messages inserted
  // (a NULL flag breaks mailbox_messages' check): nothing of the batch may remain, offset included.
  const broken = batch.map((delivery, i) =>
    i === 3 ? { ...delivery, flags: [null as unknown as string] } : delivery,
  );
  await assert.rejects(deliverManyToMailboxes(writerFor(pool), broken, consumed), /flags_no_nulls/);
  const state = async () => {
    const counts = await pool.query<{ deliveries: string; messages: string; offsets: string }>(
      `SELECT (SELECT count(*) FROM deliveries WHERE event_id = ANY($1::text[])) AS deliveries,
              (SELECT count(*) FROM messages WHERE account_id = ANY($2::bigint[])) AS messages,
              (SELECT count(*) FROM bus.committed_offsets WHERE topic = $3) AS offsets`,
      [[a, b, c], [first, second], topic],
    );
    const accounts = await pool.query<{ used_bytes: string }>(
      'SELECT used_bytes FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[first, second]],
    );
    const boxes = await pool.query<{ uidnext: string; highestmodseq: string }>(
      'SELECT uidnext, highestmodseq FROM mailboxes WHERE account_id = ANY($1::bigint[]) ORDER BY id',
      [[first, second]],
    );
    return { ...counts.rows[0], used: accounts.rows.map((r) => Number(r.used_bytes)), boxes: boxes.rows };
  };
  assert.deepEqual(await state(), {
    deliveries: '0',
    messages: '0',
    offsets: '0',
    used: [0, 0],
    boxes: [],
  });

  const outcomes = await deliverManyToMailboxes(writerFor(pool), batch, consumed);
  assert.deepEqual(
    outcomes.map((o) => (o.kind === 'delivered' ? `${o.kind} uid ${o.uid} modseq ${o.modseq}` : o.kind)),
    ['delivered uid 1 modseq 2', 'delivered uid 1 modseq 2', 'duplicate', 'delivered uid 2 modseq 3'],
  );
  const offset = await pool.query<{ next_offset: string; xmin: string }>(
    'SELECT next_offset, xmin::text FROM bus.committed_offsets WHERE group_id = $1 AND topic = $2',
    ['mda', topic],
  );
  assert.equal(offset.rows[0]!.next_offset, '3');
  const filedIn = await pool.query<{ xmin: string }>(
    'SELECT DISTINCT xmin::text FROM deliveries WHERE event_id = ANY($1::text[])',
    [[a, b, c]],
  );
  assert.deepEqual(
    filedIn.rows.map((r) => r.xmin),
    [offset.rows[0]!.xmin],
    'the copies and the offset in one transaction',
  );

  // Redelivered (a crash before the commit was seen): nothing changes.
  const again = await deliverManyToMailboxes(writerFor(pool), batch, consumed);
  assert.deepEqual(
    again.map((o) => o.kind),
    ['duplicate', 'duplicate', 'duplicate', 'duplicate'],
  );
  const after = await state();
  assert.deepEqual(
    { deliveries: after.deliveries, messages: after.messages, offsets: after.offsets, used: after.used },
    { deliveries: '3', messages: '3', offsets: '1', used: [200, 200] },
  );
  const seen = await pool.query<{ flags: string[] }>(
    `SELECT mm.flags FROM mailbox_messages mm WHERE mm.idempotency_key LIKE $1`,
    [`${c}/%`],
  );
  assert.deepEqual(seen.rows, [{ flags: ['\\Seen'] }]);
});
