import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, uniqueName } from '@correo/testkit';
import {
  assertFiledOnce,
  assertNothingDeadLettered,
  holdDeliveries,
  provisionRecipients,
  sendOnce,
} from './fault-under-load.js';
import { startMailStack, type MailStack, type TopicWatch } from './stacks.js';
const SENDERS = 5;
const PER_SENDER = 6;
/** With backoff 50 ms doubling to a 5 s cap, twelve retries are past 30 s of outage. */
const OUTAGE_RETRIES = 12;

/** A backend of the test's own that it may stop and start; the shared ones are never stopped. */
export interface PrivateBackend {
  /** Variables that put the stack on it. */
  env: Record<string, string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function metricValue(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes('topic="mail.accepted"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/**
 * The distributed stack (Kafka bus, PostgreSQL store, S3 blobs) loses one backend for over 30 s
 * while mail that already got 250 waits for delivery. Before the fix the mda dead-lettered every
 * waiting event within a second of the outage; now it waits, says so on /readyz and in its
 * metrics, and files everything exactly once when the backend returns.
 */
export function backendOutageUnderLoad(
  name: string,
  startBackend: () => Promise<PrivateBackend>,
  options: { bodyBytes?: number } = {},
): void {
  const line = 'Accepted before the backend went away.\r\n';
  const text = line.repeat(Math.max(1, Math.ceil((options.bodyBytes ?? 0) / line.length)));
  describe(`${name} outage under load on the distributed stack`, () => {
    const run = uniqueName('outage');
    let recipients: string[];
    let backend: PrivateBackend;
    let stack: MailStack;
    let deadLetters: TopicWatch;

    before(async () => {
      backend = await startBackend();
      stack = await startMailStack('distributed', backend.env);
      deadLetters = await stack.watch('mail.accepted.dlq');
      recipients = await provisionRecipients(stack, run);
    });

    after(async () => {
      await deadLetters?.stop().catch(() => {});
      await stack?.close().catch(() => {});
      await backend?.close();
    });

    test('every message that got 250 is filed exactly once and nothing is dead-lettered', async () => {
      try {
        await outage();
      } catch (error) {
        const output = stack.app.process.stderr().slice(-6000);
        throw new Error(`${(error as Error).message}\n--- all-in-one stderr ---\n${output}`, {
          cause: error,
        });
      }
    });

    async function outage() {
      // Mail that got 250 is still undelivered when the backend goes away: the outage always meets
      // events in flight, and the events queued behind them meet it too.
      const held = await holdDeliveries(stack.app.databaseUrl);

      const accepted: string[] = [];
      await Promise.all(
        Array.from({ length: SENDERS }, async (_, sender) => {
          for (let i = 0; i < PER_SENDER; i++) {
            const outcome = await sendOnce(stack, {
              to: recipients[(sender + i) % recipients.length]!,
              subject: `outage ${run} ${sender}-${i}`,
              text,
            });
            assert.equal(outcome.kind, 'accepted', JSON.stringify(outcome));
            accepted.push((outcome as { eventId: string }).eventId);
          }
        }),
      );
      assert.equal(accepted.length, SENDERS * PER_SENDER);

      await backend.stop();
      try {
        await held.release();
        await eventually(
          '/readyz to name the stalled delivery',
          async () => {
            const response = await fetch(`http://${stack.app.host}:${stack.app.ports.metrics}/readyz`);
            const body = (await response.json()) as { checks: Record<string, { error?: string }> };
            return response.status === 503 && /waits for a backend/.test(body.checks.delivery?.error ?? '');
          },
          60_000,
          200,
        );
        await eventually(
          `${OUTAGE_RETRIES} delivery retries against the stopped backend`,
          async () =>
            metricValue(await stack.app.metrics(), 'correo_bus_backend_retries_total') >= OUTAGE_RETRIES,
          120_000,
          500,
        );
        assert.ok(
          metricValue(await stack.app.metrics(), 'correo_bus_consumer_stalled') >= 1,
          'the stall shows in the metrics',
        );
      } finally {
        await backend.start();
      }

      await assertFiledOnce(stack.app.databaseUrl, accepted, 120_000);
      await assertNothingDeadLettered(stack, deadLetters, accepted);
    }
  });
}
