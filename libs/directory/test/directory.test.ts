import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresDirectory, createProvisioning } from '../src/index.js';
import type { AccountRef, Directory, Provisioning } from '../src/index.js';
import { useMigratedDatabase } from './database.js';

const db = useMigratedDatabase();

describe('postgres directory', () => {
  let admin: Provisioning;
  let directory: Directory;
  let yo: AccountRef;
  let tu: AccountRef;

  before(async () => {
    admin = createProvisioning(db.pool());
    directory = createPostgresDirectory(db.pool(), { maxAliasDepth: 5 });
    const tenant = await admin.createTenant({ name: 'miemail' });
    await admin.createDomain({ tenantId: tenant.id, name: 'miemail.test', verified: true });
    await admin.createDomain({ tenantId: tenant.id, name: 'Bücher.test', verified: true });
    await admin.createDomain({ tenantId: tenant.id, name: 'catch.test', verified: true });
    const a = await admin.createAccount({
      address: 'Yo@miemail.test',
      password: 'yo-password',
      displayName: 'Yo',
    });
    const b = await admin.createAccount({ address: 'tu@miemail.test', password: 'tu-password' });
    await admin.createAccount({ address: 'ella@bücher.test', password: 'ella-password' });
    await admin.createAccount({ address: 'off@miemail.test', password: 'off-password', disabled: true });
    await admin.createAccount({ address: 'boss@catch.test', password: 'boss-password' });
    yo = { accountId: a.id, tenantId: a.tenantId, address: 'Yo@miemail.test' };
    tu = { accountId: b.id, tenantId: b.tenantId, address: 'tu@miemail.test' };

    await admin.createAlias({
      source: 'sales@miemail.test',
      targets: ['yo@miemail.test', 'TU@miemail.test'],
    });
    await admin.createAlias({
      source: 'fwd@miemail.test',
      targets: ['someone@suemail.test', 'yo@miemail.test'],
    });
    await admin.createAlias({
      source: 'team@miemail.test',
      targets: ['sales@miemail.test', 'yo@miemail.test'],
    });
    await admin.createAlias({ source: 'ping@miemail.test', targets: ['pong@miemail.test'] });
    await admin.createAlias({ source: 'pong@miemail.test', targets: ['ping@miemail.test'] });
    await admin.createAlias({ source: 'self@miemail.test', targets: ['self@miemail.test'] });
    await admin.createAlias({ source: 'a1@miemail.test', targets: ['a2@miemail.test'] });
    for (let i = 2; i < 8; i++) {
      await admin.createAlias({ source: `a${i}@miemail.test`, targets: [`a${i + 1}@miemail.test`] });
    }
    await admin.createAlias({ source: 'a8@miemail.test', targets: ['yo@miemail.test'] });
    await admin.createAlias({ source: 'to-nobody@miemail.test', targets: ['ghost@miemail.test'] });
    await admin.createAlias({ source: '@catch.test', targets: ['boss@catch.test'] });
    await admin.createAlias({ source: 'info@catch.test', targets: ['yo@miemail.test'] });
  });

  test('isLocalDomain knows our domains, in any case and in Unicode or punycode', async () => {
    assert.equal(await directory.isLocalDomain('miemail.test'), true);
    assert.equal(await directory.isLocalDomain('MIEMAIL.TEST'), true);
    assert.equal(await directory.isLocalDomain('bücher.test'), true);
    assert.equal(await directory.isLocalDomain('xn--bcher-kva.test'), true);
    assert.equal(await directory.isLocalDomain('suemail.test'), false);
    assert.equal(await directory.isLocalDomain('not a domain'), false);
  });

  test('an exact account, matched case-insensitively', async () => {
    const result = await directory.resolveRecipient('YO@MieMail.test');
    assert.deepEqual(result, { kind: 'deliver', accounts: [yo], external: [] });
  });

  test('an IDN recipient reaches the account of the punycode domain', async () => {
    const result = await directory.resolveRecipient('ella@BÜCHER.test');
    assert.equal(result.kind, 'deliver');
    assert.equal(result.kind === 'deliver' && result.accounts[0]?.address, 'ella@xn--bcher-kva.test');
  });

  test('a foreign domain is not-local; an unknown user of ours is unknown-user', async () => {
    assert.deepEqual(await directory.resolveRecipient('el@suemail.test'), { kind: 'not-local' });
    assert.deepEqual(await directory.resolveRecipient('nobody@miemail.test'), { kind: 'unknown-user' });
  });

  test('malformed addresses are unknown-user, never relayable', async () => {
    for (const bad of [
      '',
      'no-at-sign',
      '@miemail.test',
      'a..b@miemail.test',
      'x@[127.0.0.1]',
      '@a,@b:user@c',
    ]) {
      assert.deepEqual(await directory.resolveRecipient(bad), { kind: 'unknown-user' }, bad);
    }
  });

  test('an alias expands to several local accounts', async () => {
    const result = await directory.resolveRecipient('Sales@miemail.test');
    assert.equal(result.kind, 'deliver');
    if (result.kind !== 'deliver') return;
    assert.deepEqual(new Set(result.accounts.map((a) => a.accountId)), new Set([yo.accountId, tu.accountId]));
    assert.deepEqual(result.external, []);
  });

  test('an alias may forward to an external address as well', async () => {
    assert.deepEqual(await directory.resolveRecipient('fwd@miemail.test'), {
      kind: 'deliver',
      accounts: [yo],
      external: ['someone@suemail.test'],
    });
  });

  test('chains are followed and targets reached twice are delivered once', async () => {
    const result = await directory.resolveRecipient('team@miemail.test');
    assert.equal(result.kind, 'deliver');
    if (result.kind !== 'deliver') return;
    assert.equal(result.accounts.length, 2);
    assert.deepEqual(new Set(result.accounts.map((a) => a.accountId)), new Set([yo.accountId, tu.accountId]));
  });

  test('alias loops are detected with their chain', async () => {
    assert.deepEqual(await directory.resolveRecipient('ping@miemail.test'), {
      kind: 'loop',
      chain: ['ping@miemail.test', 'pong@miemail.test', 'ping@miemail.test'],
    });
    assert.deepEqual(await directory.resolveRecipient('self@miemail.test'), {
      kind: 'loop',
      chain: ['self@miemail.test', 'self@miemail.test'],
    });
  });

  test('a chain longer than the depth limit is treated as a loop', async () => {
    const result = await directory.resolveRecipient('a1@miemail.test');
    assert.equal(result.kind, 'loop');
    assert.equal(result.kind === 'loop' && result.chain.length, 6);
  });

  test('user+tag reaches user and keeps the tag', async () => {
    assert.deepEqual(await directory.resolveRecipient('yo+lists@miemail.test'), {
      kind: 'deliver',
      accounts: [yo],
      external: [],
      subaddress: 'lists',
    });
    const viaAlias = await directory.resolveRecipient('sales+q3@miemail.test');
    assert.equal(viaAlias.kind === 'deliver' && viaAlias.subaddress, 'q3');
    assert.equal(viaAlias.kind === 'deliver' && viaAlias.accounts.length, 2);
    assert.deepEqual(await directory.resolveRecipient('nobody+x@miemail.test'), { kind: 'unknown-user' });
  });

  test('the catch-all takes what nobody else takes, after exact aliases and accounts', async () => {
    const boss = await directory.resolveRecipient('anything@catch.test');
    assert.equal(boss.kind === 'deliver' && boss.accounts[0]?.address, 'boss@catch.test');
    const info = await directory.resolveRecipient('info@catch.test');
    assert.deepEqual(info, { kind: 'deliver', accounts: [yo], external: [] });
    const tagged = await directory.resolveRecipient('boss+x@catch.test');
    assert.equal(tagged.kind === 'deliver' && tagged.subaddress, 'x');
  });

  test('an alias to nobody is unknown-user; a disabled account receives nothing', async () => {
    assert.deepEqual(await directory.resolveRecipient('to-nobody@miemail.test'), { kind: 'unknown-user' });
    assert.deepEqual(await directory.resolveRecipient('off@miemail.test'), { kind: 'unknown-user' });
  });

  test('authenticate accepts the right password in any address case, refuses the rest', async () => {
    assert.deepEqual(await directory.authenticate('yo@MIEMAIL.test', 'yo-password'), yo);
    assert.equal(await directory.authenticate('yo@miemail.test', 'wrong'), null);
    assert.equal(await directory.authenticate('ghost@miemail.test', 'yo-password'), null);
    assert.equal(await directory.authenticate('not an address', 'x'), null);
    assert.equal(await directory.authenticate('off@miemail.test', 'off-password'), null, 'disabled');
  });

  test('loginKey names the account for every spelling that authenticate accepts', async () => {
    const fullWidth = (text: string) =>
      [...text].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    const spellings = [
      'yo@miemail.test',
      'YO@MIEMAIL.TEST',
      '"yo"@miemail.test',
      '"y\\o"@miemail.test',
      ' yo@miemail.test ',
      'yo@mie\u00admail.test',
      'yo@mie\u200bmail.test',
      `yo@${fullWidth('miemail.test')}`,
    ];
    for (const spelling of spellings) {
      assert.deepEqual(await directory.authenticate(spelling, 'yo-password'), yo, `${spelling} logs in`);
      assert.equal(await directory.loginKey(spelling), `account:${yo.accountId}`, spelling);
    }
    assert.equal(await directory.loginKey('"Ghost"@MIE\u00admail.test'), 'address:ghost@miemail.test');
    assert.equal(await directory.loginKey('not an address'), 'invalid');
  });

  test('maySendAs: own address and tags, aliases that deliver to the account, never catch-alls', async () => {
    assert.equal(await directory.maySendAs(yo, 'yo@miemail.test'), true);
    assert.equal(await directory.maySendAs(yo, 'yo+news@miemail.test'), true);
    assert.equal(await directory.maySendAs(yo, 'sales@miemail.test'), true);
    assert.equal(await directory.maySendAs(tu, 'team@miemail.test'), true);
    assert.equal(await directory.maySendAs(tu, 'fwd@miemail.test'), false);
    assert.equal(await directory.maySendAs(yo, 'tu@miemail.test'), false);
    assert.equal(await directory.maySendAs(yo, 'someone@suemail.test'), false);
    const boss = await directory.authenticate('boss@catch.test', 'boss-password');
    assert.ok(boss);
    assert.equal(await directory.maySendAs(boss, 'random@catch.test'), false);
    assert.equal(await directory.maySendAs(yo, 'not-an-address'), false);
  });
});
