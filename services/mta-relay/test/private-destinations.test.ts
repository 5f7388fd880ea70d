import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDsn } from '@correo/dsn';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';
import { eventually } from '@correo/testkit';
import type { RelaySettings } from '../src/config.js';

const YO = `yo@${LOCAL_DOMAIN}`;

/**
 * The relay as it runs in production: no network is allowed beyond the public internet, and one
 * domain has an explicit route (RELAY_TRANSPORT_MAP) to a host on loopback. Only loopback addresses
 * appear here, so a relay without the guard connects to nothing but this machine.
 */
describe('mta-relay refuses MX answers that lead to loopback or private addresses (SSRF on port 25)', () => {
  let stack: RelayStack;

  before(async () => {
    stack = await RelayStack.create('embedded', {
      allowedNetworks: [],
      transportMap: new Map([['routed.test', { host: '127.0.0.2' }]]),
    } as Partial<RelaySettings>);
    stack.dns.set('internal.test', { MX: [{ exchange: 'mx.internal.test', priority: 10 }] });
    stack.dns.set('mx.internal.test', { A: ['127.0.0.1'], AAAA: ['::1'] });
    // No MX: the implicit MX is the domain's own address, here loopback.
    stack.dns.set('implicit.test', { A: ['127.0.0.1'] });
  });

  after(async () => {
    await stack?.close();
  });

  test('an MX on loopback gets no connection: the sender gets a 5.4.4 DSN', async () => {
    const sessionsBefore = stack.remote.sessions.length;
    const viaMx = await stack.sendJob({ from: YO, to: ['a@internal.test'], subject: 'to loopback' });
    const viaA = await stack.sendJob({ from: YO, to: ['a@implicit.test'], subject: 'to implicit loopback' });
    for (const jobId of [viaMx, viaA]) {
      const [outcome] = await stack.waitForOutcomes(jobId, 1);
      assert.equal(outcome!.outcome, 'bounced');
      assert.match(outcome!.reply, /non-public address/);
    }
    assert.equal(stack.remote.sessions.length, sessionsBefore, 'the relay connected to a loopback MX');

    await eventually('two DSNs for yo@', async () => (await stack.inbox(YO)).length >= 2, 30_000);
    for (const raw of await stack.inbox(YO)) {
      const [failed] = parseDsn(raw).recipients;
      assert.equal(failed!.action, 'failed');
      assert.equal(failed!.status, '5.4.4');
      assert.match(failed!['diagnostic-code']!, /^x-correo; .*non-public address/);
    }
  });

  test('a domain routed explicitly to a private host (RELAY_TRANSPORT_MAP) is delivered there, without MX lookup', async () => {
    const jobId = await stack.sendJob({ from: YO, to: ['b@routed.test'], subject: 'explicit route' });
    assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
    const received = stack.remote.received.find((m) => m.raw.includes('Subject: explicit route'))!;
    assert.equal(received.server, '127.0.0.2');
    assert.ok(!stack.dns.queries.some((q) => q.endsWith(' routed.test')), stack.dns.queries.join(', '));
  });
});
