import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createPostgresDirectory } from '@correo/directory';
import { fetchClient, useAdminApi } from './api-under-test.js';
import type { ApiClient } from './api-under-test.js';

const api = useAdminApi();

describe('a domain is pending until its owner proves control of the name (fetch over HTTP, DNS on loopback)', () => {
  const run = randomBytes(3).toString('hex');
  const claimed = `claimed-${run}.test`;
  let http: ApiClient;
  let tenantA: string;
  let tokenA: string;
  let tokenB: string;

  before(async () => {
    http = fetchClient(api);
    tenantA = (await http.call('POST', '/v1/tenants', { body: { name: `victim-${run}` } })).body.id;
    const tenantB = (await http.call('POST', '/v1/tenants', { body: { name: `squatter-${run}` } })).body.id;
    tokenA = (await http.call('POST', '/v1/tokens', { body: { name: 'a', tenantId: tenantA } })).body.secret;
    tokenB = (await http.call('POST', '/v1/tokens', { body: { name: 'b', tenantId: tenantB } })).body.secret;
  });

  test('a tenant registers a pending domain that receives nothing, then verifies it by its TXT record', async () => {
    const created = await http.call('POST', '/v1/domains', { token: tokenA, body: { name: claimed } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'pending');
    assert.equal(created.body.verifiedAt, null);
    const record = created.body.verification;
    assert.equal(record.name, `_correo-verify.${claimed}`);
    assert.equal(record.type, 'TXT');
    assert.match(record.value, /^correo-verify=[0-9a-f]{32}$/);

    const directory = createPostgresDirectory(api().pool);
    await http.call('POST', '/v1/accounts', { token: tokenA, body: { address: `yo@${claimed}` } });
    assert.equal(await directory.isLocalDomain(claimed), false);
    assert.deepEqual(await directory.resolveRecipient(`yo@${claimed}`), { kind: 'not-local' });

    // No record yet, then a record with the wrong token: 422, still pending.
    const early = await http.call('POST', `/v1/domains/${created.body.id}/verify`, { token: tokenA });
    assert.equal(early.status, 422, JSON.stringify(early.body));
    assert.match(early.body.error.message, /_correo-verify\./);
    api().dns.set(record.name, { TXT: ['correo-verify=00000000000000000000000000000000'] });
    const wrong = await http.call('POST', `/v1/domains/${created.body.id}/verify`, { token: tokenA });
    assert.equal(wrong.status, 422);
    assert.equal(
      (await http.call('GET', `/v1/domains/${created.body.id}`, { token: tokenA })).body.status,
      'pending',
    );

    // A tenant may not skip the record or register a domain as verified.
    const skip = await http.call('POST', `/v1/domains/${created.body.id}/verify`, {
      token: tokenA,
      body: { skipDns: true },
    });
    assert.equal(skip.status, 403);
    const selfVerified = await http.call('POST', '/v1/domains', {
      token: tokenA,
      body: { name: `other-${run}.test`, verified: true },
    });
    assert.equal(selfVerified.status, 403);

    api().dns.set(record.name, { TXT: ['v=spf1 -all', record.value] });
    const verified = await http.call('POST', `/v1/domains/${created.body.id}/verify`, { token: tokenA });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.equal(verified.body.status, 'verified');
    assert.equal(verified.body.verification, null);
    assert.ok(api().dns.queries.includes(`TXT ${record.name}`));
    assert.equal(await directory.isLocalDomain(claimed), true);
    assert.equal((await directory.resolveRecipient(`yo@${claimed}`)).kind, 'deliver');
  });

  test('another tenant asking for a held name gets a neutral 422 that does not say who holds it', async () => {
    const taken = await http.call('POST', '/v1/domains', { token: tokenB, body: { name: claimed } });
    assert.equal(taken.status, 422, JSON.stringify(taken.body));
    assert.equal(taken.body.error.code, 'unprocessable');
    assert.doesNotMatch(taken.body.error.message, /already|registered|tenant|victim/i);
    const unheld = await http.call('POST', '/v1/domains', {
      token: tokenB,
      body: { name: `free-${run}.test` },
    });
    assert.equal(unheld.status, 201);
    // The holder itself, and the operator, are told plainly.
    assert.equal(
      (await http.call('POST', '/v1/domains', { token: tokenA, body: { name: claimed } })).status,
      409,
    );
    assert.equal(
      (await http.call('POST', '/v1/domains', { body: { name: claimed, tenantId: tenantA } })).status,
      409,
    );
  });

  test('the operator may register a domain verified, or verify a pending one without DNS', async () => {
    const direct = await http.call('POST', '/v1/domains', {
      body: { name: `operator-${run}.test`, tenantId: tenantA, verified: true },
    });
    assert.equal(direct.status, 201);
    assert.equal(direct.body.status, 'verified');

    const pending = await http.call('POST', '/v1/domains', {
      token: tokenA,
      body: { name: `later-${run}.test` },
    });
    assert.equal(pending.body.status, 'pending');
    const vouched = await http.call('POST', `/v1/domains/${pending.body.id}/verify`, {
      body: { skipDns: true },
    });
    assert.equal(vouched.status, 200);
    assert.equal(vouched.body.status, 'verified');
  });

  test('ALLOW_UNVERIFIED_DOMAINS (the directory option) makes pending domains local for test setups', async () => {
    const pending = await http.call('POST', '/v1/domains', {
      token: tokenA,
      body: { name: `lab-${run}.test` },
    });
    assert.equal(pending.body.status, 'pending');
    assert.equal(await createPostgresDirectory(api().pool).isLocalDomain(`lab-${run}.test`), false);
    const lab = createPostgresDirectory(api().pool, { allowUnverifiedDomains: true });
    assert.equal(await lab.isLocalDomain(`lab-${run}.test`), true);
  });
});

describe('send-as grants over HTTP', () => {
  const run = randomBytes(3).toString('hex');
  let http: ApiClient;

  test("a tenant grants its account a domain of its own, never another tenant's", async () => {
    http = fetchClient(api);
    const tenant = (await http.call('POST', '/v1/tenants', { body: { name: `grants-${run}` } })).body.id;
    const other = (await http.call('POST', '/v1/tenants', { body: { name: `grants-other-${run}` } })).body.id;
    const token = (await http.call('POST', '/v1/tokens', { body: { name: 'g', tenantId: tenant } })).body
      .secret;
    for (const [name, owner] of [
      [`mine-${run}.test`, tenant],
      [`shared-${run}.test`, tenant],
      [`theirs-${run}.test`, other],
    ] as const) {
      await http.call('POST', '/v1/domains', { body: { name, tenantId: owner, verified: true } });
    }
    const account = (
      await http.call('POST', '/v1/accounts', { token, body: { address: `yo@mine-${run}.test` } })
    ).body;

    const grant = await http.call('POST', `/v1/accounts/${account.id}/send-as`, {
      token,
      body: { domain: `shared-${run}.test` },
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    assert.equal(grant.body.domain, `shared-${run}.test`);
    const theirs = await http.call('POST', `/v1/accounts/${account.id}/send-as`, {
      token,
      body: { domain: `theirs-${run}.test` },
    });
    assert.equal(theirs.status, 404);

    const directory = createPostgresDirectory(api().pool);
    const ref = { accountId: account.id, tenantId: tenant, address: account.address };
    assert.equal(await directory.maySendAs(ref, `boletin@shared-${run}.test`), true);
    assert.equal(await directory.maySendAs(ref, `ceo@theirs-${run}.test`), false);

    const listed = await http.call('GET', `/v1/accounts/${account.id}/send-as`, { token });
    assert.deepEqual(
      listed.body.items.map((g: { domain: string }) => g.domain),
      [`shared-${run}.test`],
    );
    const revoked = await http.call('DELETE', `/v1/accounts/${account.id}/send-as/${grant.body.id}`, {
      token,
    });
    assert.equal(revoked.status, 204);
    assert.equal(await directory.maySendAs(ref, `boletin@shared-${run}.test`), false);
  });
});
