import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { recordRejection } from '@correo/store';
import { fetchClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();

/**
 * Recipients the mda could not deliver after smtp-ingress said 250 are recorded, never dropped
 * silently; this is where an operator (or a tenant, for its own domains) reads them.
 */
describe('GET /v1/delivery-rejections', () => {
  test('lists recorded rejections, filtered by event, each tenant seeing only its own domains', async () => {
    const client = fetchClient(api);
    const run = randomBytes(3).toString('hex');
    const ours = `ours-${run}.test`;
    const theirs = `theirs-${run}.test`;
    const tenant = (await client.call('POST', '/v1/tenants', { body: { name: `t-${run}` } })).body
      .id as string;
    const other = (await client.call('POST', '/v1/tenants', { body: { name: `o-${run}` } })).body
      .id as string;
    assert.equal(
      (await client.call('POST', '/v1/domains', { body: { name: ours, tenantId: tenant } })).status,
      201,
    );
    assert.equal(
      (await client.call('POST', '/v1/domains', { body: { name: theirs, tenantId: other } })).status,
      201,
    );
    const token = (await client.call('POST', '/v1/tokens', { body: { name: 'ops', tenantId: tenant } })).body
      .secret as string;

    const eventId = randomUUID();
    await recordRejection(api().pool, {
      eventId,
      recipient: `Gone@${ours}`,
      reason: 'unknown-user',
      detail: 'account deleted before delivery',
    });
    await recordRejection(api().pool, { eventId, recipient: `nobody@${theirs}`, reason: 'unknown-user' });

    const all = await client.call('GET', `/v1/delivery-rejections?eventId=${eventId}`);
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.items.map((r: { recipient: string; reason: string }) => [r.recipient, r.reason]),
      [
        [`gone@${ours}`, 'unknown-user'],
        [`nobody@${theirs}`, 'unknown-user'],
      ],
    );
    assert.equal(all.body.items[0].detail, 'account deleted before delivery');
    assert.equal(all.body.items[0].eventId, eventId);
    assert.ok(!Number.isNaN(Date.parse(all.body.items[0].rejectedAt)));

    const own = await client.call('GET', `/v1/delivery-rejections?eventId=${eventId}`, { token });
    assert.equal(own.status, 200);
    assert.deepEqual(
      own.body.items.map((r: { recipient: string }) => r.recipient),
      [`gone@${ours}`],
      "a tenant sees its own domains' rejections only",
    );

    // Paging walks every row once.
    const first = await client.call('GET', `/v1/delivery-rejections?eventId=${eventId}&limit=1`);
    assert.equal(first.body.items.length, 1);
    const second = await client.call(
      'GET',
      `/v1/delivery-rejections?eventId=${eventId}&limit=1&cursor=${first.body.nextCursor}`,
    );
    assert.deepEqual(
      second.body.items.map((r: { recipient: string }) => r.recipient),
      [`nobody@${theirs}`],
    );
  });
});
