import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProvisioning } from '@correo/directory';
import { parseDsn } from '@correo/dsn';
import { DsnNotify, SubmissionKind } from '@correo/proto';
import { eventually } from '@correo/testkit';
import { relayMetrics } from '../src/metrics.js';
import type { StackKind } from '@correo/testkit/stack';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

const YO = `yo@${LOCAL_DOMAIN}`;
const TU = `tu@${LOCAL_DOMAIN}`;
const EL = `el@${LOCAL_DOMAIN}`;

/** A counter without labels, read now. */
async function total(counter: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** How many DSNs the relay published and suppressed, and attempts it made, while a test acted. */
async function dsnCounters() {
  const start = {
    sent: await total(relayMetrics.dsnSent),
    suppressed: await total(relayMetrics.dsnSuppressed),
  };
  return {
    async added() {
      return {
        sent: (await total(relayMetrics.dsnSent)) - start.sent,
        suppressed: (await total(relayMetrics.dsnSuppressed)) - start.suppressed,
      };
    },
  };
}

/**
 * The DSN side of the relay against real DNS and SMTP servers on loopback: which failures the
 * sender is told about (RFC 3461 NOTIFY), which never (NEVER, the null sender), how a remote sender
 * is told (an OutboundMessage on mail.outbound, relayed to its MX), and that a job the bus hands out
 * again neither sends a second copy nor a second DSN.
 */
export function dsnScenarios(kind: StackKind): void {
  describe(`mta-relay DSNs on the ${kind} stack (real DNS and SMTP servers on loopback)`, () => {
    let stack: RelayStack;

    before(async () => {
      stack = await RelayStack.create(kind);
      stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
      stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
      // A remote sender's domain: its MX is the other loopback server, so what reaches it is told apart.
      stack.dns.set('faraway.test', { MX: [{ exchange: 'mx.faraway.test', priority: 10 }] });
      stack.dns.set('mx.faraway.test', { A: ['127.0.0.2'] });
      stack.remote.verdict = (recipient) => {
        if (recipient.startsWith('nobody')) return [550, '5.1.1 nobody here'];
        if (recipient.startsWith('later')) return [451, '4.3.0 try again later'];
        return null;
      };
    });

    after(async () => {
      await stack?.close();
    });

    test('NOTIFY per recipient: FAILURE or none is told of its failure; NEVER, SUCCESS or DELAY alone is not', async () => {
      const counters = await dsnCounters();
      const notify: Record<string, DsnNotify[]> = {
        'nobody-default@suemail.test': [],
        'nobody-failure@suemail.test': [DsnNotify.FAILURE],
        'nobody-failure-delay@suemail.test': [DsnNotify.FAILURE, DsnNotify.DELAY],
        'nobody-never@suemail.test': [DsnNotify.NEVER],
        'nobody-success@suemail.test': [DsnNotify.SUCCESS],
        'nobody-delay@suemail.test': [DsnNotify.DELAY],
      };
      const jobId = await stack.sendJob({ from: YO, to: Object.keys(notify), subject: 'notify', notify });
      const outcomes = await stack.waitForOutcomes(jobId, 6);
      assert.deepEqual(
        outcomes.map((o) => o.outcome),
        Array(6).fill('bounced'),
      );
      // The DSN was published before the outcomes were recorded: the counters are final here.
      assert.deepEqual(await counters.added(), { sent: 1, suppressed: 3 });

      await eventually('the DSN in the INBOX', async () => (await stack.inbox(YO)).length >= 1, 30_000);
      const inbox = await stack.inbox(YO);
      assert.equal(inbox.length, 1, 'one DSN for the job');
      assert.deepEqual(
        parseDsn(inbox[0]!)
          .recipients.map((r) => [r['final-recipient'], r.action, r.status])
          .sort(),
        [
          ['rfc822;nobody-default@suemail.test', 'failed', '5.1.1'],
          ['rfc822;nobody-failure-delay@suemail.test', 'failed', '5.1.1'],
          ['rfc822;nobody-failure@suemail.test', 'failed', '5.1.1'],
        ],
      );
    });

    test('NOTIFY=SUCCESS: the delivered recipients that asked get one "relayed" DSN, once, even when the job comes again', async () => {
      const sender = `success-${Date.now()}@${LOCAL_DOMAIN}`;
      await createProvisioning(stack.pool).createAccount({ address: sender });
      const counters = await dsnCounters();
      const notify: Record<string, DsnNotify[]> = {
        'ok-success@suemail.test': [DsnNotify.SUCCESS],
        'ok-both@suemail.test': [DsnNotify.SUCCESS, DsnNotify.FAILURE],
        'ok-plain@suemail.test': [],
        'nobody-success@suemail.test': [DsnNotify.SUCCESS],
      };
      const jobId = await stack.sendJob({
        from: sender,
        to: Object.keys(notify),
        subject: 'success',
        notify,
      });
      assert.deepEqual(
        (await stack.waitForOutcomes(jobId, 4)).map((o) => [o.recipient, o.outcome]),
        [
          ['nobody-success@suemail.test', 'bounced'],
          ['ok-both@suemail.test', 'delivered'],
          ['ok-plain@suemail.test', 'delivered'],
          ['ok-success@suemail.test', 'delivered'],
        ],
      );
      // The refused recipient asked for SUCCESS only: its failure is not told.
      assert.deepEqual(await counters.added(), { sent: 1, suppressed: 1 });
      await stack.redeliver(jobId);
      // Behind the redelivered job on its partition, and its DSN behind any second one on the sender's.
      const marker = await stack.sendJob({ from: sender, to: ['nobody@suemail.test'], subject: 'marker' });
      await stack.waitForOutcomes(marker, 1);
      await eventually('the marker DSN', async () => (await stack.inbox(sender)).length >= 2, 30_000);
      const [relayed, markerDsn, ...more] = (await stack.inbox(sender)).map((raw) => parseDsn(raw));
      assert.deepEqual(more, [], 'one DSN for the job, however often it came');
      assert.match(markerDsn!.returnedHeaders!, /^Subject: marker\r$/m);
      assert.deepEqual(
        relayed!.recipients.map((r) => [r['final-recipient'], r.action, r.status, r['remote-mta']]).sort(),
        [
          ['rfc822;ok-both@suemail.test', 'relayed', '2.0.0', 'dns; mx1.suemail.test'],
          ['rfc822;ok-success@suemail.test', 'relayed', '2.0.0', 'dns; mx1.suemail.test'],
        ],
      );
      assert.match(relayed!.returnedHeaders!, /^Subject: success\r$/m);
    });

    test('a job whose every recipient said NOTIFY=NEVER gets no DSN at all', async () => {
      const counters = await dsnCounters();
      const never = ['nobody-1@suemail.test', 'nobody-2@suemail.test'];
      const jobId = await stack.sendJob({
        from: TU,
        to: never,
        subject: 'never tell',
        notify: Object.fromEntries(never.map((r) => [r, [DsnNotify.NEVER]])),
      });
      assert.deepEqual(
        (await stack.waitForOutcomes(jobId, 2)).map((o) => o.outcome),
        ['bounced', 'bounced'],
      );
      assert.deepEqual(await counters.added(), { sent: 0, suppressed: 2 });
      // A later ordinary failure of the same sender: its DSN takes the same partition of
      // mail.accepted, so once it is filed, a DSN for the first job would have been filed before it.
      const marker = await stack.sendJob({ from: TU, to: ['nobody@suemail.test'], subject: 'marker' });
      await stack.waitForOutcomes(marker, 1);
      await eventually('the marker DSN', async () => (await stack.inbox(TU)).length >= 1, 30_000);
      const inbox = await stack.inbox(TU);
      assert.equal(inbox.length, 1);
      assert.match(parseDsn(inbox[0]!).returnedHeaders!, /^Subject: marker\r$/m);
    });

    test('a failure of mail from the null sender is told to nobody', async () => {
      const counters = await dsnCounters();
      const jobId = await stack.sendJob({ from: '', to: ['nobody@suemail.test'], subject: 'from <>' });
      assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'bounced');
      assert.deepEqual(await counters.added(), { sent: 0, suppressed: 1 });
    });

    test("a remote sender's DSN goes out through mail.outbound to the sender's MX, from <>, and is not bounced when it fails", async () => {
      const counters = await dsnCounters();
      // Forwarded mail: it entered on MX from a remote sender, so its DSN leaves us again.
      const forwarded = {
        subject: 'forwarded',
        enteredBy: SubmissionKind.MX,
        tenantId: '',
        to: ['nobody@suemail.test'],
      };
      const told = await stack.sendJob({ ...forwarded, from: 'writer@faraway.test' });
      // This sender's own MX refuses the DSN: a failed DSN is never bounced in turn.
      const refused = await stack.sendJob({ ...forwarded, from: 'nobody-writer@faraway.test' });
      assert.equal((await stack.waitForOutcomes(told, 1))[0]!.outcome, 'bounced');
      assert.equal((await stack.waitForOutcomes(refused, 1))[0]!.outcome, 'bounced');

      const dsnOutcome = async (recipient: string) => {
        await eventually(
          `the outcome of the DSN to ${recipient}`,
          async () =>
            (await stack.pool.query('SELECT 1 FROM relay_outcomes WHERE recipient = $1', [recipient]))
              .rowCount === 1,
          30_000,
        );
        const { rows } = await stack.pool.query<{ outcome: string }>(
          'SELECT outcome FROM relay_outcomes WHERE recipient = $1',
          [recipient],
        );
        return rows[0]!.outcome;
      };
      assert.equal(await dsnOutcome('writer@faraway.test'), 'delivered');
      assert.equal(await dsnOutcome('nobody-writer@faraway.test'), 'bounced');
      // Two DSNs sent (one per failed job); the refused DSN itself was not bounced again.
      assert.deepEqual(await counters.added(), { sent: 2, suppressed: 1 });

      const reached = stack.remote.received.filter((m) => m.recipients.includes('writer@faraway.test'));
      assert.equal(reached.length, 1, 'the remote sender got its DSN once');
      const [dsn] = reached;
      assert.equal(dsn!.server, '127.0.0.2', "delivered to the sender's MX");
      assert.equal(dsn!.mailFrom, '', 'a DSN is sent from the null reverse-path');
      assert.match(dsn!.raw.toString(), /^To: <writer@faraway\.test>\r$/m);
      const report = parseDsn(dsn!.raw);
      assert.equal(report.message['reporting-mta'], 'dns; mx.miemail.test');
      assert.deepEqual(
        report.recipients.map((r) => [r['final-recipient'], r.action, r.status, r['remote-mta']]),
        [['rfc822;nobody@suemail.test', 'failed', '5.1.1', 'dns; mx1.suemail.test']],
      );
      assert.match(report.returnedHeaders!, /^Subject: forwarded\r$/m);
      assert.ok(
        !stack.remote.received.some((m) => m.recipients.includes('nobody-writer@faraway.test')),
        'the refused DSN was not accepted anywhere',
      );
    });

    test('a job the bus hands out again skips the recipients already delivered or bounced: no second copy, no second DSN', async () => {
      const subject = 'redelivered after its outcomes';
      const jobId = await stack.sendJob({
        from: EL,
        to: ['fine@suemail.test', 'nobody@suemail.test'],
        subject,
      });
      const first = await stack.waitForOutcomes(jobId, 2);
      assert.deepEqual(
        first.map((o) => [o.recipient, o.outcome, o.attempts]),
        [
          ['fine@suemail.test', 'delivered', 1],
          ['nobody@suemail.test', 'bounced', 1],
        ],
      );
      await eventually('the first DSN', async () => (await stack.inbox(EL)).length >= 1, 30_000);

      const counters = await dsnCounters();
      const attemptsBefore = await total(relayMetrics.attempts);
      await stack.redeliver(jobId);
      // Same key (the destination domain), same partition: the relay takes the marker only after the
      // redelivered job, and the marker's DSN is filed after any second DSN of the first job.
      const marker = await stack.sendJob({
        from: EL,
        to: ['nobody@suemail.test'],
        subject: 'marker behind it',
      });
      await stack.waitForOutcomes(marker, 1);
      await eventually('the marker DSN', async () => (await stack.inbox(EL)).length >= 2, 30_000);

      assert.equal((await total(relayMetrics.attempts)) - attemptsBefore, 1, 'only the marker was attempted');
      assert.deepEqual(await counters.added(), { sent: 1, suppressed: 0 }, "only the marker's DSN");
      assert.equal(
        stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}`)).length,
        1,
        'the delivered recipient got one copy',
      );
      const inbox = await stack.inbox(EL);
      assert.deepEqual(
        inbox.map((raw) => /^Subject: (.*)\r$/m.exec(parseDsn(raw).returnedHeaders!)?.[1]),
        [subject, 'marker behind it'],
      );
      assert.deepEqual(await stack.outcomes(jobId), first, 'the outcomes are as the first attempt left them');
      assert.equal(await stack.queued(jobId), null);
    });

    test('a job handed out again while a recipient waits in the queue is left to the queue: the delivered one gets no second copy', async () => {
      const subject = 'redelivered while deferred';
      const jobId = await stack.sendJob({
        from: EL,
        to: ['fine@suemail.test', 'later-1@suemail.test'],
        subject,
      });
      await eventually(
        'the deferred recipient queued',
        async () => (await stack.queued(jobId)) !== null,
        30_000,
      );
      assert.deepEqual(
        (await stack.outcomes(jobId)).map((o) => [o.recipient, o.outcome]),
        [['fine@suemail.test', 'delivered']],
      );
      await stack.redeliver(jobId);
      const marker = await stack.sendJob({ from: EL, to: ['marker@suemail.test'], subject: 'marker 2' });
      assert.equal((await stack.waitForOutcomes(marker, 1))[0]!.outcome, 'delivered');

      const previous = stack.remote.verdict;
      stack.remote.verdict = (recipient) =>
        recipient === 'later-1@suemail.test' ? null : previous(recipient);
      try {
        const outcomes = await stack.waitForOutcomes(jobId, 2);
        assert.deepEqual(
          outcomes.map((o) => [o.recipient, o.outcome]),
          [
            ['fine@suemail.test', 'delivered'],
            ['later-1@suemail.test', 'delivered'],
          ],
        );
      } finally {
        stack.remote.verdict = previous;
      }
      const copies = stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}`));
      assert.deepEqual(
        copies.map((m) => m.recipients),
        [['fine@suemail.test'], ['later-1@suemail.test']],
        'each recipient got one copy',
      );
    });
  });

  describe(`mta-relay "delayed" DSNs on the ${kind} stack (RELAY_DELAY_WARNING)`, () => {
    let stack: RelayStack;

    before(async () => {
      // Every deferral is past the warning time: the first one tells the sender.
      stack = await RelayStack.create(kind, { delayWarningMs: 1 });
      stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
      stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
    });

    after(async () => {
      await stack?.close();
    });

    test('told once per job, to the recipients whose NOTIFY asks for it; a later failure is told as well', async () => {
      const sender = `delay-${Date.now()}@${LOCAL_DOMAIN}`;
      await createProvisioning(stack.pool).createAccount({ address: sender });
      let released = false;
      stack.remote.verdict = (recipient) => {
        if (recipient.startsWith('nobody')) return [550, '5.1.1 nobody here'];
        if (!released) return [451, '4.3.0 try again later'];
        // Once released, one of the waiting recipients is refused for good.
        return recipient === 'wait-default@suemail.test' ? [550, '5.1.1 gone now'] : null;
      };
      const notify: Record<string, DsnNotify[]> = {
        'wait-delay@suemail.test': [DsnNotify.DELAY],
        'wait-failure@suemail.test': [DsnNotify.FAILURE],
        'wait-default@suemail.test': [],
      };
      const counters = await dsnCounters();
      const jobId = await stack.sendJob({ from: sender, to: Object.keys(notify), subject: 'slow', notify });
      await eventually(
        'two retries from the queue',
        async () => ((await stack.queued(jobId))?.attempts ?? 0) >= 3,
        30_000,
      );
      // Behind any second delay notice on the sender's partition of mail.accepted.
      const marker = await stack.sendJob({ from: sender, to: ['nobody@suemail.test'], subject: 'marker' });
      await stack.waitForOutcomes(marker, 1);
      await eventually('the marker DSN', async () => (await stack.inbox(sender)).length >= 2, 30_000);
      released = true;
      assert.deepEqual(
        (await stack.waitForOutcomes(jobId, 3)).map((o) => [o.recipient, o.outcome]),
        [
          ['wait-default@suemail.test', 'bounced'],
          ['wait-delay@suemail.test', 'delivered'],
          ['wait-failure@suemail.test', 'delivered'],
        ],
      );
      // Published before each attempt's outcomes were recorded: final here. One delay notice however
      // many retries (the job records that it told), the marker's DSN and the failure DSN.
      assert.deepEqual(await counters.added(), { sent: 3, suppressed: 0 });
      await eventually('the failure DSN', async () => (await stack.inbox(sender)).length >= 3, 30_000);
      const [delayed, markerDsn, failed, ...more] = (await stack.inbox(sender)).map((raw) => parseDsn(raw));
      assert.deepEqual(more, []);
      assert.match(markerDsn!.returnedHeaders!, /^Subject: marker\r$/m);
      assert.deepEqual(delayed!.recipients.map((r) => [r['final-recipient'], r.action, r.status]).sort(), [
        ['rfc822;wait-default@suemail.test', 'delayed', '4.3.0'],
        ['rfc822;wait-delay@suemail.test', 'delayed', '4.3.0'],
      ]);
      for (const r of delayed!.recipients) assert.ok(r['will-retry-until'], 'Will-Retry-Until given');
      assert.match(delayed!.returnedHeaders!, /^Subject: slow\r$/m);
      assert.deepEqual(
        failed!.recipients.map((r) => [r['final-recipient'], r.action, r.status]),
        [['rfc822;wait-default@suemail.test', 'failed', '5.1.1']],
      );
    });
  });
}
