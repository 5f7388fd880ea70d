import { inTransaction } from './transaction.js';
import type { Pool } from './pool.js';

/*
 * The relay's deferred queue (migrations/0006_relay.sql). Every function is one statement or one
 * transaction, so a relay pod that dies anywhere leaves the queue consistent: a claimed job whose
 * pod died simply becomes due again when its lease (the advanced next_attempt_at) runs out.
 */

export type RelayOutcomeKind = 'delivered' | 'bounced' | 'expired' | 'deleted';

export interface RelayRecipientOutcome {
  recipient: string;
  outcome: RelayOutcomeKind;
  reply: string;
}

export interface NewDeferredJob {
  jobId: string;
  originalEventId: string;
  mailFrom: string;
  destinationDomain: string;
  /** The encoded OutboundMessage. */
  job: Uint8Array;
  /** Its body's blob: a reference that keeps the blob collector away while the job waits. */
  blobKey: string;
  /** Attempts made so far. */
  attempts: number;
  queuedAt: Date;
  nextAttemptAt: Date;
  expiresAt: Date;
  lastError: string;
  /** The recipients still to deliver, with the temporary reply each got. */
  recipients: { recipient: string; reply: string }[];
}

export interface RelayQueueEntry {
  /** The row id: admin-api's handle and the pagination key. */
  id: string;
  jobId: string;
  originalEventId: string;
  mailFrom: string;
  senderDomain: string;
  destinationDomain: string;
  job: Buffer;
  attempts: number;
  queuedAt: Date;
  nextAttemptAt: Date;
  expiresAt: Date;
  lastError: string;
  recipients: { recipient: string; lastReply: string }[];
}

interface QueueRow {
  id: string;
  job_id: string;
  original_event_id: string;
  mail_from: string;
  sender_domain: string;
  destination_domain: string;
  job: Buffer;
  attempts: number;
  queued_at: Date;
  next_attempt_at: Date;
  expires_at: Date;
  last_error: string;
  recipients: { recipient: string; last_reply: string }[] | null;
}

const ENTRY = `q.id, q.job_id, q.original_event_id, q.mail_from, q.sender_domain, q.destination_domain, q.job,
  q.attempts, q.queued_at, q.next_attempt_at, q.expires_at, q.last_error,
  (SELECT json_agg(json_build_object('recipient', r.recipient, 'last_reply', r.last_reply) ORDER BY r.recipient)
     FROM relay_queue_recipients r WHERE r.job_id = q.job_id) AS recipients`;

function toEntry(row: QueueRow): RelayQueueEntry {
  return {
    id: String(row.id),
    jobId: row.job_id,
    originalEventId: row.original_event_id,
    mailFrom: row.mail_from,
    senderDomain: row.sender_domain,
    destinationDomain: row.destination_domain,
    job: row.job,
    attempts: row.attempts,
    queuedAt: row.queued_at,
    nextAttemptAt: row.next_attempt_at,
    expiresAt: row.expires_at,
    lastError: row.last_error,
    recipients: (row.recipients ?? []).map((r) => ({ recipient: r.recipient, lastReply: r.last_reply })),
  };
}

function senderDomain(mailFrom: string): string {
  const at = mailFrom.lastIndexOf('@');
  return at === -1 ? '' : mailFrom.slice(at + 1).toLowerCase();
}

/** Queues a job with its pending recipients; idempotent by job id. Resolves true when it was new. */
export async function deferRelayJob(pool: Pool, job: NewDeferredJob): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const inserted = await client.query(
      `INSERT INTO relay_queue (job_id, original_event_id, mail_from, sender_domain, destination_domain, job,
         attempts, queued_at, next_attempt_at, expires_at, last_error, blob_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (job_id) DO NOTHING`,
      [
        job.jobId,
        job.originalEventId,
        job.mailFrom,
        senderDomain(job.mailFrom),
        job.destinationDomain,
        Buffer.from(job.job),
        job.attempts,
        job.queuedAt,
        job.nextAttemptAt,
        job.expiresAt,
        job.lastError,
        job.blobKey,
      ],
    );
    if (inserted.rowCount !== 1) return false;
    for (const { recipient, reply } of job.recipients) {
      await client.query(
        `INSERT INTO relay_queue_recipients (job_id, recipient, last_reply) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [job.jobId, recipient, reply],
      );
    }
    return true;
  });
}

export async function isRelayJobQueued(pool: Pool, jobId: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM relay_queue WHERE job_id = $1', [jobId]);
  return rowCount === 1;
}

/**
 * Takes up to `limit` due jobs for this pod: SKIP LOCKED lets pods claim disjoint sets at once, and
 * pushing next_attempt_at `leaseMs` ahead keeps the claimed jobs away from the others while this
 * pod delivers, without holding a transaction open across SMTP sessions. Counts the attempt.
 */
export async function claimDueRelayJobs(
  pool: Pool,
  options: { limit: number; leaseMs: number },
): Promise<RelayQueueEntry[]> {
  const { rows } = await pool.query<QueueRow>(
    `WITH due AS (
       SELECT job_id FROM relay_queue WHERE next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE relay_queue q
          SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000),
              attempts = q.attempts + 1, updated_at = now()
         FROM due WHERE q.job_id = due.job_id
       RETURNING q.*
     )
     SELECT ${ENTRY} FROM claimed q ORDER BY q.next_attempt_at`,
    [options.limit, options.leaseMs],
  );
  return rows.map(toEntry);
}

/**
 * Records final outcomes (idempotent per job and recipient), removes those recipients from the
 * queue, and the job itself once nobody is left. Works for jobs that were never queued too.
 */
export async function recordRelayOutcomes(
  pool: Pool,
  jobId: string,
  attempts: number,
  outcomes: RelayRecipientOutcome[],
): Promise<void> {
  await inTransaction(pool, async (client) => {
    for (const { recipient, outcome, reply } of outcomes) {
      await client.query(
        `INSERT INTO relay_outcomes (job_id, recipient, outcome, reply, attempts) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (job_id, recipient) DO NOTHING`,
        [jobId, recipient, outcome, reply, attempts],
      );
      await client.query('DELETE FROM relay_queue_recipients WHERE job_id = $1 AND recipient = $2', [
        jobId,
        recipient,
      ]);
    }
    await client.query(
      `DELETE FROM relay_queue q WHERE q.job_id = $1
         AND NOT EXISTS (SELECT 1 FROM relay_queue_recipients r WHERE r.job_id = q.job_id)`,
      [jobId],
    );
  });
}

/** The recipients of a job that already have a final outcome. */
export async function finishedRelayRecipients(pool: Pool, jobId: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ recipient: string }>(
    'SELECT recipient FROM relay_outcomes WHERE job_id = $1',
    [jobId],
  );
  return new Set(rows.map((r) => r.recipient));
}

/** After another temporary failure: when to try next, and what each remaining recipient was told. */
export async function rescheduleRelayJob(
  pool: Pool,
  jobId: string,
  update: { nextAttemptAt: Date; lastError: string; replies: { recipient: string; reply: string }[] },
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      'UPDATE relay_queue SET next_attempt_at = $2, last_error = $3, updated_at = now() WHERE job_id = $1',
      [jobId, update.nextAttemptAt, update.lastError],
    );
    for (const { recipient, reply } of update.replies) {
      await client.query(
        'UPDATE relay_queue_recipients SET last_reply = $3 WHERE job_id = $1 AND recipient = $2',
        [jobId, recipient, reply],
      );
    }
  });
}

export async function relayQueueDepth(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM relay_queue');
  return Number(rows[0]!.n);
}

/** Seconds since the oldest queued job was first accepted for relay (0 when the queue is empty): the age an SRE alerts on. */
export async function relayQueueOldestAgeSeconds(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ age: string | null }>(
    'SELECT EXTRACT(EPOCH FROM now() - min(queued_at)) AS age FROM relay_queue',
  );
  return Math.max(0, Number(rows[0]!.age ?? 0));
}

/** Who asks, for admin-api: null is the operator; a tenant sees the jobs its domains sent. */
export interface RelayQueueScope {
  tenantId: string | null;
}

const SCOPE = `($1::bigint IS NULL OR q.sender_domain IN (SELECT name FROM domains WHERE tenant_id = $1))`;

/** Keyset pagination by id, oldest first; fetches one extra row to tell whether a next page exists. */
export async function listRelayQueue(
  pool: Pool,
  scope: RelayQueueScope,
  page: { limit: number; afterId: string },
): Promise<{ items: RelayQueueEntry[]; nextCursor: string | null }> {
  const { rows } = await pool.query<QueueRow>(
    `SELECT ${ENTRY} FROM relay_queue q WHERE ${SCOPE} AND q.id > $2 ORDER BY q.id LIMIT $3`,
    [scope.tenantId, page.afterId, page.limit + 1],
  );
  const items = rows.slice(0, page.limit).map(toEntry);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > page.limit && last ? last.id : null };
}

export async function getRelayQueueEntry(
  pool: Pool,
  scope: RelayQueueScope,
  id: string,
): Promise<RelayQueueEntry | null> {
  const { rows } = await pool.query<QueueRow>(
    `SELECT ${ENTRY} FROM relay_queue q WHERE ${SCOPE} AND q.id = $2`,
    [scope.tenantId, id],
  );
  return rows[0] ? toEntry(rows[0]) : null;
}

/** Makes a queued job due now; null when no such job is visible to the caller. */
export async function retryRelayJobNow(
  pool: Pool,
  scope: RelayQueueScope,
  id: string,
): Promise<RelayQueueEntry | null> {
  const updated = await pool.query(
    `UPDATE relay_queue q SET next_attempt_at = now(), updated_at = now() WHERE ${SCOPE} AND q.id = $2`,
    [scope.tenantId, id],
  );
  return updated.rowCount === 1 ? getRelayQueueEntry(pool, scope, id) : null;
}

/**
 * Gives up on a queued job without a bounce (an operator's decision); its recipients are recorded
 * as deleted so a redelivered bus job does not send it after all. False when not visible.
 */
export async function deleteRelayJob(pool: Pool, scope: RelayQueueScope, id: string): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ job_id: string; attempts: number }>(
      `SELECT q.job_id, q.attempts FROM relay_queue q WHERE ${SCOPE} AND q.id = $2 FOR UPDATE`,
      [scope.tenantId, id],
    );
    const job = rows[0];
    if (!job) return false;
    await client.query(
      `INSERT INTO relay_outcomes (job_id, recipient, outcome, reply, attempts)
       SELECT job_id, recipient, 'deleted', 'deleted by an administrator', $2 FROM relay_queue_recipients
        WHERE job_id = $1
       ON CONFLICT (job_id, recipient) DO NOTHING`,
      [job.job_id, job.attempts],
    );
    await client.query('DELETE FROM relay_queue WHERE job_id = $1', [job.job_id]);
    return true;
  });
}
