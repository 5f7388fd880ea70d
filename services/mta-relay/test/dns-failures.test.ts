import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@correo/testkit';
import { DestinationPolicy } from '../src/destinations.js';
import { relayMetrics } from '../src/metrics.js';
import { createResolver, routeFor } from '../src/mx.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

const YO = `yo@${LOCAL_DOMAIN}`;
/** Short, so a lookup nobody answers gives up within a second; the relay uses the same setting. */
const DNS_TIMEOUT_MS = 250;

/**
 * A DNS failure that may pass (SERVFAIL from a broken authoritative server, no answer at all) is
 * RFC 3463 4.4.3, "directory server failure": the recipients wait in the queue and are retried,
 * never bounced, unlike NXDOMAIN (5.1.2). The DNS server is a real one on loopback that fails the
 * way it is told to for a name.
 */
describe('mta-relay: SERVFAIL and timeouts in the MX lookup defer, never bounce', () => {
  let stack: RelayStack;

  before(async () => {
    stack = await RelayStack.create('embedded', { dnsTimeoutMs: DNS_TIMEOUT_MS });
    stack.dns.set('servfail.test', { SERVFAIL: true });
    stack.dns.set('silent.test', { silent: true });
    // The MX record is there, but its host's own lookups fail.
    stack.dns.set('hostfail.test', { MX: [{ exchange: 'mx.hostfail.test', priority: 10 }] });
    stack.dns.set('mx.hostfail.test', { SERVFAIL: true });
  });

  after(async () => {
    await stack?.close();
  });

  test('the route of each: temporary, 4.4.3, saying which lookup failed and how', async () => {
    const resolver = createResolver([stack.dns.address], DNS_TIMEOUT_MS);
    const rules = { policy: new DestinationPolicy(['127.0.0.0/8']), transportMap: new Map() };
    const routes = await Promise.all(
      ['servfail.test', 'silent.test', 'hostfail.test', 'nxdomain.test'].map((d) =>
        routeFor(resolver, d, rules),
      ),
    );
    assert.deepEqual(
      routes.map((r) => [r.kind, r.kind === 'hosts' ? '' : r.status]),
      [
        ['temporary', '4.4.3'],
        ['temporary', '4.4.3'],
        ['temporary', '4.4.3'],
        // The control: a name that does not exist is permanent.
        ['permanent', '5.1.2'],
      ],
    );
    const reasons = routes.map((r) => (r.kind === 'hosts' ? '' : r.reason));
    assert.match(reasons[0]!, /^MX lookup for servfail\.test failed: ESERVFAIL$/);
    assert.match(reasons[1]!, /^MX lookup for silent\.test failed: ETIMEOUT$/);
    assert.match(
      reasons[2]!,
      /^no MX host of hostfail\.test resolves: mx\.hostfail\.test: ESERVFAIL\/ESERVFAIL$/,
    );
  });

  for (const [domain, reply] of [
    ['servfail.test', /^MX lookup for servfail\.test failed: ESERVFAIL$/],
    ['silent.test', /^MX lookup for silent\.test failed: ETIMEOUT$/],
    ['hostfail.test', /^no MX host of hostfail\.test resolves: mx\.hostfail\.test: ESERVFAIL/],
  ] as const) {
    test(`${domain}: the recipient waits in the queue and is retried; once DNS answers it is delivered, and nobody got a DSN`, async () => {
      const dsnSent = async () => (await relayMetrics.dsnSent.get()).values[0]?.value ?? 0;
      const before = await dsnSent();
      const subject = `through ${domain}`;
      const jobId = await stack.sendJob({ from: YO, to: [`a@${domain}`], subject });
      await eventually(
        'two retries from the queue',
        async () => ((await stack.queued(jobId))?.attempts ?? 0) >= 3,
        30_000,
      );
      const { rows } = await stack.pool.query<{ last_error: string; last_reply: string }>(
        `SELECT q.last_error, r.last_reply FROM relay_queue q JOIN relay_queue_recipients r USING (job_id)
          WHERE q.job_id = $1`,
        [jobId],
      );
      assert.match(rows[0]!.last_error, reply);
      assert.match(rows[0]!.last_reply, reply);
      assert.deepEqual(await stack.outcomes(jobId), [], 'not bounced');

      // The DNS failure passes: the next retry finds the MX and delivers.
      stack.dns.set(domain, { MX: [{ exchange: `mx1.${domain}`, priority: 10 }] });
      stack.dns.set(`mx1.${domain}`, { A: ['127.0.0.1'] });
      const [outcome] = await stack.waitForOutcomes(jobId, 1);
      assert.equal(outcome!.outcome, 'delivered');
      assert.ok(outcome!.attempts >= 3, `attempts: ${outcome!.attempts}`);
      assert.equal(stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}`)).length, 1);
      assert.equal(await dsnSent(), before, 'no DSN');
      assert.deepEqual(await stack.inbox(YO), []);
    });
  }
});
