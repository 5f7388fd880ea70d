import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { fetchClient, useAdminApi } from './api-under-test.js';
import type { ApiClient } from './api-under-test.js';

const api = useAdminApi();

describe('GET /v1/domains/{id}/client-records: what a domain publishes so clients and MTAs find us', () => {
  const run = randomBytes(3).toString('hex');
  let http: ApiClient;
  let tokenA: string;
  let tokenB: string;
  let domainId: string;

  before(async () => {
    http = fetchClient(api);
    const tenantA = (await http.call('POST', '/v1/tenants', { body: { name: `records-a-${run}` } })).body.id;
    const tenantB = (await http.call('POST', '/v1/tenants', { body: { name: `records-b-${run}` } })).body.id;
    tokenA = (await http.call('POST', '/v1/tokens', { body: { name: 'a', tenantId: tenantA } })).body.secret;
    tokenB = (await http.call('POST', '/v1/tokens', { body: { name: 'b', tenantId: tenantB } })).body.secret;
    domainId = (
      await http.call('POST', '/v1/domains', { token: tokenA, body: { name: `records-${run}.test` } })
    ).body.id;
  });

  test('the owner gets MX, RFC 6186 SRV, autoconfig/autodiscover names and MTA-STS with its policy', async () => {
    const answer = await http.call('GET', `/v1/domains/${domainId}/client-records`, { token: tokenA });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const domain = `records-${run}.test`;
    assert.equal(answer.body.domain, domain);
    const records = answer.body.records as { type: string; name: string; value: string }[];
    const value = (type: string, name: string) =>
      records.find((r) => r.type === type && r.name === name)?.value;
    // No CLIENT_* set: this host on the standard ports.
    assert.equal(value('MX', `${domain}.`), `10 ${hostname()}.`);
    assert.equal(value('SRV', `_imaps._tcp.${domain}.`), `0 1 993 ${hostname()}.`);
    assert.equal(value('SRV', `_submissions._tcp.${domain}.`), `0 1 465 ${hostname()}.`);
    assert.equal(value('CNAME', `autoconfig.${domain}.`), `${hostname()}.`);
    assert.match(value('TXT', `_mta-sts.${domain}.`) ?? '', /^"v=STSv1; id=[0-9a-f]{20}"$/);
    assert.match(answer.body.mtaStsPolicy, /^version: STSv1\r\nmode: testing\r\n/);
  });

  test("another tenant's token gets 404 for the domain, as for any domain it does not hold", async () => {
    const answer = await http.call('GET', `/v1/domains/${domainId}/client-records`, { token: tokenB });
    assert.equal(answer.status, 404, JSON.stringify(answer.body));
  });
});
