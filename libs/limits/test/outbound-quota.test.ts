import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { testBackends, uniqueName } from '@correo/testkit';
import { createMemoryLimits, createRedisLimits, MemoryLimitsState, OutboundQuota } from '../src/index.js';
import type { Limits } from '../src/index.js';

/** The hourly outbound limits (MAIL_OUTBOUND_*) on both adapters; each `pod()` is another instance. */
function outboundQuotaCases(kind: string, pod: () => Limits): void {
  describe(`OutboundQuota [${kind}]`, () => {
    const opened: Limits[] = [];
    const open = () => {
      const limits = pod();
      opened.push(limits);
      return limits;
    };
    after(async () => Promise.all(opened.map((l) => l.close())));

    test('an account reaches its hourly limit on either pod; a refusal counts nothing; another account goes on', async () => {
      const settings = { perAccountPerHour: 3, perTenantPerHour: 0 };
      const [a, b] = [new OutboundQuota(open(), settings), new OutboundQuota(open(), settings)];
      const sender = { account: `${uniqueName('acct')}@quota.test`, tenantId: uniqueName('t') };
      assert.deepEqual(await a.charge(sender, 2), { admitted: true });
      const refused = await b.charge(sender, 2);
      assert.equal(refused.admitted, false, 'two more would pass 3');
      assert.deepEqual(await b.charge(sender), { admitted: true }, 'the refusal counted nothing');
      const over = await a.charge({ ...sender, account: sender.account.toUpperCase() });
      assert.ok(!over.admitted && over.limit === 'account' && over.ceiling === 3, 'addresses fold case');
      assert.match(over.admitted ? '' : over.text, /^Outbound limit of .* reached \(3 messages per hour\)/);
      assert.deepEqual(await a.charge({ ...sender, account: `other-${sender.account}` }), { admitted: true });
    });

    test('the tenant limit covers all its accounts; 0 means no limit', async () => {
      const tenantId = uniqueName('tenant');
      const quota = new OutboundQuota(open(), { perAccountPerHour: 0, perTenantPerHour: 2 });
      assert.deepEqual(await quota.charge({ account: 'a@t.test', tenantId }), { admitted: true });
      assert.deepEqual(await quota.charge({ account: 'b@t.test', tenantId }), { admitted: true });
      const over = await quota.charge({ account: 'c@t.test', tenantId });
      assert.ok(!over.admitted && over.limit === 'tenant');
      const unlimited = new OutboundQuota(open(), { perAccountPerHour: 0, perTenantPerHour: 0 });
      for (let i = 0; i < 5; i++)
        assert.deepEqual(await unlimited.charge({ account: 'a@t.test', tenantId }), { admitted: true });
    });
  });
}

const keyPrefix = `${uniqueName('outbound-quota')}:`;
outboundQuotaCases('redis', () => createRedisLimits({ url: testBackends().redisUrl, keyPrefix }));
const state = new MemoryLimitsState();
outboundQuotaCases('memory', () => createMemoryLimits({ state }));
