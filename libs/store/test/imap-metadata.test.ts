import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import {
  createImapMailbox,
  createPool,
  deleteImapMailbox,
  migrate,
  readImapMetadata,
  renameImapMailbox,
  writeImapMetadata,
} from '../src/index.js';
import type { Pool } from '../src/index.js';
import { writerFor } from './fixtures.js';

/** METADATA storage (migration 0240) on real PostgreSQL: scoping, DEPTH, limits under concurrency, lifecycle. */
describe('IMAP METADATA in the store', () => {
  let db: FreshDatabase;
  let pool: Pool;
  const accounts: string[] = [];
  const limits = { maxEntries: 10, maxSize: 50 };

  before(async () => {
    db = await freshDatabase();
    await migrate(db.url);
    pool = createPool(db.url);
    for (const [tenant, domain] of [
      ['t1', 'one.test'],
      ['t2', 'two.test'],
    ] as const) {
      const t = await pool.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ($1) RETURNING id`, [
        tenant,
      ]);
      const d = await pool.query<{ id: string }>(
        `INSERT INTO domains (tenant_id, name) VALUES ($1, $2) RETURNING id`,
        [t.rows[0]!.id, domain],
      );
      const a = await pool.query<{ id: string }>(
        `INSERT INTO accounts (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'u', $3) RETURNING id`,
        [t.rows[0]!.id, d.rows[0]!.id, `u@${domain}`],
      );
      accounts.push(a.rows[0]!.id);
    }
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  test('server and mailbox entries per account; another account, even given the mailbox id, reads nothing', async () => {
    const [mine, theirs] = accounts as [string, string];
    const box = await createImapMailbox(pool, mine, 'Box');
    assert.equal(box.kind, 'created');
    const boxId = box.kind === 'created' ? box.id : '';
    const value = (text: string) => Buffer.from(text);
    assert.deepEqual(
      await writeImapMetadata(
        writerFor(pool),
        mine,
        null,
        [{ entry: '/shared/comment', value: value('server') }],
        limits,
      ),
      { kind: 'set' },
    );
    await writeImapMetadata(
      writerFor(pool),
      mine,
      boxId,
      [
        { entry: '/private/a', value: value('a') },
        { entry: '/private/a/b', value: value('ab') },
        { entry: '/private/a/b/c', value: value('abc') },
      ],
      limits,
    );
    const names = async (depth: '0' | '1' | 'infinity') =>
      (await readImapMetadata(pool, mine, boxId, ['/private/a'], depth)).map((e) => e.entry);
    assert.deepEqual(await names('0'), ['/private/a']);
    assert.deepEqual(await names('1'), ['/private/a', '/private/a/b']);
    assert.deepEqual(await names('infinity'), ['/private/a', '/private/a/b', '/private/a/b/c']);
    assert.deepEqual(
      (await readImapMetadata(pool, mine, null, ['/shared/comment'], '0')).map((e) => e.value.toString()),
      ['server'],
    );
    // The other account (another tenant) sees nothing, and cannot write to my mailbox by its id.
    assert.deepEqual(await readImapMetadata(pool, theirs, null, ['/shared'], 'infinity'), []);
    assert.deepEqual(await readImapMetadata(pool, theirs, boxId, ['/private'], 'infinity'), []);
    assert.deepEqual(
      await writeImapMetadata(
        writerFor(pool),
        theirs,
        boxId,
        [{ entry: '/private/x', value: value('x') }],
        limits,
      ),
      { kind: 'nonexistent' },
    );
  });

  test('the entry limit holds when sessions write at once; values over the size are refused', async () => {
    const [mine] = accounts as [string];
    await pool.query('DELETE FROM imap_metadata WHERE account_id = $1', [mine]);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        writeImapMetadata(
          writerFor(pool),
          mine,
          null,
          [
            { entry: `/private/p${i}/1`, value: Buffer.from('1') },
            { entry: `/private/p${i}/2`, value: Buffer.from('2') },
          ],
          limits,
        ),
      ),
    );
    assert.equal(outcomes.filter((o) => o.kind === 'set').length, 5);
    assert.equal(outcomes.filter((o) => o.kind === 'toomany').length, 3);
    const { rows } = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM imap_metadata WHERE account_id = $1',
      [mine],
    );
    assert.equal(rows[0]!.n, '10');
    assert.deepEqual(
      await writeImapMetadata(
        writerFor(pool),
        mine,
        null,
        [{ entry: '/private/big', value: Buffer.alloc(51) }],
        limits,
      ),
      { kind: 'maxsize', maxSize: 50 },
    );
  });

  test('entries follow RENAME and go with DELETE', async () => {
    const [mine] = accounts as [string];
    await pool.query('DELETE FROM imap_metadata WHERE account_id = $1', [mine]);
    const created = await createImapMailbox(pool, mine, 'Old');
    const id = created.kind === 'created' ? created.id : '';
    await writeImapMetadata(
      writerFor(pool),
      mine,
      id,
      [{ entry: '/shared/c', value: Buffer.from('kept') }],
      limits,
    );
    assert.equal(await renameImapMailbox(pool, mine, 'Old', 'New'), 'renamed');
    assert.equal((await readImapMetadata(pool, mine, id, ['/shared/c'], '0'))[0]?.value.toString(), 'kept');
    assert.equal(await deleteImapMailbox(pool, mine, 'New'), 'deleted');
    const { rows } = await pool.query('SELECT 1 FROM imap_metadata WHERE mailbox_id = $1', [id]);
    assert.equal(rows.length, 0);
  });
});
