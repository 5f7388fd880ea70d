import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProvisioning } from '@correo/directory';
import { pythonSmtp, queuedId, swaks } from '@correo/testkit';
import { PASSWORD, startIngressFixture, type IngressFixture } from './support/ingress-fixture.js';

const CLAIMED = 'bank-capture.test';
const SQUATTER = `ladron@${CLAIMED}`;

/**
 * A tenant registers a name it does not own (pending, no TXT record) and creates an account in it:
 * mail from anyone for that name must not reach it, and it must not send as it.
 */
describe('a pending domain receives nothing and relays nothing', () => {
  let fixture: IngressFixture;
  let domainId: string;

  before(async () => {
    fixture = await startIngressFixture();
    const operator = createProvisioning(fixture.pool);
    const tenant = await operator.createTenant({ name: 'squatters' });
    const asTenant = createProvisioning(fixture.pool, { tenantId: tenant.id });
    domainId = (await asTenant.createDomain({ name: CLAIMED })).id;
    await asTenant.createAccount({ address: SQUATTER, password: PASSWORD });
  });
  after(async () => {
    await fixture?.stop();
  });

  const deliverOnMx = (to = `soporte@${CLAIMED}`) =>
    swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(fixture.ingress.ports.mx),
      '--from',
      'cliente@outside.test',
      '--to',
      to,
    ]);

  test('RCPT for the claimed name is refused on MX as not local (554 5.7.1), nothing published', async () => {
    const before = fixture.events.length;
    const run = await deliverOnMx();
    assert.notEqual(run.exitCode, 0, run.output);
    assert.ok(run.replies.includes('554 5.7.1 Relay access denied'), run.output);
    await fixture.expectNothingPublishedSince(before);
  });

  test('its account may not send as its address on submission (553 5.7.1)', async () => {
    const result = await pythonSmtp({
      host: '127.0.0.1',
      port: fixture.ingress.ports.submissions,
      mode: 'ssl',
      user: SQUATTER,
      password: PASSWORD,
      commands: [`MAIL FROM:<${SQUATTER}>`],
    });
    assert.deepEqual(result.replies.at(-1), [
      553,
      `5.7.1 Sender address rejected: not owned by user ${SQUATTER}`,
    ]);
  });

  test('once the operator verifies it, the same mail is accepted', async () => {
    await createProvisioning(fixture.pool).verifyDomain(domainId, {
      lookupTxt: async () => [],
      skipDns: true,
    });
    const run = await deliverOnMx();
    assert.ok(queuedId(run.replies) === undefined, 'soporte@ does not exist yet');
    assert.ok(run.replies.includes('550 5.1.1 Recipient address rejected: no such user here'), run.output);
    const toAccount = await deliverOnMx(SQUATTER);
    assert.equal(toAccount.exitCode, 0, toAccount.output);
    assert.ok(queuedId(toAccount.replies), toAccount.output);
  });
});
