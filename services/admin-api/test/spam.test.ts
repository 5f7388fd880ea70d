import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readDomainSpamThresholds } from '@correo/store';
import { fetchClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();

/** A domain's own spam thresholds, as smtp-ingress reads them after DATA (issue 14, docs/spam.md). */
describe('GET/PUT /v1/domains/{id}/spam', () => {
  test('sets, reads and clears the thresholds; bad values are 400; tenants stay apart', async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const tenantDomain = async (name: string, domain: string) => {
      const tenant = (await client.call('POST', '/v1/tenants', { body: { name } })).body.id as string;
      const created = await client.call('POST', '/v1/domains', { body: { name: domain, tenantId: tenant } });
      assert.equal(created.status, 201);
      const token = (await client.call('POST', '/v1/tokens', { body: { name: 'ops', tenantId: tenant } }))
        .body.secret as string;
      return { token, id: created.body.id as string };
    };
    const ours = await tenantDomain(`t-${run}`, `ours-${run}.test`);
    const theirs = await tenantDomain(`o-${run}`, `theirs-${run}.test`);
    const path = `/v1/domains/${ours.id}/spam`;

    assert.deepEqual((await client.call('GET', path, { token: ours.token })).body, {});
    const put = await client.call('PUT', path, {
      token: ours.token,
      body: { rejectScore: 10, junkScore: 3.5 },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, { rejectScore: 10, junkScore: 3.5 });
    assert.deepEqual((await client.call('GET', path, { token: ours.token })).body, {
      rejectScore: 10,
      junkScore: 3.5,
    });
    const seen = await readDomainSpamThresholds(api().pool, [`OURS-${run}.test`]);
    assert.deepEqual(
      seen.get(`ours-${run}.test`),
      { rejectScore: 10, junkScore: 3.5 },
      'what smtp-ingress reads',
    );

    const inverted = await client.call('PUT', path, {
      token: ours.token,
      body: { rejectScore: 2, junkScore: 5 },
    });
    assert.equal(inverted.status, 400);
    assert.equal(inverted.body.error.code, 'invalid_thresholds');
    const nonsense = await client.call('PUT', path, { token: ours.token, body: { junkScore: 'high' } });
    assert.equal(nonsense.status, 400);

    // Another tenant's token neither reads nor writes them.
    assert.equal((await client.call('GET', path, { token: theirs.token })).status, 404);
    assert.equal(
      (await client.call('PUT', path, { token: theirs.token, body: { junkScore: 1 } })).status,
      404,
    );

    const cleared = await client.call('PUT', path, { token: ours.token, body: {} });
    assert.deepEqual(cleared.body, {});
    assert.equal((await readDomainSpamThresholds(api().pool, [`ours-${run}.test`])).size, 0);
  });
});
