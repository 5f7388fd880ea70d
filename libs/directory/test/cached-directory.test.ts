import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCachedDirectory, createPostgresDirectory, createProvisioning } from '../src/index.js';
import type { CachedDirectory, Provisioning } from '../src/index.js';
import { eventually } from '@correo/testkit';
import { useMigratedDatabase } from './database.js';

const db = useMigratedDatabase();

describe('cached directory', () => {
  let admin: Provisioning;
  let cached: CachedDirectory | undefined;

  before(async () => {
    admin = createProvisioning(db.pool());
    const tenant = await admin.createTenant({ name: 'cache' });
    await admin.createDomain({ tenantId: tenant.id, name: 'cache.test', verified: true });
  });
  // A TTL far longer than the test: only the change notifications can make it forget.
  const listeningDirectory = async () => {
    await cached?.close();
    const directory = createCachedDirectory(createPostgresDirectory(db.pool()), db.pool(), {
      ttlMs: 3_600_000,
      maxEntries: 100,
    });
    await directory.ready();
    cached = directory;
    return directory;
  };
  after(async () => {
    await cached?.close();
  });

  test('keeps answers the database no longer gives until a directory change notifies', async () => {
    const account = await admin.createAccount({ address: 'kept@cache.test', password: 'kept-password' });
    // Listening starts after that commit, so its notification cannot arrive later and drop the cache.
    const directory = await listeningDirectory();
    const first = await directory.resolveRecipient('kept@cache.test');
    assert.equal(first.kind, 'deliver');
    assert.equal(await directory.isLocalDomain('cache.test'), true);

    // Removed without firing triggers (as if the notification were lost): the cache still answers.
    const client = await db.pool().connect();
    try {
      await client.query("SET session_replication_role = 'replica'");
      await client.query('DELETE FROM accounts WHERE id = $1', [account.id]);
      await client.query("SET session_replication_role = 'origin'");
    } finally {
      client.release();
    }
    assert.deepEqual(await directory.resolveRecipient('kept@cache.test'), first, 'served from the cache');
    const uncached = createPostgresDirectory(db.pool());
    assert.equal((await uncached.resolveRecipient('kept@cache.test')).kind, 'unknown-user');

    // Any change to the directory (here another account) drops every cached answer.
    await admin.createAccount({ address: 'other@cache.test', password: 'other-password' });
    await eventually('the cache forgets the removed account', async () => {
      return (await directory.resolveRecipient('kept@cache.test')).kind === 'unknown-user';
    });
  });

  test('a new account, an alias change and a disabled account are seen once their change notifies', async () => {
    const directory = await listeningDirectory();
    assert.equal((await directory.resolveRecipient('late@cache.test')).kind, 'unknown-user');
    const late = await admin.createAccount({ address: 'late@cache.test', password: 'late-password' });
    await eventually('the new account is delivered to', async () => {
      return (await directory.resolveRecipient('late@cache.test')).kind === 'deliver';
    });

    await admin.createAlias({ source: 'team@cache.test', targets: ['late@cache.test'] });
    await eventually('the alias delivers', async () => {
      const answer = await directory.resolveRecipient('team@cache.test');
      return answer.kind === 'deliver' && answer.accounts.some((a) => a.accountId === late.id);
    });

    await admin.updateAccount(late.id, { disabled: true });
    await eventually('the disabled account is no longer delivered to', async () => {
      return (await directory.resolveRecipient('late@cache.test')).kind !== 'deliver';
    });
  });

  test('logins are never cached', async () => {
    const account = await admin.createAccount({ address: 'login@cache.test', password: 'first-password' });
    const directory = await listeningDirectory();
    assert.ok(await directory.authenticate('login@cache.test', 'first-password'));
    await admin.updateAccount(account.id, { password: 'second-password' });
    assert.equal(await directory.authenticate('login@cache.test', 'first-password'), null);
  });
});
