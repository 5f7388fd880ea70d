import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { retryRelayJobNow } from '@correo/store';
import type { MtaRelay } from '../src/relay.js';
import { gate } from './helpers/gate.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';
import type { RelaySettings } from '../src/config.js';

const YO = `yo@${LOCAL_DOMAIN}`;

/**
 * Two relay processes over one deferred queue, and a remote MX (a real smtp-server on loopback) that
 * stalls mid-transaction: whatever happens to the claim meanwhile, the remote gets the message once.
 */
function twoRelays(name: string, overrides: Partial<RelaySettings>, cases: (ctx: () => RelayStack) => void) {
  describe(name, () => {
    let stack: RelayStack;
    let second: MtaRelay | undefined;

    before(async () => {
      stack = await RelayStack.create('embedded', overrides);
      stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
      stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
      stack.dns.set('marker.test', { MX: [{ exchange: 'mx.marker.test', priority: 10 }] });
      stack.dns.set('mx.marker.test', { A: ['127.0.0.2'] });
      second = await stack.startAnotherRelay();
    });

    after(async () => {
      await second?.close();
      await stack?.close();
    });

    cases(() => stack);

    test('both relays stopped (every attempt in hand has ended)', async () => {
      await second?.close();
      second = undefined;
      await stack.stopRelay();
    });
  });
}

twoRelays('claim fencing: an operator retry while the job is in flight', {}, (current) => {
  test('POST /v1/relay-queue/:id/retry during a stalled DATA does not let the other relay send it again', async () => {
    const stack = current();
    const subject = 'retried while in flight';
    const data = gate();
    stack.remote.beforeDataReply = (message) =>
      message.raw.includes(`Subject: ${subject}`) ? data.pass() : Promise.resolve();
    const { id, jobId } = await stack.queueJob({
      from: YO,
      to: ['el@suemail.test'],
      subject,
      nextAttemptAt: new Date(),
    });
    await data.waitFor(1);

    // What admin-api's retry route runs (it answers 409 in_flight): the job stays with its holder.
    const retried = await retryRelayJobNow(stack.pool, { tenantId: null }, id);
    assert.equal(retried?.kind, 'in-flight');
    // A job due after the retry: the queue pass that takes it would have taken the retried job too.
    const marker = await stack.queueJob({
      from: YO,
      to: ['m@marker.test'],
      subject: 'marker after retry',
      nextAttemptAt: new Date(),
    });
    assert.equal((await stack.waitForOutcomes(marker.jobId, 1))[0]!.outcome, 'delivered');

    data.open();
    assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
    await stack.stopRelay();
    await stack.startRelay();
    assert.equal(data.reached(), 1, 'DATA reached the remote more than once');
    assert.equal(stack.copiesOf(subject), 1);
  });
});

twoRelays(
  'claim fencing: an attempt that outlasts its deadline',
  // The attempt may take 1.5 s; the claim outlives that, so the other relay never takes the job
  // while the first one still holds a session open.
  { attemptTimeoutMs: 1_500, retrySchedule: [100] },
  (current) => {
    test('the stalled attempt is cut at its deadline and retried; the remote gets the message once', async () => {
      const stack = current();
      const rcpt = gate();
      stack.remote.beforeRcptReply = (recipient) =>
        recipient === 'slow@suemail.test' ? rcpt.pass() : Promise.resolve();
      const { jobId } = await stack.queueJob({
        from: YO,
        to: ['slow@suemail.test'],
        subject: 'stalled remote',
        nextAttemptAt: new Date(),
      });
      // The second session to reach RCPT: the retry after the first attempt was given up.
      await rcpt.waitFor(2);
      rcpt.open();
      const [outcome] = await stack.waitForOutcomes(jobId, 1);
      assert.equal(outcome!.outcome, 'delivered');
      await stack.stopRelay();
      await stack.startRelay();
      assert.equal(stack.copiesOf('stalled remote'), 1);
      assert.equal(outcome!.attempts, 3, 'queued after one attempt, cut at the deadline, then delivered');
    });
  },
);

describe('claim fencing: the bus hands a job to a second relay while the first still attempts it', () => {
  let stack: RelayStack;
  let second: MtaRelay | undefined;

  before(async () => {
    stack = await RelayStack.create('embedded');
    stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
    stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
    // A consumer group of its own: it gets every job the first relay gets, at the same time, as a
    // pod does that takes over a partition (a rebalance) while the first pod is still on a job.
    second = await stack.startAnotherRelay({ group: `${stack.settings.group}-rebalanced` });
  });

  after(async () => {
    await second?.close();
    await stack?.close();
  });

  test('the redelivered job is not attempted again: the remote gets it once', async () => {
    const subject = 'redelivered while in flight';
    const data = gate();
    stack.remote.beforeDataReply = (message) =>
      message.raw.includes(`Subject: ${subject}`) ? data.pass() : Promise.resolve();
    const jobId = await stack.sendJob({ from: YO, to: ['el@suemail.test'], subject });
    await data.waitFor(1);
    // Same domain, same partition: whichever relay is free handles it only after its copy of the
    // stalled job, so once it is delivered, that relay has made up its mind about the stalled one.
    const marker = await stack.sendJob({ from: YO, to: ['m@suemail.test'], subject: 'marker behind it' });
    assert.equal((await stack.waitForOutcomes(marker, 1))[0]!.outcome, 'delivered');

    data.open();
    assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
    await second?.close();
    second = undefined;
    await stack.stopRelay();
    assert.equal(data.reached(), 1, 'DATA reached the remote more than once');
    assert.equal(stack.copiesOf(subject), 1);
  });
});
