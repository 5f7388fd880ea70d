import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { decodeDeadLetter } from '@correo/bus';
import { decodeMailAccepted } from '@correo/proto';
import { eventually, queuedId, runProgram, type Fault } from '@correo/testkit';
import { AdminClient } from './admin-client.js';
import type { MailStack, TopicWatch } from './stacks.js';

const CORREO_ADMIN = fileURLToPath(
  new URL('../../../services/admin-api/bin/correo-admin.js', import.meta.url),
);

/** Where test mail goes: three accounts of a fresh domain on `stack`. */
export async function provisionRecipients(
  stack: MailStack,
  run: string,
  locals = ['ana', 'ben', 'cy'],
): Promise<string[]> {
  const domain = `${run}.test`;
  const admin = new AdminClient(stack.app.adminUrl, stack.app.adminToken);
  const tenant = await admin.createTenant(run);
  await admin.createDomain(domain, tenant.id);
  const recipients = locals.map((local) => `${local}@${domain}`);
  for (const address of recipients) {
    await admin.createAccount(address, `pw-${randomBytes(9).toString('base64url')}`);
  }
  return recipients;
}

/** What one SMTP transaction ended with, as the client saw it. */
export type SmtpOutcome =
  | { kind: 'accepted'; eventId: string; reply: string }
  | { kind: 'refused'; code: number; reply: string }
  | { kind: 'failed'; error: string };

/**
 * One message to the MX on a connection of its own, as a remote MTA sends it: the 250 (with its
 * event id), a refusal (the SMTP code), or a failure without a reply (a dropped connection, a time-out).
 */
export async function sendOnce(
  stack: MailStack,
  message: { to: string; subject: string; text: string },
  socketTimeoutMs = 120_000,
): Promise<SmtpOutcome> {
  const transport = nodemailer.createTransport({
    host: stack.app.host,
    port: stack.app.ports.mx,
    secure: false,
    ignoreTLS: true,
    socketTimeout: socketTimeoutMs,
  });
  try {
    const info = await transport.sendMail({ from: 'someone@remote.test', ...message });
    const eventId = queuedId([info.response]);
    assert.ok(eventId, `a 250 names the queued event: ${info.response}`);
    return { kind: 'accepted', eventId, reply: info.response };
  } catch (error) {
    const { responseCode, response } = error as { responseCode?: number; response?: string };
    if (responseCode) return { kind: 'refused', code: responseCode, reply: response ?? '' };
    return { kind: 'failed', error: (error as Error).message };
  } finally {
    transport.close();
  }
}

/** How many times each of `eventIds` was filed (messages.received_event_id), those filed at all. */
export async function filedCopies(databaseUrl: string, eventIds: string[]): Promise<Map<string, number>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on('error', () => {}); // a fault may end this session; the caller polls again
  await db.connect();
  try {
    const { rows } = await db.query<{ event_id: string; copies: number }>(
      `SELECT received_event_id AS event_id, count(*)::int AS copies FROM messages
       WHERE received_event_id = ANY($1) GROUP BY received_event_id`,
      [eventIds],
    );
    return new Map(rows.map((row) => [row.event_id, row.copies]));
  } finally {
    await db.end().catch(() => {});
  }
}

/** Waits until every one of `eventIds` is filed, then asserts each exactly once. */
export async function assertFiledOnce(
  databaseUrl: string,
  eventIds: string[],
  timeoutMs = 180_000,
): Promise<void> {
  let filed = new Map<string, number>();
  await eventually(
    `all ${eventIds.length} accepted messages to be filed`,
    async () => (filed = await filedCopies(databaseUrl, eventIds)).size === eventIds.length,
    timeoutMs,
    250,
  );
  for (const [eventId, copies] of filed) assert.equal(copies, 1, `${eventId} filed once`);
}

/** None of `eventIds` went to the dead-letter topic, and the operator's DLQ list is empty. */
export async function assertNothingDeadLettered(
  stack: MailStack,
  deadLetters: TopicWatch,
  eventIds: string[],
): Promise<void> {
  const ours = new Set(eventIds);
  const letters = deadLetters.messages
    .map((m) => decodeMailAccepted(decodeDeadLetter(m.value).value).eventId)
    .filter((id) => ours.has(id));
  assert.deepEqual(letters, [], 'nothing was dead-lettered');
  const listed = await runProgram(
    process.execPath,
    [CORREO_ADMIN, 'dlq', 'list', '--state', 'all', '--json'],
    {
      env: { CORREO_API_URL: stack.app.adminUrl, CORREO_API_TOKEN: stack.app.adminToken },
    },
  );
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), [], 'the operator sees no dead letter');
}

/**
 * Holds the mda inside its delivery transaction (a lock on deliveries), so that mail which got 250
 * is still undelivered when a fault comes: the fault always meets events in flight. release()
 * commits (a fault that ends the session released it already).
 */
export async function holdDeliveries(databaseUrl: string): Promise<{ release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: databaseUrl });
  holder.on('error', () => {}); // a crash or connection drop ends this session on purpose
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE');
  return {
    async release() {
      await holder.query('COMMIT').catch(() => {});
      await holder.end().catch(() => {});
    },
  };
}

/** What a client saw around one fault, and how long the stack took to recover from it. */
export interface FaultReport {
  fault: string;
  /** The replies of the transactions tried while the fault lasted ("250", "451", "failed: ..."). */
  during: string[];
  /** From heal() resolved (the backend answers again) to the first 250. */
  acceptAfterMs: number;
  /** From heal() resolved to that first message filed. */
  deliverAfterMs: number;
  /** How long heal() itself took (a backend's restart). */
  healMs: number;
}

export interface FaultUnderLoadOptions {
  /** Messages accepted before the fault, waiting for delivery when it comes. */
  before?: number;
  /** Transactions tried while the fault lasts. */
  during?: number;
  /** Body size: over 256 KiB the MX spools to disk, over 1 MiB the mda reads the blob back from S3. */
  bodyBytes?: number;
  /** The client's socket time-out during the fault (a server that never answers fails the test). */
  socketTimeoutMs?: number;
}

/**
 * One fault on a running stack, as a client sees it: messages accepted before it wait in flight
 * (holdDeliveries), the fault comes, transactions are tried (each must end in a 250 or a 4xx: never
 * a 5xx, never silence), the fault heals, and the client retries until a 250. Then every message
 * that got a 250 (before, during, after) is filed exactly once and none was dead-lettered: a backend
 * fault is retried, not dead-lettered. Returns what it saw and the recovery times, for the report
 * (they are reported, never asserted).
 */
export async function faultUnderLoad(
  stack: MailStack,
  deadLetters: TopicWatch,
  recipients: string[],
  fault: Fault,
  options: FaultUnderLoadOptions = {},
): Promise<FaultReport> {
  const line = `Through the fault "${fault.name}".\r\n`;
  const text = line.repeat(Math.max(1, Math.ceil((options.bodyBytes ?? 0) / line.length)));
  let sequence = 0;
  const send = () =>
    sendOnce(
      stack,
      { to: recipients[sequence % recipients.length]!, subject: `${fault.name} #${sequence++}`, text },
      options.socketTimeoutMs,
    );
  const accepted: string[] = [];
  const databaseUrl = stack.app.databaseUrl;

  const held = await holdDeliveries(databaseUrl);
  let during: SmtpOutcome[] = [];
  let healStart = 0;
  let healed = 0;
  try {
    for (let i = 0; i < (options.before ?? 6); i++) {
      const outcome = await send();
      assert.equal(outcome.kind, 'accepted', `before the fault: ${JSON.stringify(outcome)}`);
      accepted.push((outcome as { eventId: string }).eventId);
    }
    await fault.inject();
    await held.release();
    during = [];
    for (let i = 0; i < (options.during ?? 3); i++) during.push(await send());
  } finally {
    await held.release();
    healStart = Date.now();
    await fault.heal();
    healed = Date.now();
  }
  for (const outcome of during) {
    if (outcome.kind === 'accepted') accepted.push(outcome.eventId);
    else if (outcome.kind === 'refused')
      assert.ok(outcome.code >= 400 && outcome.code < 500, `a fault is answered 4xx, not ${outcome.reply}`);
  }
  const silent = during.filter((outcome) => outcome.kind === 'failed');
  assert.deepEqual(silent, [], 'every transaction during the fault got an answer');

  let first: string | undefined;
  while (!first) {
    const outcome = await send();
    if (outcome.kind === 'accepted') first = outcome.eventId;
    else if (outcome.kind === 'refused') assert.ok(outcome.code < 500, `after the fault: ${outcome.reply}`);
    if (!first) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const acceptAfterMs = Date.now() - healed;
  accepted.push(first);
  await eventually(
    'the first message after the fault to be filed',
    async () => (await filedCopies(databaseUrl, [first])).has(first!),
    180_000,
    100,
  );
  const deliverAfterMs = Date.now() - healed;

  await assertFiledOnce(databaseUrl, accepted);
  await assertNothingDeadLettered(stack, deadLetters, accepted);
  return {
    fault: fault.name,
    during: during.map((o) =>
      o.kind === 'accepted' ? '250' : o.kind === 'refused' ? String(o.code) : `failed: ${o.error}`,
    ),
    acceptAfterMs,
    deliverAfterMs,
    healMs: healed - healStart,
  };
}
