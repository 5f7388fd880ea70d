import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { dkimVerify } from 'mailauth';
import { parseDsn } from '@correo/dsn';
import { metrics } from '@correo/telemetry';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';
import { eventually } from '@correo/testkit';
import type { StackKind } from '@correo/testkit/stack';

const YO = `yo@${LOCAL_DOMAIN}`;
const TU = `tu@${LOCAL_DOMAIN}`;
const EL = `el@${LOCAL_DOMAIN}`;

const stacks: Record<StackKind, string> = {
  embedded: 'Postgres bus, file blobs',
  distributed: 'Kafka, S3 blobs',
};

/** Every case against real DNS and SMTP servers on loopback, on the stack `kind` names. */
export function relayScenarios(kind: StackKind): void {
  describe(`mta-relay (${stacks[kind]}, real DNS and SMTP servers on loopback)`, () => {
    let stack: RelayStack;

    before(async () => {
      stack = await RelayStack.create(kind);
      const { dns } = stack;
      dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
      dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
      // Lower preference first: mx-a (127.0.0.2) must win over mx-b (127.0.0.1).
      dns.set('pref.test', {
        MX: [
          { exchange: 'mx-b.pref.test', priority: 20 },
          { exchange: 'mx-a.pref.test', priority: 5 },
        ],
      });
      dns.set('mx-a.pref.test', { A: ['127.0.0.2'] });
      dns.set('mx-b.pref.test', { A: ['127.0.0.1'] });
      // The preferred MX refuses connections (nothing listens on 127.0.0.3): the next one takes it.
      dns.set('fallback.test', {
        MX: [
          { exchange: 'down.fallback.test', priority: 5 },
          { exchange: 'up.fallback.test', priority: 10 },
        ],
      });
      dns.set('down.fallback.test', { A: ['127.0.0.3'] });
      dns.set('up.fallback.test', { A: ['127.0.0.1'] });
      dns.set('nomx.test', { A: ['127.0.0.2'] });
      dns.set('nullmx.test', { MX: [{ exchange: '.', priority: 0 }] });
      dns.set('unreachable.test', { MX: [{ exchange: 'mx.unreachable.test', priority: 10 }] });
      dns.set('mx.unreachable.test', { A: ['127.0.0.3'] });
      dns.set('plain.test', { MX: [{ exchange: 'mx.plain.test', priority: 10 }] });
      dns.set('strict.test', { MX: [{ exchange: 'mx.plain.test', priority: 10 }] });
      dns.set('mx.plain.test', { A: ['127.0.0.4'] });
      dns.set('reuse.test', { MX: [{ exchange: 'mx.reuse.test', priority: 10 }] });
      dns.set('mx.reuse.test', { A: ['127.0.0.2'] });
      stack.remote.verdict = (recipient) => {
        if (recipient.startsWith('nobody@')) return [550, '5.1.1 nobody here'];
        if (recipient.startsWith('later@')) return [451, '4.3.0 try again later'];
        return null;
      };
    });

    after(async () => {
      await stack?.close();
    });

    test('delivers over STARTTLS with a DKIM signature that verifies against the published TXT record', async () => {
      const jobId = await stack.sendJob({
        from: YO,
        to: ['el@suemail.test', 'ella@suemail.test'],
        subject: 'tls+dkim',
      });
      const outcomes = await stack.waitForOutcomes(jobId, 2);
      assert.deepEqual(
        outcomes.map((o) => [o.recipient, o.outcome]),
        [
          ['el@suemail.test', 'delivered'],
          ['ella@suemail.test', 'delivered'],
        ],
      );
      const received = stack.remote.received.find((m) => m.raw.includes('Subject: tls+dkim'))!;
      assert.equal(received.secure, true);
      assert.equal(received.ehloName, 'mx.miemail.test');
      assert.equal(received.mailFrom, YO);
      assert.deepEqual(received.recipients, ['el@suemail.test', 'ella@suemail.test']);
      assert.match(received.raw.toString(), /^DKIM-Signature: /);

      const resolver = new Resolver();
      resolver.setServers([stack.dns.address]);
      const verified = await dkimVerify(received.raw, {
        resolver: async (name: string, type: string) => {
          if (type !== 'TXT') throw Object.assign(new Error(`no ${type}`), { code: 'ENOTFOUND' });
          return resolver.resolveTxt(name);
        },
      });
      const result = verified.results[0]!;
      assert.equal(result.status.result, 'pass', JSON.stringify(result.status));
      assert.equal(result.signingDomain, LOCAL_DOMAIN);
      assert.equal(result.selector, stack.dkimKey.selector);
      assert.ok(stack.dns.queries.includes(`TXT ${stack.dkimKey.dnsRecord.name}`));
    });

    test('tries MX hosts by preference, falls back to the next MX, and to the A record without MX', async () => {
      const pref = await stack.sendJob({ from: YO, to: ['a@pref.test'], subject: 'preference' });
      const fallback = await stack.sendJob({ from: YO, to: ['a@fallback.test'], subject: 'fallback' });
      const implicit = await stack.sendJob({ from: YO, to: ['a@nomx.test'], subject: 'implicit mx' });
      for (const jobId of [pref, fallback, implicit]) {
        assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
      }
      const server = (subject: string) =>
        stack.remote.received.find((m) => m.raw.includes(`Subject: ${subject}`))?.server;
      assert.equal(server('preference'), '127.0.0.2');
      assert.equal(server('fallback'), '127.0.0.1');
      assert.equal(server('implicit mx'), '127.0.0.2');
      assert.ok(stack.dns.queries.includes('A nomx.test'));
    });

    test('STARTTLS is opportunistic, except for a domain whose policy requires it', async () => {
      const plain = await stack.sendJob({ from: YO, to: ['a@plain.test'], subject: 'plaintext ok' });
      assert.equal((await stack.waitForOutcomes(plain, 1))[0]!.outcome, 'delivered');
      const received = stack.remote.received.find((m) => m.raw.includes('Subject: plaintext ok'))!;
      assert.equal(received.secure, false);

      const strict = await stack.sendJob({ from: YO, to: ['a@strict.test'], subject: 'tls required' });
      await eventually(
        'the strict job in the queue',
        async () => (await stack.queued(strict)) !== null,
        30_000,
      );
      const { rows } = await stack.pool.query<{ last_error: string }>(
        'SELECT last_error FROM relay_queue WHERE job_id = $1',
        [strict],
      );
      assert.match(rows[0]!.last_error, /STARTTLS/i);
      assert.ok(!stack.remote.received.some((m) => m.raw.includes('Subject: tls required')));
      await stack.pool.query('DELETE FROM relay_queue WHERE job_id = $1', [strict]);
    });

    test('a connection carries up to RELAY_MAX_MESSAGES_PER_CONNECTION messages, then a new one opens', async () => {
      for (const subject of ['reuse 1', 'reuse 2', 'reuse 3']) {
        const jobId = await stack.sendJob({ from: YO, to: ['a@reuse.test'], subject });
        assert.equal((await stack.waitForOutcomes(jobId, 1))[0]!.outcome, 'delivered');
      }
      const sessions = ['reuse 1', 'reuse 2', 'reuse 3'].map(
        (subject) => stack.remote.received.find((m) => m.raw.includes(`Subject: ${subject}`))!.sessionId,
      );
      assert.equal(sessions[0], sessions[1]);
      assert.notEqual(sessions[1], sessions[2]);
    });

    test('a 5xx reply bounces at once: a multipart/report DSN in the sender INBOX, to the original MAIL FROM', async () => {
      const jobId = await stack.sendJob({
        from: YO,
        to: ['nobody@suemail.test', 'fine@suemail.test'],
        subject: 'half rejected',
      });
      const outcomes = await stack.waitForOutcomes(jobId, 2);
      assert.deepEqual(
        outcomes.map((o) => [o.recipient, o.outcome]),
        [
          ['fine@suemail.test', 'delivered'],
          ['nobody@suemail.test', 'bounced'],
        ],
      );
      await eventually('the DSN in the INBOX', async () => (await stack.inbox(YO)).length >= 1, 30_000);
      const [dsn] = await stack.inbox(YO);
      assert.match(dsn!.toString(), /^To: <yo@miemail\.test>\r$/m);
      const report = parseDsn(dsn!);
      assert.match(report.contentType, /^multipart\/report; report-type=delivery-status/);
      assert.deepEqual(report.partTypes, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
      assert.equal(report.message['reporting-mta'], 'dns; mx.miemail.test');
      assert.equal(report.recipients.length, 1);
      const [failed] = report.recipients;
      assert.equal(failed!['final-recipient'], 'rfc822;nobody@suemail.test');
      assert.equal(failed!.action, 'failed');
      assert.match(failed!.status!, /^5\.\d+\.\d+$/);
      assert.equal(failed!.status, '5.1.1');
      assert.equal(failed!['remote-mta'], 'dns; mx1.suemail.test');
      assert.match(failed!['diagnostic-code']!, /^smtp; 550 5\.1\.1 nobody here/);
      assert.match(report.returnedHeaders!, /^Subject: half rejected\r$/m);
    });

    test('null MX and NXDOMAIN bounce without any SMTP attempt', async () => {
      const nullMx = await stack.sendJob({ from: TU, to: ['a@nullmx.test'], subject: 'null mx' });
      const nxdomain = await stack.sendJob({ from: TU, to: ['a@nowhere.test'], subject: 'nxdomain' });
      assert.equal((await stack.waitForOutcomes(nullMx, 1))[0]!.outcome, 'bounced');
      assert.equal((await stack.waitForOutcomes(nxdomain, 1))[0]!.outcome, 'bounced');
      await eventually('two DSNs for tu@', async () => (await stack.inbox(TU)).length >= 2, 30_000);
      const statuses = (await stack.inbox(TU))
        .map((raw) => parseDsn(raw).recipients[0]!)
        .map((r) => [r['final-recipient'], r.action, r.status])
        .sort();
      assert.deepEqual(statuses, [
        ['rfc822;a@nowhere.test', 'failed', '5.1.2'],
        ['rfc822;a@nullmx.test', 'failed', '5.1.10'],
      ]);
      assert.ok(!stack.remote.received.some((m) => m.raw.includes('Subject: null mx')));
    });

    test('a 4xx reply defers the recipient into the queue; the retry delivers it', async () => {
      let refusals = 0;
      const previous = stack.remote.verdict;
      stack.remote.verdict = (recipient) => {
        if (recipient === 'flaky@suemail.test' && refusals < 1) {
          refusals += 1;
          return [451, '4.3.0 greylisted'];
        }
        return previous(recipient);
      };
      try {
        const jobId = await stack.sendJob({ from: YO, to: ['flaky@suemail.test'], subject: 'greylisted' });
        const outcomes = await stack.waitForOutcomes(jobId, 1);
        assert.equal(outcomes[0]!.outcome, 'delivered');
        assert.equal(outcomes[0]!.attempts, 2);
        assert.equal(refusals, 1);
        assert.equal(await stack.queued(jobId), null);
        assert.equal(stack.remote.received.filter((m) => m.raw.includes('Subject: greylisted')).length, 1);
      } finally {
        stack.remote.verdict = previous;
      }
    });

    test('an unreachable MX is retried until the lifetime ends, then bounced as expired', async () => {
      // Queued almost a lifetime ago: the relay's own RELAY_MAX_LIFETIME arithmetic ends it within seconds.
      const queuedAt = new Date(Date.now() - stack.settings.maxLifetimeMs + 1_500);
      const jobId = await stack.sendJob({
        from: EL,
        to: ['a@unreachable.test'],
        subject: 'unreachable',
        queuedAt,
      });
      const [outcome] = await stack.waitForOutcomes(jobId, 1);
      assert.equal(outcome!.outcome, 'expired');
      assert.ok(outcome!.attempts > 1, `attempts: ${outcome!.attempts}`);
      assert.equal(await stack.queued(jobId), null);
      await eventually('the expiry DSN', async () => (await stack.inbox(EL)).length >= 1, 30_000);
      const [failed] = parseDsn((await stack.inbox(EL))[0]!).recipients;
      assert.equal(failed!.action, 'failed');
      assert.equal(failed!.status, '4.4.7');
      assert.match(
        failed!['diagnostic-code']!,
        /^x-correo; delivery time expired; last error: .*127\.0\.0\.3/,
      );
    });

    test('a failed bounce is never bounced', async () => {
      const sender = `bounce-sender-${Date.now()}@${LOCAL_DOMAIN}`;
      const { createProvisioning } = await import('@correo/directory');
      await createProvisioning(stack.pool).createAccount({ address: sender });
      const bounce = await stack.sendJob({
        from: sender,
        to: ['nobody@suemail.test'],
        subject: 'a bounce',
        isBounce: true,
      });
      const nullSender = await stack.sendJob({
        from: '',
        to: ['nobody@suemail.test'],
        subject: 'null sender',
      });
      assert.equal((await stack.waitForOutcomes(bounce, 1))[0]!.outcome, 'bounced');
      assert.equal((await stack.waitForOutcomes(nullSender, 1))[0]!.outcome, 'bounced');
      // A later ordinary failure from the same sender: its DSN takes the same partition of
      // mail.accepted, so once it is filed any DSN for the bounce would have been filed before it.
      const normal = await stack.sendJob({ from: sender, to: ['nobody@suemail.test'], subject: 'ordinary' });
      await stack.waitForOutcomes(normal, 1);
      await eventually('the ordinary DSN', async () => (await stack.inbox(sender)).length >= 1, 30_000);
      const inbox = await stack.inbox(sender);
      assert.equal(inbox.length, 1);
      assert.match(parseDsn(inbox[0]!).returnedHeaders!, /^Subject: ordinary\r$/m);
    });

    test('an outbound job that fails by itself is dead-lettered and counted', async () => {
      const counter = async () =>
        (await metrics.registry.getSingleMetric('correo_relay_dead_lettered_total')?.get())?.values[0]
          ?.value ?? 0;
      const before = await counter();
      // Field 1 with wire type 7: no OutboundMessage decodes from it, however often it is retried.
      await stack.bus.publish(stack.settings.outboundTopic, [
        { key: 'poison.test', value: new Uint8Array([0x0f]) },
      ]);
      await eventually('the dead-letter counted', async () => (await counter()) === before + 1, 30_000);
    });

    test('deferred jobs survive a restart of the relay', async () => {
      const jobId = await stack.sendJob({ from: YO, to: ['later@suemail.test'], subject: 'across restart' });
      await eventually('the job in the queue', async () => (await stack.queued(jobId)) !== null, 30_000);
      // The scheduler exports how long the oldest job has waited (the CorreoRelayQueueOld alert).
      await eventually(
        'the queue age exported',
        async () => {
          const gauge = await metrics.registry
            .getSingleMetric('correo_relay_queue_oldest_age_seconds')
            ?.get();
          return (gauge?.values[0]?.value ?? 0) > 0;
        },
        30_000,
      );
      await stack.stopRelay();
      const queued = await stack.queued(jobId);
      assert.deepEqual(queued?.recipients, ['later@suemail.test']);

      const previous = stack.remote.verdict;
      stack.remote.verdict = (recipient) => (recipient === 'later@suemail.test' ? null : previous(recipient));
      try {
        await stack.startRelay();
        const [outcome] = await stack.waitForOutcomes(jobId, 1);
        assert.equal(outcome!.outcome, 'delivered');
        assert.equal(await stack.queued(jobId), null);
        assert.equal(
          stack.remote.received.filter((m) => m.raw.includes('Subject: across restart')).length,
          1,
        );
      } finally {
        stack.remote.verdict = previous;
      }
    });
  });
}
