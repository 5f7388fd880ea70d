import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  createPool,
  defaultMigrationsDir,
  migrate,
  MigrationChecksumError,
  readMigrationFiles,
  StoreHealth,
} from '../src/index.js';

/** An empty database the suite may migrate and must drop. */
export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

// The tables 0001_initial creates; later migrations may add more.
const initialTables = [
  'accounts',
  'alias_targets',
  'aliases',
  'api_tokens',
  'deliveries',
  'dkim_keys',
  'domains',
  'expunged',
  'mailbox_messages',
  'mailboxes',
  'messages',
  'schema_migrations',
  'sieve_scripts',
  'tenants',
];

function assertHasInitialTables(tables: string[]): void {
  const missing = initialTables.filter((t) => !tables.includes(t));
  assert.deepEqual(missing, [], `tables missing after migrate: ${missing.join(', ')}`);
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function publicTables(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    return rows.map((r) => r.table_name);
  });
}

async function recordedMigrations(url: string) {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
      'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
    );
    return rows;
  });
}

/** Runs `body`, expecting PostgreSQL to refuse it with `sqlstate` (e.g. 23505 unique_violation). */
async function assertRefused(sqlstate: string, body: () => Promise<unknown>): Promise<void> {
  await assert.rejects(body, (error: { code?: string }) => {
    assert.equal(error.code, sqlstate);
    return true;
  });
}

/**
 * The metadata store's contract: every PostgreSQL the project runs on (the real server, the
 * embedded one) must pass it unchanged.
 */
export function storeContract(name: string, makeDatabaseUrl: () => Promise<ScratchDatabase>): void {
  describe(`store contract [${name}]`, () => {
    const databases: ScratchDatabase[] = [];
    const scratch = async () => {
      const db = await makeDatabaseUrl();
      databases.push(db);
      return db.url;
    };
    after(async () => {
      await Promise.all(databases.map((db) => db.drop()));
    });

    test('migrate on an empty database creates every table and records every migration', async () => {
      const url = await scratch();
      const files = await readMigrationFiles();

      const result = await migrate(url);

      assert.deepEqual(
        result.applied,
        files.map(({ version, name }) => ({ version, name })),
      );
      assertHasInitialTables(await publicTables(url));
      const recorded = await recordedMigrations(url);
      assert.deepEqual(
        recorded.map(({ version, name, checksum }) => ({ version, name, checksum })),
        files.map(({ version, name, checksum }) => ({ version, name, checksum })),
      );
    });

    test('migrate twice is a no-op', async () => {
      const url = await scratch();
      await migrate(url);
      const before = await recordedMigrations(url);
      const tablesBefore = await publicTables(url);

      const second = await migrate(url);

      assert.deepEqual(second.applied, []);
      assert.deepEqual(await recordedMigrations(url), before);
      assert.deepEqual(await publicTables(url), tablesBefore);
    });

    test('five concurrent migrate() calls all succeed and apply each migration once', async () => {
      const url = await scratch();
      const files = await readMigrationFiles();

      const results = await Promise.all(Array.from({ length: 5 }, () => migrate(url)));

      const appliedVersions = results.flatMap((r) => r.applied.map((m) => m.version)).sort((a, b) => a - b);
      assert.deepEqual(
        appliedVersions,
        files.map((f) => f.version),
      );
      assert.equal((await recordedMigrations(url)).length, files.length);
      assertHasInitialTables(await publicTables(url));
    });

    describe('with a copy of the migrations', () => {
      let dir: string;
      before(async () => {
        dir = await mkdtemp(join(tmpdir(), 'correo-migrations-'));
        await cp(defaultMigrationsDir, dir, { recursive: true });
      });
      after(async () => {
        await rm(dir, { recursive: true, force: true });
      });

      test('an applied migration whose file changed fails clearly and changes nothing', async () => {
        const url = await scratch();
        await migrate(url, { migrationsDir: dir });
        const before = await recordedMigrations(url);
        await appendFile(join(dir, '0001_initial.sql'), '\n-- edited after it was applied\n');
        await writeFile(join(dir, '9999_later.sql'), 'CREATE TABLE never_created (id int);\n');

        await assert.rejects(migrate(url, { migrationsDir: dir }), (error: Error) => {
          assert.ok(error instanceof MigrationChecksumError);
          assert.equal(error.version, 1);
          assert.match(
            error.message,
            /0001_initial was applied with checksum [0-9a-f]{64} but the file now has/,
          );
          return true;
        });
        assert.deepEqual(await recordedMigrations(url), before);
        assert.ok(!(await publicTables(url)).includes('never_created'), 'no later migration ran');
      });

      test('a failing migration rolls back entirely and is not recorded', async () => {
        const url = await scratch();
        const failing = await mkdtemp(join(tmpdir(), 'correo-migrations-'));
        try {
          await cp(defaultMigrationsDir, failing, { recursive: true });
          await writeFile(
            join(failing, '9998_broken.sql'),
            'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n',
          );

          const shipped = await readMigrationFiles();

          await assert.rejects(migrate(url, { migrationsDir: failing }), /migration 9998_broken failed/);

          const tables = await publicTables(url);
          assertHasInitialTables(tables);
          assert.ok(!tables.includes('half_done'), 'the failed migration was rolled back');
          assert.deepEqual(
            (await recordedMigrations(url)).map((m) => m.version),
            shipped.map((m) => m.version),
            'the migrations before it stay applied, it is not recorded',
          );
        } finally {
          await rm(failing, { recursive: true, force: true });
        }
      });
    });

    describe('schema constraints', () => {
      let url: string;
      let client: pg.Client;
      let ids: { tenant: string; domain: string; account: string; mailbox: string; message: string };

      before(async () => {
        url = await scratch();
        await migrate(url);
        client = new pg.Client({ connectionString: url });
        await client.connect();
        const one = async (sql: string, params: unknown[]) =>
          (await client.query<{ id: string }>(sql, params)).rows[0]!.id;
        const tenant = await one('INSERT INTO tenants (name) VALUES ($1) RETURNING id', ['miemail']);
        const domain = await one('INSERT INTO domains (tenant_id, name) VALUES ($1, $2) RETURNING id', [
          tenant,
          'miemail.test',
        ]);
        const account = await one(
          `INSERT INTO accounts (tenant_id, domain_id, local_part, address, password_hash)
           VALUES ($1, $2, 'yo', 'yo@miemail.test', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA') RETURNING id`,
          [tenant, domain],
        );
        const mailbox = await one(
          `INSERT INTO mailboxes (account_id, name, special_use) VALUES ($1, 'INBOX', NULL) RETURNING id`,
          [account],
        );
        const message = await one(
          `INSERT INTO messages (account_id, blob_key, size, sha256, received_event_id, header_subject)
           VALUES ($1, 'sha256/aa', 42, $2, 'evt-1', 'hola') RETURNING id`,
          [account, 'a'.repeat(64)],
        );
        ids = { tenant, domain, account, mailbox, message };
      });
      after(async () => {
        await client?.end();
      });

      const placeInMailbox = (uid: number, idempotencyKey: string | null) =>
        client.query(
          `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq, flags, idempotency_key)
           VALUES ($1, $2, $3, $4, $3, ARRAY['\\Seen'], $5)`,
          [ids.account, ids.mailbox, uid, ids.message, idempotencyKey],
        );

      test('a duplicate idempotency key is rejected, so a redelivered event cannot store twice', async () => {
        await placeInMailbox(1, `evt-1/yo@miemail.test/${ids.mailbox}`);
        await assertRefused('23505', () => placeInMailbox(2, `evt-1/yo@miemail.test/${ids.mailbox}`));
        // APPEND and COPY carry no key, and many of them coexist.
        await placeInMailbox(3, null);
        await placeInMailbox(4, null);
        const { rows } = await client.query(
          'SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 ORDER BY uid',
          [ids.mailbox],
        );
        assert.deepEqual(
          rows.map((r) => Number(r.uid)),
          [1, 3, 4],
        );
      });

      test('a delivery record is unique per (event, recipient, mailbox)', async () => {
        const deliver = () =>
          client.query(
            `INSERT INTO deliveries (event_id, recipient, account_id, mailbox_id) VALUES ('evt-9', 'yo@miemail.test', $1, $2)`,
            [ids.account, ids.mailbox],
          );
        await deliver();
        await assertRefused('23505', deliver);
      });

      test('a UID is unique within its mailbox but may repeat in another', async () => {
        await placeInMailbox(10, null);
        await assertRefused('23505', () => placeInMailbox(10, null));
        const other = await client.query<{ id: string }>(
          `INSERT INTO mailboxes (account_id, name, special_use) VALUES ($1, 'Sent', '\\Sent') RETURNING id`,
          [ids.account],
        );
        await client.query(
          `INSERT INTO mailbox_messages (account_id, mailbox_id, uid, message_id, modseq) VALUES ($1, $2, 10, $3, 1)`,
          [ids.account, other.rows[0]!.id, ids.message],
        );
        await assertRefused('23514', () => placeInMailbox(0, null));
      });

      test('an account address is unique regardless of case', async () => {
        await assertRefused('23505', () =>
          client.query(
            `INSERT INTO accounts (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'YO', 'YO@MiEmail.test')`,
            [ids.tenant, ids.domain],
          ),
        );
      });

      test('an account cannot join another tenant’s domain', async () => {
        const other = await client.query<{ id: string }>(
          `INSERT INTO tenants (name) VALUES ('suemail') RETURNING id`,
        );
        await assertRefused('23503', () =>
          client.query(
            `INSERT INTO accounts (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'el', 'el@miemail.test')`,
            [other.rows[0]!.id, ids.domain],
          ),
        );
      });

      test('obvious invariants are checked', async () => {
        // Domains are stored as lowercase A-labels only.
        await assertRefused('23514', () =>
          client.query(`INSERT INTO domains (tenant_id, name) VALUES ($1, 'Bücher.test')`, [ids.tenant]),
        );
        await client.query(`INSERT INTO domains (tenant_id, name) VALUES ($1, 'xn--bcher-kva.test')`, [
          ids.tenant,
        ]);
        // Passwords are argon2id hashes, never plain text.
        await assertRefused('23514', () =>
          client.query(
            `INSERT INTO accounts (tenant_id, domain_id, local_part, address, password_hash)
             VALUES ($1, $2, 'tu', 'tu@miemail.test', 'hunter2')`,
            [ids.tenant, ids.domain],
          ),
        );
        // A catch-all alias is accepted, a bare word is not.
        await client.query(
          `INSERT INTO aliases (tenant_id, domain_id, source) VALUES ($1, $2, '@miemail.test')`,
          [ids.tenant, ids.domain],
        );
        await assertRefused('23514', () =>
          client.query(`INSERT INTO aliases (tenant_id, domain_id, source) VALUES ($1, $2, 'postmaster')`, [
            ids.tenant,
            ids.domain,
          ]),
        );
        // Quota usage never goes negative.
        await assertRefused('23514', () =>
          client.query('UPDATE accounts SET used_bytes = -1 WHERE id = $1', [ids.account]),
        );
      });

      test('the checks of names, addresses, hashes and UIDVALIDITY hold on insert and on update (0500)', async () => {
        // Checked by triggers that run only when these columns are set (the counter updates of every
        // APPEND, STORE and EXPUNGE do not pay for them); refused as the constraints were, by name.
        const refused = async (constraint: string, sql: string, values: unknown[]) =>
          assert.rejects(
            () => client.query(sql, values),
            (error: { code?: string; constraint?: string }) => {
              assert.equal(error.code, '23514');
              assert.equal(error.constraint, constraint);
              return true;
            },
          );
        const account = 'UPDATE accounts SET %s WHERE id = $1';
        await refused('accounts_local_part_valid', account.replace('%s', `local_part = ''`), [ids.account]);
        await refused(
          'accounts_address_matches_local_part',
          account.replace('%s', `address = 'el@miemail.test'`),
          [ids.account],
        );
        await refused('accounts_password_hash_is_argon2id', account.replace('%s', `password_hash = 'x'`), [
          ids.account,
        ]);
        await refused('accounts_quota_non_negative', account.replace('%s', 'quota_bytes = -1'), [
          ids.account,
        ]);
        await refused(
          'accounts_local_part_valid',
          `INSERT INTO accounts (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'a@b', 'a@b@miemail.test')`,
          [ids.tenant, ids.domain],
        );
        const mailbox = await client.query<{ id: string }>(
          `INSERT INTO mailboxes (account_id, name) VALUES ($1, 'Checked') RETURNING id`,
          [ids.account],
        );
        const mailboxId = mailbox.rows[0]!.id;
        await refused('mailboxes_name_valid', `UPDATE mailboxes SET name = 'a//b' WHERE id = $1`, [
          mailboxId,
        ]);
        await refused(
          'mailboxes_name_valid',
          `INSERT INTO mailboxes (account_id, name) VALUES ($1, '/Top')`,
          [ids.account],
        );
        await refused(
          'mailboxes_special_use_known',
          `UPDATE mailboxes SET special_use = '\\Spam' WHERE id = $1`,
          [mailboxId],
        );
        await refused(
          'mailboxes_uidvalidity_is_nz_number',
          'UPDATE mailboxes SET uidvalidity = 0 WHERE id = $1',
          [mailboxId],
        );
        // The counters keep their own constraints.
        await refused(
          'mailboxes_highestmodseq_positive',
          'UPDATE mailboxes SET highestmodseq = 0 WHERE id = $1',
          [mailboxId],
        );
        // What is valid still goes in, and an update of other columns is not refused.
        await client.query(
          `UPDATE mailboxes SET name = 'Checked/Sub', special_use = '\\Archive' WHERE id = $1`,
          [mailboxId],
        );
        await client.query('UPDATE accounts SET used_bytes = used_bytes + 1 WHERE id = $1', [ids.account]);
      });

      test('deleting a tenant removes everything it owns', async () => {
        const tenant = await client.query<{ id: string }>(
          `INSERT INTO tenants (name) VALUES ('gone') RETURNING id`,
        );
        const tenantId = tenant.rows[0]!.id;
        const domain = await client.query<{ id: string }>(
          `INSERT INTO domains (tenant_id, name) VALUES ($1, 'gone.test') RETURNING id`,
          [tenantId],
        );
        await client.query(
          `INSERT INTO accounts (tenant_id, domain_id, local_part, address) VALUES ($1, $2, 'x', 'x@gone.test')`,
          [tenantId, domain.rows[0]!.id],
        );

        await client.query('DELETE FROM tenants WHERE id = $1', [tenantId]);

        const left = await client.query(`SELECT 1 FROM accounts WHERE address = 'x@gone.test'`);
        assert.equal(left.rowCount, 0);
      });

      test('StoreHealth.ping answers through a pool', async () => {
        const pool = createPool(url, { max: 1 });
        try {
          await StoreHealth.ping(pool);
        } finally {
          await pool.end();
        }
        const unreachable = createPool('postgres://nobody@127.0.0.1:1/none', { max: 1 });
        try {
          await assert.rejects(StoreHealth.ping(unreachable), /ECONNREFUSED/);
        } finally {
          await unreachable.end();
        }
      });
    });
  });
}
