import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deferRelayJob } from '@correo/store';
import { injectClient, useAdminApi } from './api-under-test.js';

const api = useAdminApi();
const client = () => injectClient(api);

describe('DKIM keys and the relay queue through the admin API', () => {
  let domainA: string;
  let tokenA: string;
  let tokenB: string;

  before(async () => {
    const call = client().call;
    const tenantA = (await call('POST', '/v1/tenants', { body: { name: 'dkim-a' } })).body.id;
    const tenantB = (await call('POST', '/v1/tenants', { body: { name: 'dkim-b' } })).body.id;
    domainA = (await call('POST', '/v1/domains', { body: { name: 'a.test', tenantId: tenantA } })).body.id;
    await call('POST', '/v1/domains', { body: { name: 'b.test', tenantId: tenantB } });
    tokenA = (await call('POST', '/v1/tokens', { body: { name: 'a', tenantId: tenantA } })).body.secret;
    tokenB = (await call('POST', '/v1/tokens', { body: { name: 'b', tenantId: tenantB } })).body.secret;
  });

  test('generate, rotate, list with DNS records, and delete only the inactive key', async () => {
    const { call } = client();
    const first = await call('POST', `/v1/domains/${domainA}/dkim-keys`, {
      token: tokenA,
      body: { selector: 'one' },
    });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.active, true);
    assert.equal(first.body.dnsRecord.name, 'one._domainkey.a.test');
    assert.match(first.body.dnsRecord.value, /^v=DKIM1; k=rsa; p=/);
    assert.equal(first.body.privateKey, undefined);

    const again = await call('POST', `/v1/domains/${domainA}/dkim-keys`, {
      token: tokenA,
      body: { selector: 'one' },
    });
    assert.equal(again.status, 409);

    const second = await call('POST', `/v1/domains/${domainA}/dkim-keys`, { token: tokenA });
    assert.equal(second.status, 201);
    assert.match(second.body.selector, /^c\d{8}[0-9a-f]{4}$/);

    const list = await call('GET', `/v1/domains/${domainA}/dkim-keys`, { token: tokenA });
    assert.deepEqual(
      list.body.items.map((k: { selector: string; active: boolean }) => [k.selector, k.active]),
      [
        [second.body.selector, true],
        ['one', false],
      ],
    );
    assert.equal(
      (await call('DELETE', `/v1/domains/${domainA}/dkim-keys/${second.body.id}`, { token: tokenA })).status,
      409,
    );
    assert.equal(
      (await call('DELETE', `/v1/domains/${domainA}/dkim-keys/${first.body.id}`, { token: tokenA })).status,
      204,
    );
    assert.equal(
      (await call('GET', `/v1/domains/${domainA}/dkim-keys`, { token: tokenA })).body.items.length,
      1,
    );
  });

  test("another tenant cannot see or rotate a domain's keys", async () => {
    const { call } = client();
    assert.equal((await call('GET', `/v1/domains/${domainA}/dkim-keys`, { token: tokenB })).status, 404);
    assert.equal((await call('POST', `/v1/domains/${domainA}/dkim-keys`, { token: tokenB })).status, 404);
  });

  test('the queue: tenant-scoped list, retry now, delete records the recipients as deleted', async () => {
    const { pool } = api();
    const later = new Date(Date.now() + 3_600_000);
    for (const [jobId, from] of [
      ['job-a', 'yo@a.test'],
      ['job-b', 'el@b.test'],
    ] as const) {
      await deferRelayJob(pool, {
        jobId,
        originalEventId: `${jobId}-event`,
        mailFrom: from,
        destinationDomain: 'remote.test',
        job: new Uint8Array([1, 2, 3]),
        blobKey: `${jobId}-blob`,
        attempts: 1,
        queuedAt: new Date(),
        nextAttemptAt: later,
        expiresAt: new Date(Date.now() + 86_400_000),
        lastError: '451 4.3.0 later',
        recipients: [{ recipient: 'x@remote.test', reply: '451 4.3.0 later' }],
      });
    }
    const { call } = client();
    const all = await call('GET', '/v1/relay-queue');
    assert.deepEqual(
      all.body.items.map((e: { jobId: string }) => e.jobId),
      ['job-a', 'job-b'],
    );
    const mine = await call('GET', '/v1/relay-queue', { token: tokenA });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.items.length, 1);
    const entry = mine.body.items[0];
    assert.equal(entry.jobId, 'job-a');
    assert.deepEqual(entry.recipients, [{ recipient: 'x@remote.test', lastReply: '451 4.3.0 later' }]);
    assert.equal(entry.job, undefined);

    const other = all.body.items.find((e: { jobId: string }) => e.jobId === 'job-b');
    assert.equal((await call('POST', `/v1/relay-queue/${other.id}/retry`, { token: tokenA })).status, 404);

    const retried = await call('POST', `/v1/relay-queue/${entry.id}/retry`, { token: tokenA });
    assert.equal(retried.status, 200);
    assert.ok(new Date(retried.body.nextAttemptAt) < later);

    assert.equal((await call('DELETE', `/v1/relay-queue/${entry.id}`, { token: tokenA })).status, 204);
    assert.equal((await call('GET', `/v1/relay-queue/${entry.id}`, { token: tokenA })).status, 404);
    const { rows } = await pool.query('SELECT recipient, outcome FROM relay_outcomes WHERE job_id = $1', [
      'job-a',
    ]);
    assert.deepEqual(rows, [{ recipient: 'x@remote.test', outcome: 'deleted' }]);
  });
});
