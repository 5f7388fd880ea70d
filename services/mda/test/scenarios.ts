import { randomBytes, randomUUID } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDeadLetter } from '@correo/bus';
import type { DeliveredMessage } from '@correo/bus';
import {
  AuthenticationResultsSchema,
  SubmissionKind,
  create,
  decodeMailAccepted,
  decodeOutboundMessage,
  encodeMailAccepted,
  timestampFromDate,
} from '@correo/proto';
import {
  SUMMARY_WIRE_VERSION,
  analyzeMessage,
  encodeSummaryWire,
  messageSummary,
  storedBodyStructure,
  storedEnvelope,
} from '@correo/mime';
import { decodeMailboxChange } from '@correo/notify';
import { withStoredBodies } from '@correo/store';
import { startTelemetry } from '@correo/telemetry';
import { eventually, uniqueName } from '@correo/testkit';
import { mdaMetrics } from '../src/metrics.js';
import { outboundJobId } from '../src/outbound.js';
import { MdaTestStack, acceptedEvent } from './helpers/stack.js';
import type { StackKind } from '@correo/testkit/stack';
import type { Collector } from './helpers/stack.js';
import { deliveredRows, outcomeCount, rejections } from './helpers/rows.js';
import { listDecisions } from '@correo/store';

/** The mda's delivery behaviour, run once per stack (embedded and distributed backends). */
export function deliveryScenarios(kind: StackKind): void {
  describe(`mda on the ${kind} stack`, () => {
    let stack: MdaTestStack;
    let outbound: Collector;
    let deadLetters: Collector;
    // Every test gets its own domain so that aliases and catch-alls never meet.
    const domain = () => `${uniqueName('d')}.test`;
    const settled = (eventId: string, outcomes: number) =>
      eventually(
        `${outcomes} outcomes of ${eventId}`,
        async () => (await outcomeCount(stack.pool, eventId)) >= outcomes,
        90_000,
      );

    /** Waits for the dead letter of `eventId`, then checks that nothing of it was filed. */
    const deadLetteredUnfiled = async (eventId: string, what: string) => {
      await eventually(
        `the dead letter of ${what}`,
        async () =>
          deadLetters.messages.some(
            (m) => decodeMailAccepted(decodeDeadLetter(m.value).value).eventId === eventId,
          ),
        90_000,
      );
      assert.equal((await deliveredRows(stack.pool, eventId)).length, 0);
    };

    before(async () => {
      stack = await MdaTestStack.create(kind, { maxAttempts: 2 });
      await stack.startMda();
      outbound = await stack.collect(stack.settings.outboundTopic);
      deadLetters = await stack.collect(stack.settings.deadLetterTopic);
    });

    after(async () => {
      await outbound?.stop();
      await deadLetters?.stop();
      await stack?.close();
    });

    /** Publishes a message from q.test to `to` with the DMARC result and policy smtp-ingress would carry. */
    const sendWithDmarc = async (to: string[], result: string, policy: string) => {
      const blob = await stack.storeMessage({ from: 'x@q.test', to, subject: `dmarc ${result}` });
      const eventId = randomUUID();
      await stack.publishEvent({
        ...acceptedEvent(eventId, 'x@q.test', { to }, blob),
        authenticationResults: create(AuthenticationResultsSchema, {
          results: [
            {
              method: 'dmarc',
              result,
              reason: '',
              properties: { 'header.from': 'q.test', 'policy.dmarc': policy },
            },
          ],
          header: `mx.test; dmarc=${result} policy.dmarc=${policy} header.from=q.test`,
        }),
      });
      await settled(eventId, to.length);
      return { rows: await deliveredRows(stack.pool, eventId), eventId };
    };

    test('mail failing DMARC of a quarantine domain is filed in Junk; a pass goes to INBOX', async () => {
      const d = domain();
      const accountId = await stack.provision.account(`carol@${d}`);
      const send = (result: string, policy: string) => sendWithDmarc([`carol@${d}`], result, policy);
      const quarantine = await send('fail', 'quarantine');
      const [quarantined] = quarantine.rows;
      assert.equal(quarantined?.mailbox_name, 'Junk');
      assert.equal(quarantined?.account_id, accountId);
      // The filing is a recorded decision (admin-api GET /v1/decisions): why this went to Junk.
      const decisions = await listDecisions(
        stack.pool,
        { tenantId: null },
        { eventId: quarantine.eventId, limit: 10 },
      );
      assert.deepEqual(
        decisions.map((x) => [x.stage, x.outcome, x.reason, x.recipients, x.messageId !== null]),
        [['delivery', 'junk', 'dmarc-quarantine', [`carol@${d}`], true]],
      );
      assert.match(decisions[0]!.detail, /DMARC fail for q\.test \(p=quarantine\): filed to Junk/);
      const [passed] = (await send('pass', 'quarantine')).rows;
      assert.equal(passed?.mailbox_name, 'INBOX');
      const none = await send('fail', 'none');
      assert.equal(none.rows[0]?.mailbox_name, 'INBOX');
      assert.deepEqual(
        await listDecisions(stack.pool, { tenantId: null }, { eventId: none.eventId, limit: 10 }),
        [],
      );
    });

    test('mail failing DMARC of a p=reject domain, accepted at SMTP (SMTP_DMARC_REJECT=false), is filed in Junk for every recipient, never dropped', async () => {
      const d = domain();
      const to = [`dana@${d}`, `eric@${d}`];
      const accounts = [await stack.provision.account(to[0]!), await stack.provision.account(to[1]!)];
      const rejected = await sendWithDmarc(to, 'fail', 'reject');
      assert.deepEqual(
        rejected.rows.map((r) => [r.account_id, r.mailbox_name]).sort(),
        accounts.map((id) => [id, 'Junk']).sort(),
      );
      const decisions = await listDecisions(
        stack.pool,
        { tenantId: null },
        { eventId: rejected.eventId, limit: 10 },
      );
      assert.deepEqual(
        decisions.map((x) => [x.stage, x.outcome, x.reason, [...x.recipients].sort(), x.symbols]),
        [['delivery', 'junk', 'dmarc-quarantine', [...to].sort(), { DMARC_POLICY: 'reject' }]],
      );
      assert.match(decisions[0]!.detail, /^DMARC fail for q\.test \(p=reject\): filed to Junk$/);
      // The control: the same policy with a pass is ordinary mail.
      const passed = await sendWithDmarc([to[0]!], 'pass', 'reject');
      assert.deepEqual(
        passed.rows.map((r) => r.mailbox_name),
        ['INBOX'],
      );
    });

    test('an exact account gets the message in INBOX with everything IMAP needs', async () => {
      const d = domain();
      const accountId = await stack.provision.account(`alice@${d}`);
      const notes: string[] = [];
      const unsubscribe = await stack.notifier.subscribe(`correo.mailbox.${accountId}`, (p) => notes.push(p));
      try {
        const blob = await stack.storeMessage({
          from: 'bob@remote.test',
          to: [`alice@${d}`],
          subject: 'Quarterly figures',
          text: 'The pelican numbers are in.',
        });
        const eventId = randomUUID();
        const receivedAt = new Date('2026-11-26T06:01:02.345Z');
        await stack.publishEvent({
          ...acceptedEvent(eventId, 'bob@remote.test', { to: [`Alice@${d}`] }, blob),
          receivedAt: timestampFromDate(receivedAt),
        });
        await settled(eventId, 1);

        const [row, ...others] = await deliveredRows(stack.pool, eventId);
        assert.equal(others.length, 0);
        assert.ok(row);
        assert.equal(row.recipient, `alice@${d}`);
        assert.equal(row.account_id, accountId);
        assert.equal(row.mailbox_name, 'INBOX');
        assert.equal(row.uid, '1');
        assert.equal(row.blob_key, blob.key);
        assert.equal(Number(row.size), blob.size);
        assert.equal(row.internal_date.toISOString(), receivedAt.toISOString());
        assert.equal(row.header_subject, 'Quarterly figures');
        assert.match(row.header_from ?? '', /bob@remote\.test/);
        assert.match(row.header_message_id ?? '', /@client\.test/);
        assert.ok(row.envelope_json, 'envelope stored');
        assert.ok(row.bodystructure_json, 'bodystructure stored');
        assert.equal(row.idempotency_key, `${eventId}/alice@${d}/${row.mailbox_id}`);

        const found = await stack.pool.query(
          `SELECT 1 FROM messages WHERE account_id = $1 AND position('pelican' in lower(body_text)) > 0
             AND sort_keys_filled AND sort_subject = 'Quarterly figures'`,
          [accountId],
        );
        assert.equal(found.rowCount, 1, 'the decoded body is kept for SEARCH and the keys for SORT');

        await eventually('the mailbox-changed notification', async () => notes.length > 0, 90_000);
        assert.deepEqual(decodeMailboxChange(notes[0]!), {
          mailboxId: row.mailbox_id,
          uid: 1,
          modseq: Number(row.modseq),
          kind: 'append',
        });
        const used = await stack.pool.query<{ used_bytes: string }>(
          'SELECT used_bytes FROM accounts WHERE id = $1',
          [accountId],
        );
        assert.equal(Number(used.rows[0]!.used_bytes), blob.size);
      } finally {
        await unsubscribe();
      }
    });

    test('the analysis carried in the event is filed without reading the blob; one of another version is not trusted', async () => {
      const d = domain();
      const accountId = await stack.provision.account(`reader@${d}`);
      const blob = await stack.storeMessage({
        from: 'bob@remote.test',
        to: [`reader@${d}`],
        subject: 'Read once',
        text: 'The heron numbers are in.',
      });
      const summary = messageSummary(await analyzeMessage(await stack.blobs.get(blob.key)));
      // Gone before the mda runs: filing can only come from the event's own analysis.
      await stack.blobs.delete(blob.key);
      const eventId = randomUUID();
      await stack.publishEvent({
        ...acceptedEvent(eventId, 'bob@remote.test', { to: [`reader@${d}`] }, blob),
        analysis: encodeSummaryWire(summary),
      });
      await settled(eventId, 1);
      const [row] = await deliveredRows(stack.pool, eventId);
      assert.equal(row?.account_id, accountId);
      assert.equal(row?.header_subject, 'Read once');
      assert.deepEqual(row?.envelope_json, JSON.parse(JSON.stringify(storedEnvelope(summary.envelope))));
      assert.deepEqual(
        row?.bodystructure_json,
        JSON.parse(JSON.stringify(storedBodyStructure(summary.bodystructure))),
      );
      const found = await stack.pool.query(
        `SELECT 1 FROM messages WHERE account_id = $1 AND position('heron' in lower(body_text)) > 0`,
        [accountId],
      );
      assert.equal(found.rowCount, 1, 'the carried search text is indexed');

      // Same event shape, analysis tagged with an unknown version: the mda must read the blob, which
      // is gone, so the message is not filed from the untrusted analysis (retried, then dead-lettered).
      const foreign = Buffer.from(JSON.stringify({ v: SUMMARY_WIRE_VERSION + 1, s: summary }));
      const otherId = randomUUID();
      await stack.publishEvent({
        ...acceptedEvent(otherId, 'bob@remote.test', { to: [`reader@${d}`] }, blob),
        analysis: foreign,
      });
      await deadLetteredUnfiled(otherId, 'the event without a usable analysis');
    });

    test('a body carried in the event is stored under its key before it is filed; one that does not hash to its key is not filed', async () => {
      const d = domain();
      const accountId = await stack.provision.account(`carried@${d}`);
      const blob = await stack.storeMessage({
        from: 'bob@remote.test',
        to: [`carried@${d}`],
        subject: 'Carried body',
        text: 'Small enough to ride in the event.',
      });
      const bytes = await stack.blobBytes(blob.key);
      // Not in the blob store, as smtp-ingress leaves a small message: only the event holds it.
      await stack.blobs.delete(blob.key);
      const eventId = randomUUID();
      // No carried analysis either: the mda analyses the blob, so it must have stored it first.
      await stack.publishEvent({
        ...acceptedEvent(eventId, 'bob@remote.test', { to: [`carried@${d}`] }, blob),
        body: bytes,
      });
      await settled(eventId, 1);
      const [row] = await deliveredRows(stack.pool, eventId);
      assert.equal(row?.account_id, accountId);
      assert.equal(row?.header_subject, 'Carried body');
      // This small, it is kept in PostgreSQL by the filing itself (MDA_DATABASE_BODY_BYTES), which
      // every service reads through the blob store.
      assert.equal(await stack.blobs.stat(blob.key), null, 'no blob written for it');
      const stored = withStoredBodies(stack.blobs, stack.pool);
      assert.deepEqual(
        await buffer(await stored.get(blob.key)),
        bytes,
        'the filed message names stored bytes',
      );

      // A body that is not the bytes its key names is refused (retried, then dead-lettered), never filed.
      const forged = Buffer.from(bytes);
      forged.writeUInt8(forged.readUInt8(forged.length - 3) ^ 0x01, forged.length - 3);
      const forgedId = randomUUID();
      await stack.publishEvent({
        ...acceptedEvent(forgedId, 'bob@remote.test', { to: [`carried@${d}`] }, blob),
        body: forged,
      });
      await deadLetteredUnfiled(forgedId, 'the event whose body does not match its key');
    });

    test('two local recipients share one blob and get one copy each', async () => {
      const d = domain();
      const a = await stack.provision.account(`ann@${d}`);
      const b = await stack.provision.account(`ben@${d}`);
      const eventId = await stack.publishAccepted({ to: [`ann@${d}`, `ben@${d}`] });
      await settled(eventId, 2);
      const rows = await deliveredRows(stack.pool, eventId);
      assert.deepEqual(rows.map((r) => r.account_id).sort(), [a, b].sort());
      assert.equal(new Set(rows.map((r) => r.blob_key)).size, 1, 'one blob for all recipients');
      assert.ok(rows.every((r) => r.mailbox_name === 'INBOX' && r.uid === '1'));
    });

    test('an alias delivers to each of its accounts', async () => {
      const d = domain();
      const a = await stack.provision.account(`ana@${d}`);
      const b = await stack.provision.account(`bruno@${d}`);
      await stack.provision.alias(`team@${d}`, [`ana@${d}`, `bruno@${d}`]);
      const eventId = await stack.publishAccepted({ to: [`team@${d}`] });
      await settled(eventId, 2);
      const rows = await deliveredRows(stack.pool, eventId);
      assert.deepEqual(rows.map((r) => r.account_id).sort(), [a, b].sort());
      assert.ok(rows.every((r) => r.recipient === `team@${d}`));
    });

    test('an account reached through two recipients gets one copy', async () => {
      const d = domain();
      const a = await stack.provision.account(`solo@${d}`);
      await stack.provision.alias(`sales@${d}`, [`solo@${d}`]);
      // The marker shares the first event's key, so once it is in, the first was handled to the end.
      const [eventId, marker] = await stack.publishInOrder([
        { to: [`sales@${d}`, `solo@${d}`] },
        { to: [`solo@${d}`] },
      ]);
      await settled(marker!, 1);
      const rows = await deliveredRows(stack.pool, eventId!);
      assert.deepEqual(
        rows.map((r) => [r.account_id, r.recipient]),
        [[a, `sales@${d}`]],
      );
    });

    test('the catch-all takes unknown local parts', async () => {
      const d = domain();
      const c = await stack.provision.account(`catcher@${d}`);
      await stack.provision.alias(`@${d}`, [`catcher@${d}`]);
      const eventId = await stack.publishAccepted({ to: [`whoever@${d}`] });
      await settled(eventId, 1);
      const rows = await deliveredRows(stack.pool, eventId);
      assert.deepEqual(
        rows.map((r) => [r.account_id, r.recipient]),
        [[c, `whoever@${d}`]],
      );
    });

    test('user+tag is delivered to user', async () => {
      const d = domain();
      const u = await stack.provision.account(`user@${d}`);
      const eventId = await stack.publishAccepted({ to: [`user+newsletters@${d}`] });
      await settled(eventId, 1);
      const rows = await deliveredRows(stack.pool, eventId);
      assert.deepEqual(
        rows.map((r) => [r.account_id, r.recipient]),
        [[u, `user+newsletters@${d}`]],
      );
    });

    test('an alias loop is recorded as a rejection and nothing is delivered', async () => {
      const d = domain();
      await stack.provision.alias(`ping@${d}`, [`pong@${d}`]);
      await stack.provision.alias(`pong@${d}`, [`ping@${d}`]);
      const eventId = await stack.publishAccepted({ to: [`ping@${d}`] });
      await settled(eventId, 1);
      const rejected = await rejections(stack.pool, eventId);
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0]!.recipient, `ping@${d}`);
      assert.equal(rejected[0]!.reason, 'loop');
      assert.deepEqual(await deliveredRows(stack.pool, eventId), []);
    });

    test('an unknown user and a foreign domain over port 25 are rejections, not deliveries', async () => {
      const d = domain();
      await stack.provision.account(`known@${d}`);
      const rejectedCount = async (reason: string) =>
        (await mdaMetrics.rejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
      const before = await rejectedCount('unknown-user');
      const eventId = await stack.publishAccepted({ to: [`gone@${d}`, 'someone@not-ours.test'] });
      await settled(eventId, 2);
      // Never silent: a row an operator can query, and a counter the dashboards chart.
      assert.equal(await rejectedCount('unknown-user'), before + 1);
      const rejected = await rejections(stack.pool, eventId);
      assert.deepEqual(
        rejected.map((r) => [r.recipient, r.reason]),
        [
          [`gone@${d}`, 'unknown-user'],
          ['someone@not-ours.test', 'relay-denied'],
        ],
      );
      assert.deepEqual(await deliveredRows(stack.pool, eventId), []);
    });

    test('external alias targets become one OutboundMessage per domain; local ones are delivered', async () => {
      const d = domain();
      const local = await stack.provision.account(`home@${d}`);
      await stack.provision.alias(`fwd@${d}`, [
        `home@${d}`,
        'one@elsewhere.test',
        'two@Elsewhere.test',
        'x@third.test',
      ]);
      const eventId = await stack.publishAccepted({ to: [`fwd@${d}`], from: 'origin@remote.test' });
      await settled(eventId, 1);
      const jobs = await outboundFor(outbound, eventId, 2);
      const byDomain = new Map(jobs.map((job) => [job.destinationDomain, job]));
      assert.deepEqual([...byDomain.keys()].sort(), ['elsewhere.test', 'third.test']);
      const elsewhere = byDomain.get('elsewhere.test')!;
      assert.deepEqual(
        elsewhere.recipients.map((r) => r.address),
        ['one@elsewhere.test', 'two@elsewhere.test'],
      );
      assert.equal(elsewhere.recipients[0]!.originalRecipient, `rfc822;fwd@${d}`);
      assert.equal(elsewhere.mailFrom, 'origin@remote.test');
      assert.equal(elsewhere.eventId, outboundJobId(eventId, 'elsewhere.test'));
      assert.equal(elsewhere.attempt, 0);
      // The outbound rate limits charge the forwarding address and its tenant.
      assert.equal(elsewhere.chargedTo, `fwd@${d}`);
      assert.match(elsewhere.chargedTenantId, /^\d+$/);
      assert.equal(elsewhere.neverBounce, false);
      assert.deepEqual(
        (await deliveredRows(stack.pool, eventId)).map((r) => r.account_id),
        [local],
      );
      const accepted = (await deliveredRows(stack.pool, eventId))[0]!;
      assert.equal(byDomain.get('third.test')!.blobKey, accepted.blob_key);
    });

    test('an authenticated submission to other domains goes to the relay', async () => {
      const eventId = await stack.publishAccepted({
        to: ['el@suemail.test', 'ella@suemail.test', 'otro@tercero.test'],
        from: 'yo@miemail.test',
        kind: SubmissionKind.SUBMISSION,
      });
      const jobs = await outboundFor(outbound, eventId, 2);
      const suemail = jobs.find((job) => job.destinationDomain === 'suemail.test');
      assert.deepEqual(
        suemail?.recipients.map((r) => r.address),
        ['el@suemail.test', 'ella@suemail.test'],
      );
      assert.equal(suemail?.chargedTo, 'yo@miemail.test');
      assert.equal(await outcomeCount(stack.pool, eventId), 0, 'nothing stored locally');
    });

    test('each event records its acceptance once for the journey, with the relay job of every external target', async () => {
      const d = domain();
      await stack.provision.account(`home@${d}`);
      await stack.provision.alias(`fwd@${d}`, [`home@${d}`, 'one@elsewhere.test']);
      const mixed = await stack.publishAccepted({
        to: [`fwd@${d}`, 'el@suemail.test'],
        from: `yo@${d}`,
        kind: SubmissionKind.SUBMISSION,
      });
      const relayedOnly = await stack.publishAccepted({
        to: ['el@suemail.test'],
        from: `yo@${d}`,
        kind: SubmissionKind.SUBMISSION,
      });
      // Recorded before the hand-off to the relay: once the jobs are out, the rows are there.
      await outboundFor(outbound, mixed, 2);
      await outboundFor(outbound, relayedOnly, 1);
      const rows = await stack.pool.query<{
        event_id: string;
        kind: string;
        port: number;
        client_ip: string;
        authenticated_user: string;
        sender_domain: string;
        recipient_domains: string[];
        message_id: string | null;
        relay_jobs: { jobId: string; domain: string; targets: { recipient: string; address: string }[] }[];
      }>('SELECT * FROM accepted_messages WHERE event_id = ANY($1::text[])', [[mixed, relayedOnly]]);
      const byEvent = new Map(rows.rows.map((row) => [row.event_id, row]));
      const first = byEvent.get(mixed)!;
      assert.equal(first.kind, 'submission');
      assert.equal(first.port, 587);
      assert.equal(first.client_ip, '192.0.2.10');
      assert.equal(first.authenticated_user, `yo@${d}`);
      assert.equal(first.sender_domain, d);
      assert.deepEqual(first.recipient_domains.sort(), [d, 'suemail.test'].sort());
      assert.equal(first.message_id, null, 'a stored copy carries the Message-ID of a delivered message');
      const jobs = new Map(first.relay_jobs.map((job) => [job.domain, job]));
      assert.equal(jobs.get('elsewhere.test')?.jobId, outboundJobId(mixed, 'elsewhere.test'));
      assert.deepEqual(jobs.get('elsewhere.test')?.targets, [
        { recipient: `fwd@${d}`, address: 'one@elsewhere.test' },
      ]);
      assert.deepEqual(jobs.get('suemail.test')?.targets, [
        { recipient: 'el@suemail.test', address: 'el@suemail.test' },
      ]);
      // Only relayed: nothing stored here holds the Message-ID, so the acceptance does.
      assert.match(byEvent.get(relayedOnly)?.message_id ?? '', /^<[0-9a-f-]{36}@client\.test>$/);
    });

    test("the journey's trace id is the message's own trace, continued to the relay", async () => {
      // Real trace context, as every service runs (run-service starts it); a no-op exporter.
      const telemetry = startTelemetry({ serviceName: 'mda-test' });
      try {
        const d = domain();
        await stack.provision.account(`traced@${d}`);
        const traceId = randomBytes(16).toString('hex');
        const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
        const from = `yo@${d}`;
        const to = [`traced@${d}`, 'el@suemail.test'];
        const blob = await stack.storeMessage({ from, to });
        const events = [randomUUID(), randomUUID()];
        // Two events ready at once: the mda files them as one batch.
        await stack.bus.publish(
          stack.settings.acceptedTopic,
          events.map((eventId) => ({
            key: events[0]!,
            value: encodeMailAccepted(
              acceptedEvent(eventId, from, { to, kind: SubmissionKind.SUBMISSION }, blob),
            ),
            headers: { traceparent },
          })),
        );
        for (const eventId of events) {
          const [job] = await outboundFor(outbound, eventId, 1);
          assert.ok(job);
          const handedOn = outbound.messages.find(
            (m) => decodeOutboundMessage(m.value).originalEventId === eventId,
          );
          assert.match(String(handedOn?.headers.traceparent ?? ''), new RegExp(`^00-${traceId}-`));
          const recorded = await stack.pool.query<{ trace_id: string }>(
            'SELECT trace_id FROM accepted_messages WHERE event_id = $1',
            [eventId],
          );
          assert.equal(recorded.rows[0]?.trace_id, traceId);
        }
      } finally {
        await telemetry.shutdown();
      }
    });

    test('a duplicate event is delivered once', async () => {
      const d = domain();
      await stack.provision.account(`dup@${d}`);
      const blob = await stack.storeMessage({ from: 'a@remote.test', to: [`dup@${d}`] });
      const eventId = randomUUID();
      const event = encodeMailAccepted(acceptedEvent(eventId, 'a@remote.test', { to: [`dup@${d}`] }, blob));
      const markerId = randomUUID();
      const marker = encodeMailAccepted(acceptedEvent(markerId, 'a@remote.test', { to: [`dup@${d}`] }, blob));
      // One key, one partition: the marker is handled only after both copies.
      await stack.bus.publish(stack.settings.acceptedTopic, [
        { key: eventId, value: event },
        { key: eventId, value: event },
        { key: eventId, value: marker },
      ]);
      await settled(markerId, 1);
      const rows = await deliveredRows(stack.pool, eventId);
      assert.equal(rows.length, 1);
      const copies = await stack.pool.query('SELECT 1 FROM messages WHERE received_event_id = $1', [eventId]);
      assert.equal(copies.rowCount, 1);
    });

    test('an over-quota recipient gets a recorded rejection; the others still get the message', async () => {
      const d = domain();
      const full = await stack.provision.account(`full@${d}`, { quotaBytes: 100 });
      const roomy = await stack.provision.account(`roomy@${d}`, { quotaBytes: 1_000_000 });
      const eventId = await stack.publishAccepted({ to: [`full@${d}`, `roomy@${d}`] });
      await settled(eventId, 2);
      const rejected = await rejections(stack.pool, eventId);
      assert.deepEqual(
        rejected.map((r) => [r.recipient, r.reason, r.account_id]),
        [[`full@${d}`, 'over-quota', full]],
      );
      assert.deepEqual(
        (await deliveredRows(stack.pool, eventId)).map((r) => r.account_id),
        [roomy],
      );
      const used = await stack.pool.query<{ id: string; used_bytes: string }>(
        'SELECT id, used_bytes FROM accounts WHERE id IN ($1, $2) ORDER BY id',
        [full, roomy],
      );
      const usedBy = new Map(used.rows.map((r) => [r.id, Number(r.used_bytes)]));
      assert.equal(usedBy.get(full), 0);
      assert.ok(usedBy.get(roomy)! > 0);
    });

    test('UIDs strictly ascend per mailbox and MODSEQ rises with every append', async () => {
      const d = domain();
      const accountId = await stack.provision.account(`busy@${d}`);
      const eventIds: string[] = [];
      for (let i = 0; i < 20; i++)
        eventIds.push(await stack.publishAccepted({ to: [`busy@${d}`], subject: `#${i}` }));
      for (const eventId of eventIds) await settled(eventId, 1);
      const { rows } = await stack.pool.query<{ uid: string; modseq: string }>(
        `SELECT mm.uid, mm.modseq FROM mailbox_messages mm WHERE mm.account_id = $1 ORDER BY mm.uid`,
        [accountId],
      );
      assert.deepEqual(
        rows.map((r) => Number(r.uid)),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      for (let i = 1; i < rows.length; i++) {
        assert.ok(Number(rows[i]!.modseq) > Number(rows[i - 1]!.modseq), 'modseq rises with uid');
      }
      const mailbox = await stack.pool.query<{ uidnext: string; highestmodseq: string }>(
        `SELECT uidnext, highestmodseq FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'`,
        [accountId],
      );
      assert.equal(mailbox.rows[0]!.uidnext, '21');
      assert.equal(mailbox.rows[0]!.highestmodseq, rows.at(-1)!.modseq);
    });

    test('a message whose blob is missing is retried, then dead-lettered and counted', async () => {
      const d = domain();
      await stack.provision.account(`victim@${d}`);
      const before = (await mdaMetrics.deadLettered.get()).values[0]?.value ?? 0;
      const missing = { key: randomBytes(32).toString('hex'), sha256: '', size: 1234 };
      missing.sha256 = missing.key;
      const eventId = randomUUID();
      await stack.publishEvent(acceptedEvent(eventId, 'a@remote.test', { to: [`victim@${d}`] }, missing));
      await eventually(
        'the dead letter',
        async () => deadLetters.messages.some((m) => eventIdOf(decodeDeadLetter(m.value).value) === eventId),
        90_000,
      );
      const letter = deadLetters.messages
        .map((m) => decodeDeadLetter(m.value))
        .find((l) => eventIdOf(l.value) === eventId)!;
      assert.match(letter.error, /not found/i);
      assert.equal(letter.attempts, 2);
      assert.equal(letter.group, stack.settings.group);
      // Counted once the dead letter is durable, which may be just after a consumer sees it.
      const count = async () => (await mdaMetrics.deadLettered.get()).values[0]?.value ?? 0;
      await eventually('the dead letter to be counted', async () => (await count()) > before, 90_000);
      const afterCount = await count();
      assert.equal(afterCount - before, 1);
      assert.equal(await outcomeCount(stack.pool, eventId), 0);
      // Its journey still starts with the acceptance: recorded before the blob was read.
      const accepted = await stack.pool.query('SELECT 1 FROM accepted_messages WHERE event_id = $1', [
        eventId,
      ]);
      assert.equal(accepted.rowCount, 1, 'the acceptance of a dead-lettered message is recorded');
    });
  });
}

function eventIdOf(value: Buffer): string {
  return decodeMailAccepted(value).eventId;
}

async function outboundFor(collector: Collector, eventId: string, jobs: number) {
  const mine = () =>
    collector.messages
      .map((m: DeliveredMessage) => decodeOutboundMessage(m.value))
      .filter((job) => job.originalEventId === eventId);
  await eventually(`${jobs} outbound jobs of ${eventId}`, async () => mine().length >= jobs, 90_000);
  const found = mine();
  assert.equal(found.length, jobs);
  return found;
}
