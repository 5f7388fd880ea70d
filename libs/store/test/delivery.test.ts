import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
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

test('a deleted account is reported, and a rejection is recorded once', async () => {
  const eventId = randomUUID();
  const gone = await deliverToMailbox(writerFor(pool), {
    eventId,
    recipient: 'gone@x.test',
    accountId: '999999',
    message: facts(),
  });
  assert.equal(gone.kind, 'unknown-user');
  const rejection = { eventId, recipient: 'Gone@X.test', reason: 'unknown-user' as const };
  assert.equal(await recordRejection(pool, rejection), true);
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
  assert.deepEqual(rejected.rows, [{ event_id: b, reason: 'over-quota' }]);

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
