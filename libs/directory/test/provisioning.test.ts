import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProvisioning, DEFAULT_MAILBOXES, DirectoryError, verifyApiToken } from '../src/index.js';
import type { Provisioning, Tenant } from '../src/index.js';
import { useMigratedDatabase } from './database.js';

const db = useMigratedDatabase();

async function rejects(
  promise: Promise<unknown>,
  code: DirectoryError['code'],
  field?: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DirectoryError, `expected a DirectoryError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.equal(error.field, field);
    return true;
  });
}

describe('provisioning', () => {
  let operator: Provisioning;
  let acme: Tenant;
  let globex: Tenant;
  let asAcme: Provisioning;

  before(async () => {
    operator = createProvisioning(db.pool());
    acme = await operator.createTenant({ name: 'acme' });
    globex = await operator.createTenant({ name: 'globex' });
    asAcme = createProvisioning(db.pool(), { tenantId: acme.id });
  });

  test('tenants: create, get, rename, list, unique names', async () => {
    const t = await operator.createTenant({ name: 'initech' });
    assert.equal((await operator.getTenant(t.id)).name, 'initech');
    assert.equal((await operator.updateTenant(t.id, { name: 'initrode' })).name, 'initrode');
    await rejects(operator.createTenant({ name: 'acme' }), 'conflict', 'name');
    await rejects(operator.createTenant({ name: '  ' }), 'invalid', 'name');
    await operator.deleteTenant(t.id);
    await rejects(operator.getTenant(t.id), 'not-found');
    await rejects(operator.getTenant('not-a-number'), 'not-found');
  });

  test('domains: IDN stored as lowercase punycode, unique, validated', async () => {
    const d = await operator.createDomain({ tenantId: acme.id, name: 'Ünïcode-Mail.TEST' });
    assert.equal(d.name, 'xn--ncode-mail-68a8m.test');
    assert.equal(d.unicodeName, 'ünïcode-mail.test');
    assert.equal((await operator.getDomainByName('ÜNÏCODE-mail.test')).id, d.id);
    await rejects(
      operator.createDomain({ tenantId: globex.id, name: 'xn--ncode-mail-68a8m.test' }),
      'conflict',
    );
    await rejects(operator.createDomain({ tenantId: acme.id, name: 'bad_domain.test' }), 'invalid', 'name');
    await rejects(operator.createDomain({ tenantId: acme.id, name: 'ex%41mple.test' }), 'invalid', 'name');
    await rejects(operator.createDomain({ name: 'x.test' }), 'invalid', 'tenantId');
    await rejects(operator.createDomain({ tenantId: '999999', name: 'x.test' }), 'not-found');
  });

  test('accounts: created with hashed password and the six default mailboxes', async () => {
    await operator.createDomain({ tenantId: acme.id, name: 'acme.test' });
    const account = await operator.createAccount({
      address: 'Wile.E@acme.test',
      password: 'beep-beep',
      quotaBytes: 1_000_000,
      displayName: 'Wile E.',
    });
    assert.equal(account.address, 'Wile.E@acme.test');
    assert.equal(account.tenantId, acme.id);
    assert.equal(account.quotaBytes, 1_000_000);
    assert.equal(account.hasPassword, true);
    const { rows: hashes } = await db
      .pool()
      .query('SELECT password_hash FROM accounts WHERE id = $1', [account.id]);
    assert.match(hashes[0].password_hash, /^\$argon2id\$/);
    const { rows } = await db
      .pool()
      .query(
        'SELECT name, special_use, uidvalidity, uidnext FROM mailboxes WHERE account_id = $1 ORDER BY id',
        [account.id],
      );
    assert.deepEqual(
      rows.map((r) => [r.name, r.special_use]),
      DEFAULT_MAILBOXES.map((m) => [m.name, m.specialUse]),
    );
    for (const row of rows) {
      assert.ok(Number(row.uidvalidity) > 0);
      assert.equal(row.uidnext, '1');
    }
    await rejects(
      operator.createAccount({ address: 'wile.e@ACME.test', password: 'x' }),
      'conflict',
      'address',
    );
    await rejects(operator.createAccount({ address: 'a@unknown.test', password: 'x' }), 'not-found');
    await rejects(operator.createAccount({ address: 'a..b@acme.test', password: 'x' }), 'invalid', 'address');
    await rejects(
      operator.createAccount({ address: 'q@acme.test', quotaBytes: -1 }),
      'invalid',
      'quotaBytes',
    );
  });

  test('accounts: update quota, disable, set password; no mailboxes left by a failed create', async () => {
    const account = await operator.createAccount({ address: 'roadrunner@acme.test' });
    assert.equal(account.hasPassword, false);
    const updated = await operator.updateAccount(account.id, {
      quotaBytes: null,
      disabled: true,
      displayName: 'RR',
    });
    assert.deepEqual([updated.quotaBytes, updated.disabled, updated.displayName], [null, true, 'RR']);
    assert.equal((await operator.setPassword(account.id, 'meep')).hasPassword, true);
    assert.equal((await operator.getAccountByAddress('ROADRUNNER@acme.test')).id, account.id);
    const before = await db.pool().query('SELECT count(*) FROM mailboxes');
    await rejects(operator.createAccount({ address: 'roadrunner@acme.test' }), 'conflict');
    const after = await db.pool().query('SELECT count(*) FROM mailboxes');
    assert.equal(after.rows[0].count, before.rows[0].count);
    await operator.deleteAccount(account.id);
    await rejects(operator.getAccount(account.id), 'not-found');
  });

  test('aliases: exact and catch-all, several targets normalised and deduplicated', async () => {
    const alias = await operator.createAlias({
      source: 'Sales@ACME.test',
      targets: ['wile.e@acme.test', 'WILE.E@acme.test', 'partner@bücher.test'],
    });
    assert.equal(alias.source, 'Sales@acme.test');
    assert.equal(alias.catchAll, false);
    assert.deepEqual(alias.targets, ['wile.e@acme.test', 'partner@xn--bcher-kva.test']);
    const catchAll = await operator.createAlias({ source: '@acme.test', targets: ['wile.e@acme.test'] });
    assert.equal(catchAll.catchAll, true);
    const updated = await operator.updateAlias(alias.id, { targets: ['x@y.test'] });
    assert.deepEqual(updated.targets, ['x@y.test']);
    await rejects(
      operator.createAlias({ source: 'sales@acme.test', targets: ['a@b.test'] }),
      'conflict',
      'source',
    );
    await rejects(
      operator.createAlias({ source: 'wile.e@acme.test', targets: ['a@b.test'] }),
      'conflict',
      'source',
    );
    await rejects(operator.createAlias({ source: 'x@acme.test', targets: [] }), 'invalid', 'targets');
    await rejects(
      operator.createAlias({ source: 'x@acme.test', targets: ['ok@b.test', 'bad'] }),
      'invalid',
      'targets[1]',
    );
    await rejects(operator.createAlias({ source: 'x@elsewhere.test', targets: ['a@b.test'] }), 'not-found');
    await rejects(operator.createAccount({ address: 'sales@acme.test' }), 'conflict', 'address');
    await operator.deleteAlias(catchAll.id);
    await rejects(operator.getAlias(catchAll.id), 'not-found');
  });

  test('pagination walks every row once with a cursor', async () => {
    await operator.createDomain({ tenantId: globex.id, name: 'page.test' });
    for (let i = 0; i < 7; i++) await operator.createAccount({ address: `p${i}@page.test` });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await operator.listAccounts(
        { limit: 3, ...(cursor ? { cursor } : {}) },
        { tenantId: globex.id },
      );
      seen.push(...page.items.map((a) => a.address));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen,
      [0, 1, 2, 3, 4, 5, 6].map((i) => `p${i}@page.test`),
    );
    await rejects(operator.listAccounts({ limit: 0 }), 'invalid', 'limit');
    await rejects(operator.listAccounts({ limit: 501 }), 'invalid', 'limit');
    await rejects(operator.listAccounts({ cursor: 'x' }), 'invalid', 'cursor');
  });

  test("a tenant scope sees and changes only its own tenant's objects", async () => {
    const other = await operator.createDomain({ tenantId: globex.id, name: 'globex.test' });
    const otherAccount = await operator.createAccount({ address: 'hank@globex.test' });
    const otherAlias = await operator.createAlias({
      source: 'info@globex.test',
      targets: ['hank@globex.test'],
    });

    assert.deepEqual(
      (await asAcme.listTenants()).items.map((t) => t.id),
      [acme.id],
    );
    await rejects(asAcme.getTenant(globex.id), 'not-found');
    await rejects(asAcme.createTenant({ name: 'mine' }), 'forbidden');
    await rejects(asAcme.deleteTenant(acme.id), 'forbidden');

    await rejects(asAcme.getDomain(other.id), 'not-found');
    await rejects(asAcme.deleteDomain(other.id), 'not-found');
    await rejects(asAcme.createDomain({ tenantId: globex.id, name: 'sneaky.test' }), 'not-found');
    assert.equal((await asAcme.createDomain({ name: 'acme2.test' })).tenantId, acme.id);
    assert.ok((await asAcme.listDomains()).items.every((d) => d.tenantId === acme.id));

    await rejects(asAcme.getAccount(otherAccount.id), 'not-found');
    await rejects(asAcme.updateAccount(otherAccount.id, { disabled: true }), 'not-found');
    await rejects(asAcme.setPassword(otherAccount.id, 'hijack'), 'not-found');
    await rejects(asAcme.deleteAccount(otherAccount.id), 'not-found');
    await rejects(asAcme.getAccountByAddress('hank@globex.test'), 'not-found');
    await rejects(asAcme.createAccount({ address: 'spy@globex.test' }), 'not-found');
    assert.ok((await asAcme.listAccounts()).items.every((a) => a.tenantId === acme.id));

    await rejects(asAcme.getAlias(otherAlias.id), 'not-found');
    await rejects(asAcme.updateAlias(otherAlias.id, { targets: ['me@acme.test'] }), 'not-found');
    await rejects(asAcme.deleteAlias(otherAlias.id), 'not-found');
    await rejects(asAcme.createAlias({ source: '@globex.test', targets: ['me@acme.test'] }), 'not-found');

    assert.equal((await operator.getAccount(otherAccount.id)).disabled, false);
    assert.deepEqual((await operator.getAlias(otherAlias.id)).targets, ['hank@globex.test']);
  });

  test('API tokens: stored hashed, verified, scoped, revocable, expiring', async () => {
    const { token, secret } = await asAcme.createApiToken({ name: 'ci' });
    assert.equal(token.tenantId, acme.id);
    assert.match(secret, /^correo_[A-Za-z0-9_-]{43}$/);
    const { rows } = await db.pool().query('SELECT token_hash FROM api_tokens WHERE id = $1', [token.id]);
    assert.notEqual(rows[0].token_hash, secret);
    assert.deepEqual(await verifyApiToken(db.pool(), secret), {
      tokenId: token.id,
      tenantId: acme.id,
      expiresAt: null,
    });
    assert.equal(await verifyApiToken(db.pool(), `${secret}x`), null);
    assert.equal(await verifyApiToken(db.pool(), 'garbage'), null);

    await rejects(asAcme.createApiToken({ name: 'root', tenantId: null }), 'forbidden');
    await rejects(asAcme.createApiToken({ name: 'theirs', tenantId: globex.id }), 'not-found');
    const globexToken = await operator.createApiToken({ name: 'g', tenantId: globex.id });
    await rejects(asAcme.revokeApiToken(globexToken.token.id), 'not-found');
    assert.ok((await asAcme.listApiTokens()).items.every((t) => t.tenantId === acme.id));

    const operatorToken = await operator.createApiToken({ name: 'ops', tenantId: null });
    assert.deepEqual(await verifyApiToken(db.pool(), operatorToken.secret), {
      tokenId: operatorToken.token.id,
      tenantId: null,
      expiresAt: null,
    });

    await asAcme.revokeApiToken(token.id);
    assert.equal(await verifyApiToken(db.pool(), secret), null);
    await rejects(asAcme.getApiToken(token.id), 'not-found');

    const expiring = await operator.createApiToken({
      name: 'short',
      tenantId: acme.id,
      expiresAt: new Date(Date.now() + 60_000),
    });
    await db
      .pool()
      .query("UPDATE api_tokens SET expires_at = created_at + interval '1 microsecond' WHERE id = $1", [
        expiring.token.id,
      ]);
    assert.equal(await verifyApiToken(db.pool(), expiring.secret), null);
    await rejects(operator.createApiToken({ name: 'past', expiresAt: new Date(0) }), 'invalid', 'expiresAt');
  });
});
