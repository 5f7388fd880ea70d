import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { REPLAY_HEADER, replayDeadLetter } from '@correo/backends';
import { parseDsn } from '@correo/dsn';
import { encodeOutboundMessage, timestampNow } from '@correo/proto';
import { archiveDeadLetter, listDeadLetters } from '@correo/store';
import type { StoredDeadLetter } from '@correo/store';
import type { StackKind } from '@correo/testkit/stack';
import { eventually } from '@correo/testkit';
import { relayMetrics } from '../src/metrics.js';
import { LOCAL_DOMAIN, RelayStack } from './helpers/stack.js';

const YO = `yo@${LOCAL_DOMAIN}`;
const TU = `tu@${LOCAL_DOMAIN}`;

/**
 * The relay's dead-letter path. What lands there: a job that fails by itself however often it is
 * tried (it does not decode, or lacks what a job must name), after BUS_MAX_ATTEMPTS, archived for
 * the operator under the relay's group with its error, while the jobs behind it go on. How it comes
 * back: `correo-admin dlq replay` (replayDeadLetter) publishes it to mail.outbound again, where the
 * relay's job ids make a second replay harmless.
 */
export function deadLetterScenarios(kind: StackKind): void {
  describe(`mta-relay dead letters on the ${kind} stack: what lands there and how a replay is relayed`, () => {
    let stack: RelayStack;

    const letters = async (): Promise<StoredDeadLetter[]> =>
      (await listDeadLetters(stack.pool, { limit: 100, afterId: '0', state: 'all' })).items.filter(
        (l) => l.group === stack.settings.group,
      );
    const deadLettered = async () => (await relayMetrics.deadLettered.get()).values[0]?.value ?? 0;

    before(async () => {
      stack = await RelayStack.create(kind);
      stack.dns.set('suemail.test', { MX: [{ exchange: 'mx1.suemail.test', priority: 10 }] });
      stack.dns.set('mx1.suemail.test', { A: ['127.0.0.1'] });
      stack.remote.verdict = (recipient) =>
        recipient.startsWith('nobody') ? [550, '5.1.1 nobody here'] : null;
    });

    after(async () => {
      await stack?.close();
    });

    test('a job that cannot decode and one that names no destination are dead-lettered and archived; the job behind them is delivered', async () => {
      const counted = await deadLettered();
      const { outboundTopic, group, maxAttempts } = stack.settings;
      // Field 1 with wire type 7: no OutboundMessage decodes from it.
      const poison = Buffer.from([0x0f]);
      const blob = await stack.blobs.put(Readable.from([Buffer.from('Subject: nowhere\r\n\r\nbody\r\n')]));
      const incomplete = Buffer.from(
        encodeOutboundMessage({
          eventId: randomUUID(),
          originalEventId: randomUUID(),
          mailFrom: YO,
          recipients: [{ address: 'el@suemail.test' }],
          blobKey: blob.key,
          size: BigInt(blob.size),
          sha256: blob.sha256,
          queuedAt: timestampNow(),
        }),
      );
      // One key: one partition, in this order; the valid job waits behind both until they are moved.
      await stack.bus.publish(outboundTopic, [
        { key: 'suemail.test', value: poison },
        { key: 'suemail.test', value: incomplete },
      ]);
      const behind = await stack.sendJob({ from: YO, to: ['el@suemail.test'], subject: 'behind the poison' });
      assert.equal((await stack.waitForOutcomes(behind, 1))[0]!.outcome, 'delivered');

      await eventually('both letters archived', async () => (await letters()).length === 2, 30_000);
      const [first, second] = await letters();
      assert.deepEqual(
        [first, second].map((l) => [l!.topic, l!.key, l!.attempts, l!.replayCount, Buffer.from(l!.value)]),
        [
          [outboundTopic, 'suemail.test', maxAttempts, 0, poison],
          [outboundTopic, 'suemail.test', maxAttempts, 0, incomplete],
        ],
      );
      assert.equal(first!.group, group);
      assert.match(first!.error, /\S/);
      assert.match(second!.error, /OutboundMessage without event_id, blob_key or destination_domain/);
      // The archive keeps the body the letter names, for its replay (blob_key, kept from collection).
      const { rows } = await stack.pool.query<{ blob_key: string | null }>(
        'SELECT blob_key FROM dead_letters WHERE id = $1',
        [second!.id],
      );
      assert.equal(rows[0]!.blob_key, blob.key);
      assert.equal(await deadLettered(), counted + 2, 'correo_relay_dead_lettered_total');
      assert.deepEqual(await stack.queued(behind), null);
    });

    test('a replayed letter goes through the relay like a new job: relayed once however often it is replayed, one DSN', async () => {
      // A letter of a well-formed job, as one left by a relay bug since fixed: the relay decodes it now.
      const { outboundTopic, group } = stack.settings;
      const subject = 'replayed from the dead-letter queue';
      const jobId = randomUUID();
      const blob = await stack.blobs.put(
        Readable.from([Buffer.from(`From: <${YO}>\r\nSubject: ${subject}\r\n\r\nbody\r\n`)]),
      );
      const value = Buffer.from(
        encodeOutboundMessage({
          eventId: jobId,
          originalEventId: randomUUID(),
          mailFrom: YO,
          destinationDomain: 'suemail.test',
          recipients: [{ address: 'fine@suemail.test' }, { address: 'nobody@suemail.test' }],
          blobKey: blob.key,
          size: BigInt(blob.size),
          sha256: blob.sha256,
          queuedAt: timestampNow(),
        }),
      );
      await archiveDeadLetter(stack.pool, {
        group,
        topic: outboundTopic,
        partition: 0,
        offset: '999999',
        key: 'suemail.test',
        headers: {},
        value,
        error: 'a relay bug, fixed since',
        attempts: 3,
        failedAt: new Date(),
        blobKey: blob.key,
      });
      const letter = (await letters()).find((l) => l.offset === '999999')!;
      const watch = await stack.watch(outboundTopic);

      assert.equal((await replayDeadLetter(stack.bus, stack.pool, letter.id))?.replayCount, 1);
      const outcomes = await stack.waitForOutcomes(jobId, 2);
      assert.deepEqual(
        outcomes.map((o) => [o.recipient, o.outcome]),
        [
          ['fine@suemail.test', 'delivered'],
          ['nobody@suemail.test', 'bounced'],
        ],
      );
      assert.equal((await replayDeadLetter(stack.bus, stack.pool, letter.id))?.replayCount, 2);
      // Both replays are on mail.outbound, marked as replays of this letter.
      await eventually(
        'both replays on mail.outbound',
        () => watch.messages.filter((m) => m.headers[REPLAY_HEADER] === letter.id).length === 2,
        30_000,
      );
      // A job behind the second replay (same key, same partition): once it is done, so is the replay.
      const marker = await stack.sendJob({ from: YO, to: ['nobody-marker@suemail.test'], subject: 'marker' });
      await stack.waitForOutcomes(marker, 1);
      await eventually('the DSNs of both jobs', async () => (await stack.inbox(YO)).length >= 2, 30_000);

      assert.equal(
        stack.remote.received.filter((m) => m.raw.includes(`Subject: ${subject}`)).length,
        1,
        'relayed once',
      );
      assert.deepEqual(
        (await stack.inbox(YO)).map((raw) => parseDsn(raw).recipients[0]!['final-recipient']),
        ['rfc822;nobody@suemail.test', 'rfc822;nobody-marker@suemail.test'],
        'one DSN for the replayed job',
      );
      assert.deepEqual(await stack.outcomes(jobId), outcomes);
    });

    test('a queued job whose body is gone waits on the retry schedule with the reason, then expires and its sender is told', async () => {
      const subject = 'its body is gone';
      // Queued almost a lifetime ago: the relay's own RELAY_MAX_LIFETIME arithmetic ends it within seconds.
      const queuedAt = new Date(Date.now() - stack.settings.maxLifetimeMs + 2_000);
      const jobId = await stack.sendJob({
        from: TU,
        to: ['el@suemail.test'],
        subject,
        queuedAt,
        bodyGone: true,
      });
      // Deferred like a temporary failure, the reason recorded for `correo-admin queue` to show.
      await eventually(
        'the job deferred with its reason',
        async () => {
          const { rows } = await stack.pool.query<{ last_error: string }>(
            'SELECT last_error FROM relay_queue WHERE job_id = $1',
            [jobId],
          );
          return /the message could not be read/.test(rows[0]?.last_error ?? '');
        },
        30_000,
      );
      const [outcome] = await stack.waitForOutcomes(jobId, 1);
      assert.equal(outcome!.outcome, 'expired');
      assert.match(outcome!.reply, /^the message could not be read: blob not found: /);
      assert.equal(await stack.queued(jobId), null);
      await eventually('the DSN', async () => (await stack.inbox(TU)).length >= 1, 30_000);
      const report = parseDsn((await stack.inbox(TU))[0]!);
      assert.deepEqual(
        report.recipients.map((r) => [r['final-recipient'], r.action, r.status]),
        [['rfc822;el@suemail.test', 'failed', '4.4.7']],
      );
      assert.match(
        report.recipients[0]!['diagnostic-code']!,
        /^x-correo; delivery time expired; last error: the message could not be read: blob not found/,
      );
      assert.ok(!stack.remote.received.some((m) => m.raw.includes(`Subject: ${subject}`)));
    });
  });
}
