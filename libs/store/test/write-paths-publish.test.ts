import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { MailboxChange } from '@correo/notify';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import * as store from '../src/index.js';
import type { MailboxWriter, Pool } from '../src/index.js';
import { createAccount, deliverMessage, messageFacts, writerFor } from './fixtures.js';

/**
 * Every export of the store whose first parameter is a MailboxWriter: the write paths. The table
 * below must name each of them (the compiler refuses a new one without its scenario), and each must
 * publish its committed change to a subscriber, so no caller has a publish to forget.
 */
type WritePath = {
  [K in keyof typeof store]: (typeof store)[K] extends (...args: infer A) => unknown
    ? A extends [infer First, ...unknown[]]
      ? [First] extends [MailboxWriter]
        ? K
        : never
      : never
    : never;
}[keyof typeof store];

interface Account {
  accountId: string;
  address: string;
  inbox: string;
}

/** Runs one write and says which changes it must have published, in order. */
type Scenario = (writer: MailboxWriter, account: Account) => Promise<MailboxChange[]>;

const scenarios: Record<WritePath, Scenario> = {
  async deliverToMailbox(writer, { accountId, address, inbox }) {
    const outcome = await store.deliverToMailbox(writer, {
      eventId: randomUUID(),
      recipient: address,
      accountId,
      message: messageFacts(randomKey(), 10),
    });
    assert.equal(outcome.kind, 'delivered');
    const { uid, modseq } = outcome as Extract<typeof outcome, { kind: 'delivered' }>;
    return [{ mailboxId: inbox, uid, modseq, kind: 'append' }];
  },

  async deliverManyToMailboxes(writer, { accountId, address }) {
    const eventId = randomUUID();
    const delivery = { eventId, recipient: address, accountId, message: messageFacts(randomKey(), 10) };
    const outcomes = await store.deliverManyToMailboxes(writer, [
      delivery,
      { ...delivery, mailboxName: 'Archive' },
      // The same key again in one batch: a duplicate, which changes nothing and announces nothing.
      delivery,
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['delivered', 'delivered', 'duplicate'],
    );
    return outcomes.flatMap((o) =>
      o.kind === 'delivered'
        ? [{ mailboxId: o.mailboxId, uid: o.uid, modseq: o.modseq, kind: 'append' as const }]
        : [],
    );
  },

  async appendImapMessages(writer, { accountId, inbox }) {
    const outcome = await store.appendImapMessages(writer, {
      accountId,
      mailboxId: inbox,
      messages: [
        { facts: messageFacts(randomKey(), 10), flags: [] },
        { facts: messageFacts(randomKey(), 10), flags: ['\\Seen'] },
      ],
    });
    assert.equal(outcome.kind, 'appended');
    const { uids, modseq } = outcome as Extract<typeof outcome, { kind: 'appended' }>;
    return [{ mailboxId: inbox, uid: uids[1]!, modseq, kind: 'append' }];
  },

  async storeImapFlags(writer, account) {
    const { uid } = await deliverMessage(writer.pool, account, 10);
    const request = {
      accountId: account.accountId,
      mailboxId: account.inbox,
      uids: [uid],
      operation: 'add' as const,
      flags: ['\\Flagged'],
    };
    const result = await store.storeImapFlags(writer, request);
    // The same flags again change nothing, so nothing is announced.
    assert.equal((await store.storeImapFlags(writer, request)).changed.length, 0);
    return [{ mailboxId: account.inbox, modseq: result.changed[0]!.modseq, kind: 'flags' }];
  },

  async copyImapMessages(writer, account) {
    const { uid } = await deliverMessage(writer.pool, account, 10);
    const created = await store.createImapMailbox(writer.pool, account.accountId, `Copies ${randomKey()}`);
    assert.equal(created.kind, 'created');
    const target = created.kind === 'created' ? created.id : '';
    const outcome = await store.copyImapMessages(writer, {
      accountId: account.accountId,
      fromMailboxId: account.inbox,
      toMailboxId: target,
      uids: [uid],
    });
    assert.equal(outcome.kind, 'copied');
    const { modseq } = outcome as Extract<typeof outcome, { kind: 'copied' }>;
    return [{ mailboxId: target, modseq: modseq!, kind: 'copy' }];
  },

  async writeImapMetadata(writer, account) {
    const limits = { maxEntries: 10, maxSize: 100 };
    const set = [
      { entry: '/shared/comment', value: Buffer.from('x') },
      { entry: '/private/a', value: null },
    ];
    assert.deepEqual(await store.writeImapMetadata(writer, account.accountId, account.inbox, set, limits), {
      kind: 'set',
    });
    await store.writeImapMetadata(
      writer,
      account.accountId,
      null,
      [{ entry: '/private/s', value: null }],
      limits,
    );
    // Refused: nothing written, nothing announced.
    const big = [{ entry: '/shared/big', value: Buffer.alloc(101) }];
    assert.equal(
      (await store.writeImapMetadata(writer, account.accountId, null, big, limits)).kind,
      'maxsize',
    );
    return [
      { mailboxId: account.inbox, modseq: 0, kind: 'metadata', entries: ['/shared/comment', '/private/a'] },
      { mailboxId: '', modseq: 0, kind: 'metadata', entries: ['/private/s'] },
    ];
  },

  async expungeMessages(writer, account) {
    const [a, b] = [
      await deliverMessage(writer.pool, account, 10),
      await deliverMessage(writer.pool, account, 10),
    ];
    const first = await store.expungeMessages(writer, {
      accountId: account.accountId,
      mailboxId: account.inbox,
      uids: [a.uid],
    });
    const moved = await store.expungeMessages(writer, {
      accountId: account.accountId,
      mailboxId: account.inbox,
      uids: [b.uid],
      kind: 'move',
    });
    // Already gone: nothing changes, nothing is announced.
    const again = await store.expungeMessages(writer, {
      accountId: account.accountId,
      mailboxId: account.inbox,
      uids: [a.uid],
    });
    assert.equal(again.modseq, null);
    return [
      { mailboxId: account.inbox, modseq: first.modseq!, kind: 'expunge' },
      { mailboxId: account.inbox, modseq: moved.modseq!, kind: 'move' },
    ];
  },
};

let db: FreshDatabase;
let pool: Pool;

before(async () => {
  db = await freshDatabase();
  await store.migrate(db.url);
  pool = store.createPool(db.url);
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

function randomKey(): string {
  return randomUUID().replaceAll('-', '').padEnd(64, '0');
}

/** A new account with its INBOX (created by a first delivery, whose own change nobody hears). */
async function account(): Promise<Account> {
  const created = await createAccount(pool);
  const { mailboxId } = await deliverMessage(pool, created, 10);
  return { ...created, inbox: mailboxId };
}

for (const [name, scenario] of Object.entries(scenarios)) {
  test(`${name} publishes its committed change to the account's subscribers`, async () => {
    const target = await account();
    const writer = writerFor(pool);
    const heard: { change: MailboxChange | null; visible: Promise<number> }[] = [];
    const unsubscribe = await writer.feed.subscribe(target.accountId, (change) => {
      // What a listening session does: re-read. The change must already be there to read.
      heard.push({ change, visible: highestModseq(change?.mailboxId) });
    });
    try {
      const expected = await scenario(writer, target);
      // A marker published after the write arrives after everything the write published.
      const marker: MailboxChange = { mailboxId: 'marker', modseq: 0, kind: 'mailboxes' };
      await writer.feed.publish(target.accountId, marker);
      await until(() => heard.some((h) => h.change?.mailboxId === 'marker'));
      const changes = heard.map((h) => h.change).filter((c) => c?.mailboxId !== 'marker');
      assert.deepEqual(changes, expected);
      for (const [i, { visible }] of heard.slice(0, expected.length).entries()) {
        assert.ok((await visible) >= expected[i]!.modseq, `change ${i} was readable when it arrived`);
      }
    } finally {
      await unsubscribe();
    }
  });
}

async function highestModseq(mailboxId: string | undefined): Promise<number> {
  // '' is the server (METADATA-SERVER entries), which has no MODSEQ.
  if (mailboxId === undefined || mailboxId === 'marker' || mailboxId === '') return 0;
  const { rows } = await pool.query<{ highestmodseq: string }>(
    'SELECT highestmodseq FROM mailboxes WHERE id = $1',
    [mailboxId],
  );
  return Number(rows[0]?.highestmodseq ?? 0);
}

/** Waits for in-process deliveries (a few event-loop turns), never for a fixed time. */
async function until(done: () => boolean): Promise<void> {
  for (let turns = 0; !done(); turns++) {
    assert.ok(turns < 10_000, 'the change never arrived');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
