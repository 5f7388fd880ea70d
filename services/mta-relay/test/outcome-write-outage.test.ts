import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPool, type Pool } from '@correo/store';
import { createLogger } from '@correo/telemetry';
import { eventually, startTcpFaultProxy, type TcpFaultProxy } from '@correo/testkit';
import type { MtaRelay } from '../src/relay.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

const YO = `yo@${LOCAL_DOMAIN}`;

/**
 * Found by the fault run (make test-faults, seed 11): a PostgreSQL crash right after the remote
 * answered 250 to DATA. The relay could not write the outcome, left the job claimed until its
 * lease ran out, and the next holder sent the message again: the remote got it twice. The outcome
 * of an attempt the remote has answered must wait for the database, not be given up.
 *
 * The relay under test reaches the database through a TCP proxy (libs/testkit faults) that resets
 * every connection from the moment the remote accepts the message until the relay has met the failure.
 */
describe('the database is gone when the remote has just accepted a message', () => {
  let stack: RelayStack;
  let proxy: TcpFaultProxy;
  let pool: Pool;
  let relay: MtaRelay | undefined;
  const logged: { msg?: string }[] = [];

  before(async () => {
    // A short attempt deadline keeps the claim's lease (and a failing run) near a minute.
    stack = await RelayStack.create('embedded', { attemptTimeoutMs: 2_000, dnsTimeoutMs: 1_000 });
    stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
    stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
    await stack.stopRelay();
    const url = new URL(stack.db.url);
    proxy = await startTcpFaultProxy({ host: url.hostname, port: Number(url.port) });
    url.port = String(proxy.port);
    pool = createPool(url.toString());
    relay = await stack.startAnotherRelay(
      {},
      {
        pool,
        logger: createLogger('relay-outage', 'info', {
          write: (line: string) => void logged.push(JSON.parse(line) as { msg?: string }),
        }),
      },
    );
  });

  after(async () => {
    await relay?.close();
    await pool?.end();
    await proxy?.close();
    await stack?.close();
  });

  test('the outcome is written once the database is back, and the remote gets the message once', async () => {
    const subject = 'accepted as the database went away';
    stack.remote.beforeDataReply = async (message) => {
      if (message.raw.includes(`Subject: ${subject}`)) proxy.set({ kind: 'reset' });
    };
    const jobId = await stack.sendJob({ from: YO, to: ['el@suemail.test'], subject });
    await eventually(
      'the relay to meet the database failure after the attempt',
      () =>
        logged.some(
          (line) => line.msg === 'outbound job failed' || line.msg === 'outcome not written yet; retrying',
        ),
      60_000,
    );
    proxy.set({ kind: 'pass' });
    // Past the claim's lease (2 s + two DNS timeouts + a minute) when the first write was given up.
    await eventually('the outcome', async () => (await stack.outcomes(jobId)).length > 0, 150_000, 100);
    const [outcome] = await stack.outcomes(jobId);
    assert.equal(outcome!.outcome, 'delivered');
    await relay?.close();
    relay = undefined;
    const copies = stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}`)).length;
    assert.equal(copies, 1, 'the remote got the message more than once');
  });
});
