import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { freshDatabase } from '@correo/testkit';
import { MailboxChangeFeed, MemoryBus, createMemoryNotifier } from '@correo/notify';
import { deliverToMailbox } from '../src/delivery.js';
import type { DeliveryOutcome, MessageFacts } from '../src/delivery.js';
import type { MailboxWriter } from '../src/mailbox-writer.js';
import { migrate } from '../src/migrate.js';
import { createPool, type Pool } from '../src/pool.js';

/**
 * A writer over `pool` whose changes go to an in-process bus of its own (`feed`, to subscribe to),
 * for tests that write without a Redis: the store's write paths cannot be called without a feed.
 */
export function writerFor(pool: Pool, bus = new MemoryBus()): MailboxWriter & { feed: MailboxChangeFeed } {
  const feed = new MailboxChangeFeed(createMemoryNotifier({ bus }), {
    warn: (fields, message) => assert.fail(`${message}: ${JSON.stringify(fields)}`),
  });
  return { pool, changes: feed, feed };
}

/** A new tenant with one domain and one account `user@<random>.test`. */
export async function createAccount(pool: Pool): Promise<{ accountId: string; address: string }> {
  const domain = `${randomUUID().slice(0, 8)}.test`;
  const address = `user@${domain}`;
  const tenant = await pool.query<{ id: string }>('INSERT INTO tenants (name) VALUES ($1) RETURNING id', [
    randomUUID(),
  ]);
  const d = await pool.query<{ id: string }>(
    'INSERT INTO domains (tenant_id, name) VALUES ($1, $2) RETURNING id',
    [tenant.rows[0]!.id, domain],
  );
  const a = await pool.query<{ id: string }>(
    `INSERT INTO accounts (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'user', $3) RETURNING id`,
    [tenant.rows[0]!.id, d.rows[0]!.id, address],
  );
  return { accountId: a.rows[0]!.id, address };
}

/** The facts of a message stored under `blobKey`, with no headers worth reading. */
export function messageFacts(blobKey: string, size: number): MessageFacts {
  return {
    blobKey,
    sha256: blobKey,
    size,
    internalDate: new Date(),
    subject: null,
    from: null,
    to: null,
    cc: null,
    messageId: null,
    date: null,
    inReplyTo: null,
    envelope: null,
    bodystructure: null,
    sentDay: null,
    headerText: '',
    bodyText: '',
    sortKeys: {
      subject: '',
      from: '',
      to: '',
      cc: '',
      displayFrom: '',
      displayTo: '',
      messageId: null,
      references: [],
    },
  };
}

/** Delivers a message stored under `blobKey` (a random key by default) to INBOX; it must be filed. */
export async function deliverMessage(
  pool: Pool,
  to: { accountId: string; address: string },
  size = 100,
  blobKey = randomUUID().replaceAll('-', '').padEnd(64, '0'),
): Promise<Extract<DeliveryOutcome, { kind: 'delivered' }>> {
  const outcome = await deliverToMailbox(writerFor(pool), {
    eventId: randomUUID(),
    recipient: to.address,
    accountId: to.accountId,
    message: messageFacts(blobKey, size),
  });
  assert.equal(outcome.kind, 'delivered');
  return outcome as Extract<DeliveryOutcome, { kind: 'delivered' }>;
}

/**
 * A fresh, migrated database for the calling test file: opened by a `before` hook, dropped by an
 * `after` hook. Read `pool` inside tests (it is set once the hook has run).
 */
export function migratedDatabase(): { readonly pool: Pool } {
  const state: { pool?: Pool } = {};
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    const db = await freshDatabase();
    drop = () => db.drop();
    await migrate(db.url);
    state.pool = createPool(db.url);
  });
  after(async () => {
    await state.pool?.end();
    await drop?.();
  });
  return {
    get pool() {
      if (!state.pool) throw new Error('the database is opened by a before hook: use it inside tests');
      return state.pool;
    },
  };
}
