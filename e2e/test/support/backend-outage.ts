import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { decodeDeadLetter } from '@correo/bus';
import { decodeMailAccepted } from '@correo/proto';
import { eventually, queuedId, runProgram, uniqueName } from '@correo/testkit';
import { AdminClient } from './admin-client.js';
import { startMailStack, type MailStack, type TopicWatch } from './stacks.js';

const CORREO_ADMIN = fileURLToPath(
  new URL('../../../services/admin-api/bin/correo-admin.js', import.meta.url),
);
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
    const domain = `${run}.test`;
    const recipients = ['ana', 'ben', 'cy'].map((local) => `${local}@${domain}`);
    let backend: PrivateBackend;
    let stack: MailStack;
    let deadLetters: TopicWatch;

    before(async () => {
      backend = await startBackend();
      stack = await startMailStack('distributed', backend.env);
      deadLetters = await stack.watch('mail.accepted.dlq');
      const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
      const tenant = await admin.createTenant(run);
      await admin.createDomain(domain, tenant.id);
      for (const address of recipients) {
        await admin.createAccount(address, `pw-${randomBytes(9).toString('base64url')}`);
      }
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
      // Holds the mda inside its delivery transaction (after it read the blob), so that mail which
      // got 250 is still undelivered when the backend goes away: the outage always meets events in
      // flight, and the events queued behind them meet it too.
      const holder = new pg.Client({ connectionString: stack.app.databaseUrl });
      holder.on('error', () => {}); // a PostgreSQL shutdown terminates this session on purpose
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE');

      const accepted: string[] = [];
      await Promise.all(
        Array.from({ length: SENDERS }, async (_, sender) => {
          const transport = nodemailer.createTransport({
            host: '127.0.0.1',
            port: stack.app.ports.mx,
            secure: false,
            ignoreTLS: true,
          });
          try {
            for (let i = 0; i < PER_SENDER; i++) {
              const info = await transport.sendMail({
                from: 'someone@remote.test',
                to: recipients[(sender + i) % recipients.length],
                subject: `outage ${run} ${sender}-${i}`,
                text,
              });
              const eventId = queuedId([info.response]);
              assert.ok(eventId, info.response);
              accepted.push(eventId);
            }
          } finally {
            transport.close();
          }
        }),
      );
      assert.equal(accepted.length, SENDERS * PER_SENDER);

      await backend.stop();
      try {
        await holder.query('COMMIT').catch(() => {});
        await holder.end().catch(() => {});
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

      const db = new pg.Client({ connectionString: stack.app.databaseUrl });
      await db.connect();
      try {
        const filed = async () =>
          (
            await db.query<{ event_id: string; copies: number }>(
              `SELECT received_event_id AS event_id, count(*)::int AS copies FROM messages
               WHERE received_event_id = ANY($1) GROUP BY received_event_id`,
              [accepted],
            )
          ).rows;
        await eventually(
          'every accepted message to be filed',
          async () => (await filed()).length === accepted.length,
          120_000,
          500,
        );
        for (const row of await filed()) assert.equal(row.copies, 1, `${row.event_id} filed once`);
      } finally {
        await db.end();
      }

      const ours = new Set(accepted);
      const letters = deadLetters.messages
        .map((m) => decodeMailAccepted(decodeDeadLetter(m.value).value).eventId)
        .filter((id) => ours.has(id));
      assert.deepEqual(letters, [], 'nothing was dead-lettered');
      const listed = await runProgram(
        process.execPath,
        [CORREO_ADMIN, 'dlq', 'list', '--state', 'all', '--json'],
        { env: { CORREO_API_URL: stack.app.adminUrl, CORREO_API_TOKEN: stack.app.adminToken } },
      );
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout), [], 'the operator sees no dead letter');
    }
  });
}
