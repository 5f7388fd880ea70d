import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProvisioning } from '@correo/directory';
import { eventually, uniqueName } from '@correo/testkit';
import type { MtaRelay } from '../src/relay.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';
import type { StackKind } from '@correo/testkit/stack';

const YO = `yo@${LOCAL_DOMAIN}`;
const TU = `tu@${LOCAL_DOMAIN}`;
const EL = `el@${LOCAL_DOMAIN}`;
const ANA = 'ana@otro.test';

/** Remote domains whose MX is the loopback SMTP server (allowed in test stacks). */
function remoteDomains(stack: RelayStack, ...domains: string[]) {
  for (const domain of domains) {
    stack.dns.set(domain, { MX: [{ exchange: `mx.${domain}`, priority: 10 }] });
    stack.dns.set(`mx.${domain}`, { A: ['127.0.0.1'] });
  }
}

const arrived = (stack: RelayStack, subject: string) =>
  stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}`));

/** Final outcomes the relay recorded for a recipient, across every job. */
async function outcomesFor(stack: RelayStack, recipient: string): Promise<string[]> {
  const { rows } = await stack.pool.query<{ outcome: string }>(
    'SELECT outcome FROM relay_outcomes WHERE recipient = $1',
    [recipient],
  );
  return rows.map((r) => r.outcome);
}

describe('outbound amplification through aliases (mda + relay)', () => {
  let stack: RelayStack;

  before(async () => {
    stack = await RelayStack.create('embedded', {}, { maxForwardsPerMessage: 5 });
    remoteDomains(stack, 'far.test', 'suemail.test');
    const provisioning = createProvisioning(stack.pool);
    const targets = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}@far.test`);
    await provisioning.createAlias({ source: `list@${LOCAL_DOMAIN}`, targets });
    await provisioning.createAlias({ source: `fwd@${LOCAL_DOMAIN}`, targets: ['nobody@suemail.test'] });
    stack.remote.verdict = (recipient) =>
      recipient.startsWith('nobody@') ? [550, '5.1.1 nobody here'] : null;
  });

  after(async () => {
    await stack?.close();
  });

  test('an alias to 30 external targets sends to 5 (MDA_MAX_FORWARDS_PER_MESSAGE); 25 are recorded', async () => {
    const eventId = await stack.acceptMail({
      from: 'someone@remote.test',
      to: [`list@${LOCAL_DOMAIN}`],
      subject: 'to the list',
    });
    await eventually(
      '25 recorded forward-limit rejections',
      async () => {
        const { rows } = await stack.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM delivery_rejections WHERE event_id = $1 AND reason = 'forward-limit'`,
          [eventId],
        );
        return Number(rows[0]!.n) === 25;
      },
      30_000,
    );
    await eventually(
      'the forwarded copy at the remote',
      () => arrived(stack, 'to the list').length > 0,
      30_000,
    );
    const [copy, ...more] = arrived(stack, 'to the list');
    assert.equal(more.length, 0);
    assert.deepEqual(copy!.recipients, [
      't00@far.test',
      't01@far.test',
      't02@far.test',
      't03@far.test',
      't04@far.test',
    ]);
  });

  test('forwarded mail whose sender failed SPF/DMARC is not bounced to that sender (backscatter)', async () => {
    // Through fwd@, to a remote that refuses it; smtp-ingress found SPF and DMARC `result`.
    const forwardFrom = (from: string, result: string, subject: string) =>
      stack.acceptMail({
        from,
        to: [`fwd@${LOCAL_DOMAIN}`],
        subject,
        authentication: [
          { method: 'spf', result },
          { method: 'dmarc', result },
        ],
      });
    await forwardFrom('victim@remote.test', 'fail', 'forged sender');
    // The remote refused it (550): its bounce, had there been one, is on the bus once this is recorded.
    await eventually(
      'the forged forward refused',
      async () => (await outcomesFor(stack, 'nobody@suemail.test')).length === 1,
      30_000,
    );
    await forwardFrom('real@remote.test', 'pass', 'genuine sender');
    // A DSN to a remote sender is a job to remote.test (keyed by that domain, so handled in order):
    // it fails there (NXDOMAIN), and that outcome is recorded for its recipient, the sender.
    await eventually(
      'the DSN to the genuine sender',
      async () => (await outcomesFor(stack, 'real@remote.test')).length === 1,
      30_000,
    );
    assert.deepEqual(await outcomesFor(stack, 'victim@remote.test'), [], 'a DSN went to the forged sender');
  });
});

function rateLimits(kind: StackKind) {
  const counters = kind === 'embedded' ? 'in-process counters' : 'Redis counters';
  describe(`outbound rate limits per account, tenant and remote domain (${counters}, two relays)`, () => {
    let stack: RelayStack;
    let second: MtaRelay | undefined;

    before(async () => {
      stack = await RelayStack.create(kind, {
        outboundLimits: { windowMs: 3_600_000, perAccount: 2, perTenant: 3, perDomain: 2 },
      });
      remoteDomains(stack, 'far.test', 'other.test');
      // A second tenant, so one sender is over no limit of its own, only the remote domain's.
      const provisioning = createProvisioning(stack.pool);
      const tenant = await provisioning.createTenant({ name: uniqueName('otro') });
      await provisioning.createDomain({ name: 'otro.test', tenantId: tenant.id });
      await provisioning.createAccount({ address: ANA });
      second = await stack.startAnotherRelay();
    });

    after(async () => {
      await second?.close();
      await stack?.close();
    });

    /** Submits as `from`; resolves once the message reached the remote, or its job waits in the queue. */
    async function submit(from: string, to: string, subject: string): Promise<string | undefined> {
      const eventId = await stack.acceptMail({ from, to: [to], subject, authenticatedUser: from });
      let lastError: string | undefined;
      await eventually(
        `${subject} delivered or queued`,
        async () => {
          if (arrived(stack, subject).length > 0) return true;
          const { rows } = await stack.pool.query<{ last_error: string }>(
            // Waiting, not being attempted (a job's first attempt also holds a queue row).
            `SELECT last_error FROM relay_queue WHERE original_event_id = $1
              AND (claimed_until IS NULL OR claimed_until <= now())`,
            [eventId],
          );
          lastError = rows[0]?.last_error;
          return lastError !== undefined;
        },
        30_000,
      );
      return lastError;
    }

    test('what is over a limit waits in the queue, with the limit named', async () => {
      assert.equal(await submit(YO, 'a@far.test', 'yo 1'), undefined);
      assert.equal(await submit(YO, 'b@other.test', 'yo 2'), undefined);
      assert.match((await submit(YO, 'c@far.test', 'yo 3')) ?? 'delivered', /rate limit of the account yo@/);
      assert.equal(await submit(TU, 'd@far.test', 'tu 1'), undefined);
      assert.match((await submit(EL, 'e@other.test', 'el 1')) ?? 'delivered', /rate limit of the tenant/);
      assert.match(
        (await submit(ANA, 'f@far.test', 'ana 1')) ?? 'delivered',
        /rate limit of the remote domain far\.test/,
      );
      assert.equal(await submit(ANA, 'g@other.test', 'ana 2'), undefined);
      for (const subject of ['yo 3', 'el 1', 'ana 1']) assert.deepEqual(arrived(stack, subject), [], subject);
    });
  });
}

rateLimits('embedded');
rateLimits('distributed');
