import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ApiClient, ApiResponse } from './api-under-test.js';

function expectError(response: ApiResponse, status: number, code: string, field?: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
  assert.ok(response.body.error.message.length > 0);
  if (field !== undefined) {
    const fields = (response.body.error.details ?? []).map((d: { field: string }) => d.field);
    assert.ok(fields.includes(field), `expected ${field} among ${JSON.stringify(fields)}`);
  }
}

/**
 * The API's behaviour, run once through fastify.inject and once over HTTP. Names are unique per run, as
 * both runs share one database.
 */
export function adminApiScenarios(transport: string, client: () => ApiClient): void {
  const run = randomBytes(3).toString('hex');
  const domainA = `a-${run}.test`;
  const domainB = `b-${run}.test`;

  describe(`admin-api over ${transport}`, () => {
    let api: ApiClient;
    let tenantA: string;
    let tenantB: string;
    let tokenA: string;
    let tokenB: string;

    before(async () => {
      api = client();
      const a = await api.call('POST', '/v1/tenants', { body: { name: `tenant-a-${run}` } });
      const b = await api.call('POST', '/v1/tenants', { body: { name: `tenant-b-${run}` } });
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      tenantA = a.body.id;
      tenantB = b.body.id;
      tokenA = (await api.call('POST', '/v1/tokens', { body: { name: 'a', tenantId: tenantA } })).body.secret;
      tokenB = (await api.call('POST', '/v1/tokens', { body: { name: 'b', tenantId: tenantB } })).body.secret;
      assert.equal(
        (await api.call('POST', '/v1/domains', { body: { name: domainA, tenantId: tenantA } })).status,
        201,
      );
      assert.equal(
        (await api.call('POST', '/v1/domains', { token: tokenB, body: { name: domainB } })).status,
        201,
      );
    });

    test('requests without a valid bearer token get 401 with a JSON error', async () => {
      for (const token of [null, 'wrong', `${'x'.repeat(40)}`, 'correo_forged']) {
        const response = await api.call('GET', '/v1/domains', { token });
        expectError(response, 401, 'unauthorized');
        assert.match(String(response.headers['www-authenticate']), /^Bearer/);
      }
    });

    test('accounts: create, read, set password, quota, disable, delete', async () => {
      const created = await api.call('POST', '/v1/accounts', {
        token: tokenA,
        body: { address: `Yo@${domainA.toUpperCase()}`, password: 'correct horse', quotaBytes: 5000 },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.address, `Yo@${domainA}`);
      assert.equal(created.body.tenantId, tenantA);
      assert.equal(created.body.quotaBytes, 5000);
      assert.equal(created.body.hasPassword, true);
      assert.equal('passwordHash' in created.body, false);
      const id = created.body.id;

      const fetched = await api.call('GET', `/v1/accounts/${id}`, { token: tokenA });
      assert.deepEqual(fetched.body, created.body);
      const byAddress = await api.call('GET', `/v1/accounts?address=${encodeURIComponent(`yo@${domainA}`)}`);
      assert.deepEqual(
        byAddress.body.items.map((a: { id: string }) => a.id),
        [id],
      );

      const patched = await api.call('PATCH', `/v1/accounts/${id}`, {
        token: tokenA,
        body: { quotaBytes: null, disabled: true, displayName: 'Yo Mismo' },
      });
      assert.equal(patched.status, 200);
      assert.deepEqual(
        [patched.body.quotaBytes, patched.body.disabled, patched.body.displayName],
        [null, true, 'Yo Mismo'],
      );

      const password = await api.call('PUT', `/v1/accounts/${id}/password`, {
        token: tokenA,
        body: { password: 'battery staple' },
      });
      assert.equal(password.status, 204);
      expectError(
        await api.call('PUT', `/v1/accounts/${id}/password`, { token: tokenA, body: { password: 'short' } }),
        400,
        'validation_failed',
        'password',
      );

      assert.equal((await api.call('DELETE', `/v1/accounts/${id}`, { token: tokenA })).status, 204);
      expectError(await api.call('GET', `/v1/accounts/${id}`, { token: tokenA }), 404, 'not_found');
    });

    test('validation errors name the field', async () => {
      expectError(
        await api.call('POST', '/v1/accounts', { token: tokenA, body: { password: 'long enough' } }),
        400,
        'validation_failed',
        'address',
      );
      expectError(
        await api.call('POST', '/v1/accounts', { token: tokenA, body: { address: `a..b@${domainA}` } }),
        400,
        'validation_failed',
        'address',
      );
      expectError(
        await api.call('POST', '/v1/accounts', {
          token: tokenA,
          body: { address: `x@${domainA}`, quota: 1 },
        }),
        400,
        'validation_failed',
        'quota',
      );
      expectError(
        await api.call('POST', '/v1/accounts', {
          token: tokenA,
          body: { address: `x@${domainA}`, quotaBytes: -5 },
        }),
        400,
        'validation_failed',
        'quotaBytes',
      );
      expectError(
        await api.call('POST', '/v1/aliases', {
          token: tokenA,
          body: { source: `list@${domainA}`, targets: ['ok@example.test', 'not an address'] },
        }),
        400,
        'validation_failed',
        'targets[1]',
      );
      expectError(
        await api.call('POST', '/v1/domains', { token: tokenA, body: { name: 'under_score.test' } }),
        400,
        'validation_failed',
        'name',
      );
      expectError(await api.call('GET', '/v1/domains?limit=9999'), 400, 'validation_failed', 'limit');
      expectError(await api.call('GET', '/v1/domains/abc'), 400, 'validation_failed', 'id');
    });

    test('conflicts are 409', async () => {
      const body = { address: `dup@${domainA}`, password: 'long enough' };
      assert.equal((await api.call('POST', '/v1/accounts', { token: tokenA, body })).status, 201);
      expectError(
        await api.call('POST', '/v1/accounts', { token: tokenA, body }),
        409,
        'conflict',
        'address',
      );
      expectError(
        await api.call('POST', '/v1/domains', { body: { name: domainA, tenantId: tenantB } }),
        409,
        'conflict',
      );
    });

    test('an IDN domain is stored as punycode, and its accounts too', async () => {
      const name = `Bücher-${run}.test`;
      const domain = await api.call('POST', '/v1/domains', { token: tokenA, body: { name } });
      assert.equal(domain.status, 201);
      assert.match(domain.body.name, /^xn--bcher-.*\.test$/);
      assert.equal(domain.body.unicodeName, name.toLowerCase());
      const account = await api.call('POST', '/v1/accounts', {
        token: tokenA,
        body: { address: `josé@${name}`, password: 'long enough' },
      });
      assert.equal(account.body.address, `josé@${domain.body.name}`);
    });

    test('aliases: exact and catch-all with several targets, updated and deleted', async () => {
      const alias = await api.call('POST', '/v1/aliases', {
        token: tokenA,
        body: { source: `sales@${domainA}`, targets: [`dup@${domainA}`, 'partner@elsewhere.test'] },
      });
      assert.equal(alias.status, 201, JSON.stringify(alias.body));
      assert.deepEqual(alias.body.targets, [`dup@${domainA}`, 'partner@elsewhere.test']);
      const catchAll = await api.call('POST', '/v1/aliases', {
        token: tokenA,
        body: { source: `@${domainA}`, targets: [`dup@${domainA}`] },
      });
      assert.equal(catchAll.body.catchAll, true);
      const updated = await api.call('PATCH', `/v1/aliases/${alias.body.id}`, {
        token: tokenA,
        body: { targets: ['only@elsewhere.test'] },
      });
      assert.deepEqual(updated.body.targets, ['only@elsewhere.test']);
      const listed = await api.call('GET', '/v1/aliases', { token: tokenA });
      assert.ok(listed.body.items.some((a: { id: string }) => a.id === catchAll.body.id));
      assert.equal(
        (await api.call('DELETE', `/v1/aliases/${catchAll.body.id}`, { token: tokenA })).status,
        204,
      );
      expectError(
        await api.call('GET', `/v1/aliases/${catchAll.body.id}`, { token: tokenA }),
        404,
        'not_found',
      );
    });

    test("tenant A's token can neither see nor change tenant B", async () => {
      const hank = await api.call('POST', '/v1/accounts', {
        token: tokenB,
        body: { address: `hank@${domainB}`, password: 'long enough' },
      });
      const aliasB = await api.call('POST', '/v1/aliases', {
        token: tokenB,
        body: { source: `info@${domainB}`, targets: [`hank@${domainB}`] },
      });
      const domainBId = hank.body.domainId;

      expectError(await api.call('GET', `/v1/tenants/${tenantB}`, { token: tokenA }), 404, 'not_found');
      expectError(await api.call('GET', `/v1/domains/${domainBId}`, { token: tokenA }), 404, 'not_found');
      expectError(await api.call('DELETE', `/v1/domains/${domainBId}`, { token: tokenA }), 404, 'not_found');
      expectError(await api.call('GET', `/v1/accounts/${hank.body.id}`, { token: tokenA }), 404, 'not_found');
      expectError(
        await api.call('PATCH', `/v1/accounts/${hank.body.id}`, { token: tokenA, body: { disabled: true } }),
        404,
        'not_found',
      );
      expectError(
        await api.call('PUT', `/v1/accounts/${hank.body.id}/password`, {
          token: tokenA,
          body: { password: 'hijacked!' },
        }),
        404,
        'not_found',
      );
      expectError(
        await api.call('DELETE', `/v1/accounts/${hank.body.id}`, { token: tokenA }),
        404,
        'not_found',
      );
      expectError(
        await api.call('GET', `/v1/aliases/${aliasB.body.id}`, { token: tokenA }),
        404,
        'not_found',
      );
      expectError(
        await api.call('POST', '/v1/accounts', { token: tokenA, body: { address: `spy@${domainB}` } }),
        404,
        'not_found',
      );
      expectError(
        await api.call('POST', '/v1/domains', {
          token: tokenA,
          body: { name: `x-${run}.test`, tenantId: tenantB },
        }),
        404,
        'not_found',
      );
      expectError(
        await api.call('POST', '/v1/tenants', { token: tokenA, body: { name: 'mine' } }),
        403,
        'forbidden',
      );
      expectError(
        await api.call('POST', '/v1/tokens', { token: tokenA, body: { name: 'root', tenantId: null } }),
        403,
        'forbidden',
      );

      for (const resource of ['tenants', 'domains', 'accounts', 'aliases', 'tokens']) {
        const listed = await api.call('GET', `/v1/${resource}?limit=500`, { token: tokenA });
        assert.equal(listed.status, 200);
        for (const item of listed.body.items) {
          assert.equal(
            resource === 'tenants' ? item.id : item.tenantId,
            tenantA,
            `${resource} leaked ${item.id}`,
          );
        }
      }
      const accountsByAddress = await api.call('GET', `/v1/accounts?address=hank@${domainB}`, {
        token: tokenA,
      });
      assert.deepEqual(accountsByAddress.body.items, []);

      const still = await api.call('GET', `/v1/accounts/${hank.body.id}`, { token: tokenB });
      assert.equal(still.body.disabled, false);
    });

    test('revoked tokens stop working at once', async () => {
      const created = await api.call('POST', '/v1/tokens', { token: tokenA, body: { name: 'temp' } });
      assert.equal(created.status, 201);
      assert.equal(created.body.token.tenantId, tenantA);
      assert.equal((await api.call('GET', '/v1/domains', { token: created.body.secret })).status, 200);
      assert.equal(
        (await api.call('DELETE', `/v1/tokens/${created.body.token.id}`, { token: tokenA })).status,
        204,
      );
      expectError(await api.call('GET', '/v1/domains', { token: created.body.secret }), 401, 'unauthorized');
    });

    test('pagination returns every item once, page by page', async () => {
      const domain = `page-${run}.test`;
      await api.call('POST', '/v1/domains', { token: tokenB, body: { name: domain } });
      const domainId = (await api.call('GET', '/v1/domains', { token: tokenB })).body.items.find(
        (d: { name: string }) => d.name === domain,
      ).id;
      for (let i = 0; i < 5; i++) {
        await api.call('POST', '/v1/accounts', { token: tokenB, body: { address: `u${i}@${domain}` } });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `domainId=${domainId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page: ApiResponse = await api.call('GET', `/v1/accounts?${query}`, { token: tokenB });
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((a: { address: string }) => a.address));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 3);
      assert.deepEqual(
        seen,
        [0, 1, 2, 3, 4].map((i) => `u${i}@${domain}`),
      );
    });

    test('ids and cursors past the bigint range are 400s naming the field, never 500s', async () => {
      const tooBig = '9223372036854775808'; // 2^63: one past the largest bigint
      const largest = '9223372036854775807';
      for (const path of [
        `/v1/accounts/${tooBig}`,
        `/v1/tenants/${tooBig}`,
        `/v1/aliases/${'9'.repeat(19)}`,
      ]) {
        expectError(await api.call('GET', path), 400, 'validation_failed', 'id');
      }
      expectError(await api.call('GET', `/v1/accounts?cursor=${tooBig}`), 400, 'validation_failed', 'cursor');
      expectError(
        await api.call('GET', `/v1/accounts?domainId=${tooBig}`),
        400,
        'validation_failed',
        'domainId',
      );
      expectError(
        await api.call('POST', '/v1/tokens', { body: { name: 'x', tenantId: tooBig } }),
        400,
        'validation_failed',
        'tenantId',
      );
      // The largest bigint is a valid id that names nothing, and a valid cursor past every row.
      expectError(await api.call('GET', `/v1/accounts/${largest}`), 404, 'not_found');
      const last = await api.call('GET', `/v1/accounts?cursor=${largest}`);
      assert.equal(last.status, 200);
      assert.deepEqual(last.body, { items: [], nextCursor: null });
    });

    test('a token with an expiry cannot mint one that outlives it', async () => {
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      const parent = await api.call('POST', '/v1/tokens', {
        token: tokenA,
        body: { name: 'expiring', expiresAt: inAnHour },
      });
      assert.equal(parent.status, 201);
      const expiring = parent.body.secret as string;
      // No expiry, or a later one: refused.
      expectError(
        await api.call('POST', '/v1/tokens', { token: expiring, body: { name: 'forever' } }),
        403,
        'forbidden',
      );
      expectError(
        await api.call('POST', '/v1/tokens', {
          token: expiring,
          body: { name: 'later', expiresAt: new Date(Date.now() + 7_200_000).toISOString() },
        }),
        403,
        'forbidden',
      );
      // An expiry within the parent's is fine.
      const child = await api.call('POST', '/v1/tokens', {
        token: expiring,
        body: { name: 'sooner', expiresAt: new Date(Date.now() + 1_800_000).toISOString() },
      });
      assert.equal(child.status, 201, JSON.stringify(child.body));
      // A token without an expiry (tenant A's) may still mint one without.
      assert.equal(
        (await api.call('POST', '/v1/tokens', { token: tokenA, body: { name: 'unbounded' } })).status,
        201,
      );
    });

    test('unknown routes are JSON 404s', async () => {
      expectError(await api.call('GET', '/v1/mailboxes'), 404, 'not_found');
    });
  });
}
