import { domainToASCII } from 'node:url';
import type { Pool } from './pool.js';

/*
 * One message's journey (migrations/0090_accepted_messages.sql): the acceptance the mda recorded,
 * joined at read time with what each stage already records about the recipients (deliveries,
 * delivery_rejections, relay_queue, relay_outcomes, dead_letters). Nothing here is on a hot path:
 * one insert per event in the mda, and reads for an operator asking "where is my mail?".
 */

/** Where the mda sent the external recipients of one event: one relay job per destination domain. */
export interface RelayJobRoute {
  jobId: string;
  domain: string;
  /** `recipient` is the envelope recipient (lowercased); `address` where it goes (differs when forwarded). */
  targets: { recipient: string; address: string }[];
}

export interface AcceptedMessage {
  eventId: string;
  receivedAt: Date;
  kind: 'mx' | 'submission';
  port: number;
  clientIp: string;
  helo: string;
  authenticatedUser: string;
  mailFrom: string;
  recipients: string[];
  size: number;
  /** The header value of Authentication-Results smtp-ingress added; '' when it checked nothing. */
  authenticationResults: string;
  authentication: { method: string; result: string; reason: string }[];
  /** The Message-ID header, when the mda read it; local copies carry theirs in messages anyway. */
  messageId: string | null;
  relayJobs: RelayJobRoute[];
  traceId: string;
}

export type RecipientFate =
  | { kind: 'filed'; account: string; mailbox: string; uid: number | null; at: Date }
  | { kind: 'rejected'; reason: string; detail: string; at: Date }
  | { kind: 'relayed'; address: string; forwarded: boolean; reply: string; attempts: number; at: Date }
  | {
      kind: 'bounced';
      address: string;
      forwarded: boolean;
      /** bounced: a permanent reply; expired: retried past the lifetime; deleted: by an operator. */
      outcome: 'bounced' | 'expired' | 'deleted';
      reply: string;
      attempts: number;
      at: Date;
    }
  | {
      kind: 'deferred';
      address: string;
      forwarded: boolean;
      reply: string;
      attempts: number;
      nextAttemptAt: Date;
      expiresAt: Date;
    }
  /** A relay holds the job right now: attempt number `attempts` is under way. */
  | { kind: 'attempting'; address: string; forwarded: boolean; reply: string; attempts: number }
  /** Handed to the relay, which has recorded nothing yet. */
  | { kind: 'queued'; address: string; forwarded: boolean };

export interface JourneyDeadLetter {
  id: string;
  group: string;
  topic: string;
  error: string;
  attempts: number;
  failedAt: Date;
  replayCount: number;
}

export interface MessageJourney {
  eventId: string;
  /** null when only a dead letter knows the event (the mda never got as far as recording it). */
  accepted: Omit<AcceptedMessage, 'eventId' | 'relayJobs'> | null;
  /** In envelope order; an empty `fates` means the mda has not finished with the recipient yet. */
  recipients: { recipient: string; fates: RecipientFate[] }[];
  deadLetters: JourneyDeadLetter[];
}

/** smtp-ingress's event ids (randomUUID); only these are searched for in dead letters. */
const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The ASCII (A-label) domain of an address, as the domains table names it, so IDN mail is scoped too. */
function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at === -1) return '';
  const domain = address.slice(at + 1).toLowerCase();
  return domainToASCII(domain) || domain;
}

/** The types of accepted_messages' columns, in the order recordAcceptedMessages writes them. */
const ACCEPTED_TYPES = [
  'text',
  'timestamptz',
  'text',
  'integer',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text[]',
  'text[]',
  'bigint',
  'text',
  'jsonb',
  'text',
  'jsonb',
  'text',
];
const ACCEPTED_COLUMNS = ACCEPTED_TYPES.length;

/**
 * Records the acceptances of a bus batch in one statement (one round trip, one commit for the batch).
 * Idempotent: a redelivered event keeps its first record.
 */
export async function recordAcceptedMessages(pool: Pool, messages: AcceptedMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const values = messages.flatMap((message) => [
    message.eventId,
    message.receivedAt,
    message.kind,
    message.port,
    message.clientIp,
    message.helo,
    message.authenticatedUser,
    message.mailFrom,
    domainOf(message.mailFrom),
    [...new Set(message.recipients.map(domainOf))],
    message.recipients.map((r) => r.toLowerCase()),
    message.size,
    message.authenticationResults,
    JSON.stringify(message.authentication),
    message.messageId,
    JSON.stringify(message.relayJobs),
    message.traceId,
  ]);
  // Cast: a VALUES list in FROM types its parameters as text, not by the target columns.
  const rows = messages.map(
    (_, row) =>
      `(${ACCEPTED_TYPES.map((type, column) => `$${row * ACCEPTED_COLUMNS + column + 1}::${type}`).join(', ')})`,
  );
  // A record, not a delivery, and idempotent (ON CONFLICT DO NOTHING): it need not wait for its
  // own WAL flush. The mda's filing commit right after it flushes the WAL up to and including it;
  // lost only if PostgreSQL itself crashes before that, when the bus offset was not committed either,
  // so the event comes again and records it again. One WAL flush per batch saved. One round trip:
  // the statement is its own transaction, and set_config(..., true) turns synchronous_commit off
  // for that transaction alone (it was BEGIN with SET LOCAL, the INSERT, and COMMIT: three).
  await pool.query({
    text: `INSERT INTO accepted_messages (event_id, received_at, kind, port, client_ip, helo, authenticated_user,
         mail_from, sender_domain, recipient_domains, recipients, size, authentication_results, authentication,
         message_id, relay_jobs, trace_id)
       SELECT v.* FROM (VALUES ${rows.join(', ')}) AS v
        WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
       ON CONFLICT (event_id) DO NOTHING`,
    values,
  });
}

interface AcceptedRow {
  event_id: string;
  received_at: Date;
  kind: 'mx' | 'submission';
  port: number;
  client_ip: string;
  helo: string;
  authenticated_user: string;
  mail_from: string;
  sender_domain: string;
  recipients: string[];
  size: string;
  authentication_results: string;
  authentication: AcceptedMessage['authentication'];
  message_id: string | null;
  relay_jobs: RelayJobRoute[];
  trace_id: string;
}

/** `<a@b>` and `a@b` name the same Message-ID; the header keeps whichever form the sender wrote. */
function messageIdForms(id: string): string[] {
  const bare = id.replace(/^<(.*)>$/, '$1');
  return [bare, `<${bare}>`];
}

/**
 * The journeys of the message `id` names: a MailAccepted event id, or a Message-ID header (which
 * can name several acceptances: the same message sent twice, or relayed between our own domains).
 * A tenant (`tenantId` set) sees a journey only when the sender's or a recipient's domain is one of
 * its own, and of a message it did not send only the recipients at its domains; dead letters are
 * for operators only, like their admin routes. Oldest acceptance first.
 */
export async function findMessageJourneys(
  pool: Pool,
  scope: { tenantId: string | null },
  id: string,
): Promise<MessageJourney[]> {
  const forms = messageIdForms(id);
  const { rows } = await pool.query<AcceptedRow>(
    `SELECT a.event_id, a.received_at, a.kind, a.port, a.client_ip, a.helo, a.authenticated_user, a.mail_from,
            a.sender_domain, a.recipients, a.size::text AS size, a.authentication_results, a.authentication,
            a.message_id, a.relay_jobs, a.trace_id
       FROM accepted_messages a
      WHERE (a.event_id = $1
             OR a.message_id = ANY($2::text[])
             OR a.event_id IN (SELECT m.received_event_id FROM messages m WHERE m.header_message_id = ANY($2::text[])))
        AND ($3::bigint IS NULL
             OR EXISTS (SELECT 1 FROM domains d
                         WHERE d.tenant_id = $3 AND (d.name = a.sender_domain OR d.name = ANY(a.recipient_domains))))
      ORDER BY a.received_at, a.event_id
      LIMIT 50`,
    [id, forms, scope.tenantId],
  );
  const tenantDomains =
    scope.tenantId === null
      ? null
      : new Set(
          (
            await pool.query<{ name: string }>('SELECT name FROM domains WHERE tenant_id = $1', [
              scope.tenantId,
            ])
          ).rows.map((r) => r.name),
        );

  const journeys: MessageJourney[] = [];
  for (const row of rows) {
    const visible =
      tenantDomains === null || tenantDomains.has(row.sender_domain)
        ? row.recipients
        : row.recipients.filter((r) => tenantDomains.has(domainOf(r)));
    journeys.push({
      eventId: row.event_id,
      accepted: {
        receivedAt: row.received_at,
        kind: row.kind,
        port: row.port,
        clientIp: row.client_ip,
        helo: row.helo,
        authenticatedUser: row.authenticated_user,
        mailFrom: row.mail_from,
        recipients: visible,
        size: Number(row.size),
        authenticationResults: row.authentication_results,
        authentication: row.authentication,
        messageId: row.message_id,
        traceId: row.trace_id,
      },
      recipients: await recipientFates(pool, row.event_id, visible, row.relay_jobs),
      deadLetters: scope.tenantId === null ? await deadLettersOf(pool, row.event_id) : [],
    });
  }
  // An event the mda never recorded (it failed before, every time) is known only to its dead letter.
  if (scope.tenantId === null && EVENT_ID.test(id) && !journeys.some((j) => j.eventId === id)) {
    const deadLetters = await deadLettersOf(pool, id);
    if (deadLetters.length > 0) journeys.push({ eventId: id, accepted: null, recipients: [], deadLetters });
  }
  return journeys;
}

async function recipientFates(
  pool: Pool,
  eventId: string,
  recipients: string[],
  relayJobs: RelayJobRoute[],
): Promise<MessageJourney['recipients']> {
  const fates = new Map<string, RecipientFate[]>(recipients.map((r) => [r, []]));
  const add = (recipient: string, fate: RecipientFate) => fates.get(recipient)?.push(fate);

  const filed = await pool.query<{
    recipient: string;
    account: string;
    mailbox: string;
    uid: string | null;
    at: Date;
  }>(
    `SELECT d.recipient, a.address AS account, mb.name AS mailbox, mm.uid::text AS uid, d.delivered_at AS at
       FROM deliveries d
       JOIN accounts a ON a.id = d.account_id
       JOIN mailboxes mb ON mb.id = d.mailbox_id
       LEFT JOIN mailbox_messages mm
              ON mm.idempotency_key = d.event_id || '/' || d.recipient || '/' || d.mailbox_id::text
      WHERE d.event_id = $1 ORDER BY d.id`,
    [eventId],
  );
  for (const r of filed.rows) {
    // uid null: the copy was expunged (or moved) since; the delivery itself stays recorded.
    add(r.recipient, {
      kind: 'filed',
      account: r.account,
      mailbox: r.mailbox,
      uid: r.uid === null ? null : Number(r.uid),
      at: r.at,
    });
  }

  const rejected = await pool.query<{ recipient: string; reason: string; detail: string; at: Date }>(
    `SELECT recipient, reason, detail, rejected_at AS at FROM delivery_rejections WHERE event_id = $1 ORDER BY id`,
    [eventId],
  );
  for (const r of rejected.rows)
    add(r.recipient, { kind: 'rejected', reason: r.reason, detail: r.detail, at: r.at });

  const jobIds = relayJobs.map((j) => j.jobId);
  if (jobIds.length > 0) {
    const outcomes = await pool.query<{
      job_id: string;
      recipient: string;
      outcome: 'delivered' | 'bounced' | 'expired' | 'deleted';
      reply: string;
      attempts: number;
      at: Date;
    }>(
      `SELECT job_id, recipient, outcome, reply, attempts, decided_at AS at
         FROM relay_outcomes WHERE job_id = ANY($1::text[])`,
      [jobIds],
    );
    const deferred = await pool.query<{
      job_id: string;
      recipient: string;
      reply: string;
      attempts: number;
      next_attempt_at: Date;
      expires_at: Date;
      in_flight: boolean;
    }>(
      `SELECT q.job_id, r.recipient, r.last_reply AS reply, q.attempts, q.next_attempt_at, q.expires_at,
              coalesce(q.claimed_until > now(), false) AS in_flight
         FROM relay_queue q JOIN relay_queue_recipients r ON r.job_id = q.job_id
        WHERE q.job_id = ANY($1::text[])`,
      [jobIds],
    );
    const key = (jobId: string, address: string) => `${jobId}\n${address.toLowerCase()}`;
    const outcomeOf = new Map(outcomes.rows.map((o) => [key(o.job_id, o.recipient), o]));
    const deferredOf = new Map(deferred.rows.map((d) => [key(d.job_id, d.recipient), d]));
    for (const job of relayJobs) {
      for (const { recipient, address } of job.targets) {
        const forwarded = address.toLowerCase() !== recipient;
        const outcome = outcomeOf.get(key(job.jobId, address));
        const waiting = deferredOf.get(key(job.jobId, address));
        if (outcome?.outcome === 'delivered') {
          add(recipient, {
            kind: 'relayed',
            address,
            forwarded,
            reply: outcome.reply,
            attempts: outcome.attempts,
            at: outcome.at,
          });
        } else if (outcome) {
          add(recipient, {
            kind: 'bounced',
            address,
            forwarded,
            outcome: outcome.outcome,
            reply: outcome.reply,
            attempts: outcome.attempts,
            at: outcome.at,
          });
        } else if (waiting?.in_flight) {
          add(recipient, {
            kind: 'attempting',
            address,
            forwarded,
            reply: waiting.reply,
            attempts: waiting.attempts,
          });
        } else if (waiting) {
          add(recipient, {
            kind: 'deferred',
            address,
            forwarded,
            reply: waiting.reply,
            attempts: waiting.attempts,
            nextAttemptAt: waiting.next_attempt_at,
            expiresAt: waiting.expires_at,
          });
        } else {
          add(recipient, { kind: 'queued', address, forwarded });
        }
      }
    }
  }
  return [...fates].map(([recipient, list]) => ({ recipient, fates: list }));
}

/**
 * Dead letters carrying the event: a MailAccepted holds its event id, an OutboundMessage its original
 * event id, both as plain protobuf string bytes, so a byte search finds them without decoding every
 * letter. Event ids are UUIDs, which no other field of a letter repeats by chance.
 */
async function deadLettersOf(pool: Pool, eventId: string): Promise<JourneyDeadLetter[]> {
  const { rows } = await pool.query<JourneyDeadLetter>(
    `SELECT id::text AS id, consumer_group AS "group", topic, error, attempts, failed_at AS "failedAt",
            replay_count AS "replayCount"
       FROM dead_letters WHERE position(convert_to($1, 'UTF8') IN value) > 0 ORDER BY id LIMIT 20`,
    [eventId],
  );
  return rows;
}
