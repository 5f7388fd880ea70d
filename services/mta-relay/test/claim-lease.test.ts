import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { eventually, startServiceProcess } from '@correo/testkit';
import type { ServiceProcess } from '@correo/testkit';
import type { MtaRelay } from '../src/relay.js';
import { gate } from './helpers/gate.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

// The claim on a relay job is a short lease (RELAY_CLAIM_LEASE) that its holder renews while the
// attempt runs (src/claim-heartbeat.ts): a relay that dies leaves its jobs to the others about one
// lease later (it used to be RELAY_ATTEMPT_TIMEOUT plus two DNS timeouts plus a minute, ~16 min by
// default), and a live relay's attempt that lasts longer than the lease keeps its job.

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const YO = `yo@${LOCAL_DOMAIN}`;
const LEASE_MS = 1_500;

describe('a relay killed while it holds claimed jobs', () => {
  let stack: RelayStack;
  let killed: ServiceProcess | undefined;

  before(async () => {
    stack = await RelayStack.create('embedded', { claimLeaseMs: LEASE_MS });
    // The relay that gets killed is a process (src/main.ts, as a pod); the stack's own relay waits.
    await stack.stopRelay();
    for (const n of [1, 2, 3]) {
      stack.dns.set(`held${n}.test`, { MX: [{ exchange: `mx.held${n}.test`, priority: 10 }] });
      stack.dns.set(`mx.held${n}.test`, { A: ['127.0.0.1'] });
    }
  });

  after(async () => {
    await killed?.process.stop('SIGKILL');
    await stack?.close();
  });

  test('another relay delivers its jobs once the short lease has run out, each exactly once', async () => {
    const rcpt = gate();
    stack.remote.beforeRcptReply = (recipient) =>
      recipient.startsWith('held@') ? rcpt.pass() : Promise.resolve();
    const { settings } = stack;
    killed = await startServiceProcess(
      MAIN,
      stack.relayProcessEnv({ RELAY_EHLO_NAME: 'killed.miemail.test', RELAY_CLAIM_LEASE: `${LEASE_MS}ms` }),
    );
    // Two from the deferred queue (claimDueRelayJobs), one fresh from the bus (claimNewRelayJob).
    const jobs = [
      (
        await stack.queueJob({
          from: YO,
          to: ['held@held1.test'],
          subject: 'held 1',
          nextAttemptAt: new Date(),
        })
      ).jobId,
      (
        await stack.queueJob({
          from: YO,
          to: ['held@held2.test'],
          subject: 'held 2',
          nextAttemptAt: new Date(),
        })
      ).jobId,
      await stack.sendJob({ from: YO, to: ['held@held3.test'], subject: 'held 3' }),
    ];
    // The process holds all three, each in a session stopped at RCPT.
    await rcpt.waitFor(3);
    const { rows: claimed } = await stack.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM relay_queue WHERE job_id::text = ANY($1::text[]) AND claimed_until > now()',
      [jobs],
    );
    assert.equal(claimed[0]!.n, 3, 'the process holds a claim on every job');

    const exit = await killed.process.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    killed = undefined;
    rcpt.open();

    // A surviving relay (the stack's own, same group and queue) takes them when the lease ends.
    await stack.startRelay();
    for (const jobId of jobs) {
      const [outcome] = await stack.waitForOutcomes(jobId, 1);
      assert.equal(outcome!.outcome, 'delivered', jobId);
    }
    for (const n of [1, 2, 3]) assert.equal(stack.copiesOf(`held ${n}`), 1, `copies of held ${n}`);
    assert.ok(
      stack.remote.received
        .filter((m) => m.raw.includes('Subject: held '))
        .every((m) => m.ehloName === settings.ehloName),
      'every copy came from the surviving relay',
    );
    assert.equal(
      (await stack.pool.query('SELECT 1 FROM relay_queue WHERE job_id::text = ANY($1::text[])', [jobs]))
        .rowCount,
      0,
      'the jobs left the queue',
    );
  });
});

describe('an attempt that lasts longer than the claim lease', () => {
  let stack: RelayStack;
  let second: MtaRelay | undefined;

  before(async () => {
    stack = await RelayStack.create('embedded', { claimLeaseMs: LEASE_MS });
    stack.dns.set('slow.test', { MX: [{ exchange: 'mx.slow.test', priority: 10 }] });
    stack.dns.set('mx.slow.test', { A: ['127.0.0.1'] });
    stack.dns.set('marker.test', { MX: [{ exchange: 'mx.marker.test', priority: 10 }] });
    stack.dns.set('mx.marker.test', { A: ['127.0.0.2'] });
    second = await stack.startAnotherRelay({ ehloName: 'second.miemail.test' });
  });

  after(async () => {
    await second?.close();
    await stack?.close();
  });

  test('keeps its job while the remote stalls DATA: no second relay sends it, the remote gets one copy', async () => {
    const subject = 'stalled past the lease';
    const data = gate();
    stack.remote.beforeDataReply = (message) =>
      message.raw.includes(`Subject: ${subject}\r\n`) ? data.pass() : Promise.resolve();
    const { jobId } = await stack.queueJob({
      from: YO,
      to: ['el@slow.test'],
      subject,
      nextAttemptAt: new Date(),
    });
    await data.waitFor(1);
    const lease = async () =>
      (
        await stack.pool.query<{ until: Date; token: string }>(
          'SELECT claimed_until AS until, claim_token AS token FROM relay_queue WHERE job_id = $1',
          [jobId],
        )
      ).rows[0]!;
    const first = await lease();
    // The holder renews: the claim runs on well past the term it was taken for, same token.
    await eventually(
      'the claim renewed past two lease terms',
      async () => (await lease()).until.getTime() > first.until.getTime() + 2 * LEASE_MS,
      60_000,
      100,
    );
    assert.equal((await lease()).token, first.token, 'still the first claim');
    // The relay not holding the stalled job is free; a job queued now is due at its next pass, so
    // once that job is delivered, the free relay has looked at the queue after the first lease
    // term ran out (the holder's queue pass waits for its stalled attempt).
    const marker = await stack.queueJob({
      from: YO,
      to: ['m@marker.test'],
      subject: 'marker past the lease',
      nextAttemptAt: new Date(),
    });
    assert.equal((await stack.waitForOutcomes(marker.jobId, 1))[0]!.outcome, 'delivered');
    assert.equal(data.reached(), 1, 'no second relay reached DATA while the first one held the job');

    data.open();
    const [outcome] = await stack.waitForOutcomes(jobId, 1);
    assert.equal(outcome!.outcome, 'delivered');
    await second?.close();
    second = undefined;
    await stack.stopRelay();
    assert.equal(data.reached(), 1, 'DATA reached the remote more than once');
    assert.equal(stack.copiesOf(subject), 1);
  });
});
