import { inTransaction } from './transaction.js';
import type { Pool } from './pool.js';
import type { PoolClient } from 'pg';

/*
 * The relay's deferred queue (migrations/0006_relay.sql, 0040_relay_claims.sql). Every function is
 * one statement or one transaction, so a relay pod that dies anywhere leaves the queue consistent: a
 * claimed job whose pod died simply becomes due again when its lease runs out.
 *
 * Claims are fenced: claiming gives the job a fresh token, and the writes of an attempt's result
 * (outcomes, reschedule) take effect only while that token still holds the job. A holder that lost
 * its claim finds out there and records nothing.
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
  /** The trace context its attempts continue (traceparent/tracestate); none unless given. */
  traceHeaders?: Record<string, string>;
}

/** A relay's hold on a queued job: the token its writes must name. */
export interface RelayClaim {
  jobId: string;
  token: string;
}

export interface RelayQueueEntry {
  /** The row id: admin-api's handle and the pagination key. */
  id: string;
  /** Set on entries returned by a claim, and on listed entries a relay holds right now. */
  claimToken: string | null;
  /** Until when the current claim hides the job from other relays; null when nobody holds it. */
  claimedUntil: Date | null;
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
  /** The trace context of the message the job belongs to ({} when it had none). */
  traceHeaders: Record<string, string>;
  /** The sender was told its mail is delayed (a "delayed" DSN): not again. */
  delayNotified: boolean;
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
  claim_token: string | null;
  claimed_until: Date | null;
  trace_headers: Record<string, string>;
  delay_notified: boolean;
}

const ENTRY = `q.id, q.job_id, q.original_event_id, q.mail_from, q.sender_domain, q.destination_domain, q.job,
  q.attempts, q.queued_at, q.next_attempt_at, q.expires_at, q.last_error, q.trace_headers, q.delay_notified,
  CASE WHEN q.claimed_until > now() THEN q.claim_token END AS claim_token,
  CASE WHEN q.claimed_until > now() THEN q.claimed_until END AS claimed_until,
  (SELECT json_agg(json_build_object('recipient', r.recipient, 'last_reply', r.last_reply) ORDER BY r.recipient)
     FROM relay_queue_recipients r WHERE r.job_id = q.job_id) AS recipients`;

function toEntry(row: QueueRow): RelayQueueEntry {
  return {
    id: String(row.id),
    claimToken: row.claim_token,
    claimedUntil: row.claimed_until,
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
    traceHeaders: row.trace_headers ?? {},
    delayNotified: row.delay_notified,
  };
}

function senderDomain(mailFrom: string): string {
  const at = mailFrom.lastIndexOf('@');
  return at === -1 ? '' : mailFrom.slice(at + 1).toLowerCase();
}

/** Queues a job with its pending recipients; idempotent by job id. Resolves true when it was new. */
export async function deferRelayJob(pool: Pool, job: NewDeferredJob): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    if ((await insertJob(client, job)) === null) return false;
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

/** A job fresh from the bus, before its first attempt. */
export type NewRelayJob = Omit<NewDeferredJob, 'attempts' | 'nextAttemptAt' | 'lastError' | 'recipients'> & {
  recipients: string[];
};

/**
 * Enters a job fresh from the bus into the queue already claimed by the caller, for its first
 * attempt: the same fence as a queued job's, so a copy the bus hands to another relay meanwhile
 * (a redelivery, a rebalance) finds the job taken and leaves it. Only recipients without a final
 * outcome are entered. Null when the job is in the queue already, or nobody is left to deliver.
 */
export async function claimNewRelayJob(
  pool: Pool,
  job: NewRelayJob,
  leaseMs: number,
): Promise<{ claim: RelayClaim; pending: string[] } | null> {
  return inTransaction(pool, async (client) => {
    const token = await insertJob(client, { ...job, attempts: 1, lastError: '', recipients: [] }, leaseMs);
    if (token === null) return null;
    const { rows } = await client.query<{ recipient: string }>(
      `INSERT INTO relay_queue_recipients (job_id, recipient)
       SELECT $1, r FROM unnest($2::text[]) WITH ORDINALITY AS t(r, n)
        WHERE NOT EXISTS (SELECT 1 FROM relay_outcomes o WHERE o.job_id = $1 AND o.recipient = t.r)
        ORDER BY n
       ON CONFLICT DO NOTHING RETURNING recipient`,
      [job.jobId, job.recipients],
    );
    if (rows.length === 0) {
      // Redelivered after it was finished: nothing to attempt, and no row to leave behind.
      await client.query('DELETE FROM relay_queue WHERE job_id = $1', [job.jobId]);
      return null;
    }
    const entered = new Set(rows.map((r) => r.recipient));
    return { claim: { jobId: job.jobId, token }, pending: job.recipients.filter((r) => entered.has(r)) };
  });
}

/**
 * The queue row of a job; with `claimLeaseMs`, claimed by the caller until then (due when the lease
 * ends, should the caller die). Resolves the claim token (or '' unclaimed), null when the job is
 * queued already.
 */
async function insertJob(
  client: PoolClient,
  job: Omit<NewDeferredJob, 'nextAttemptAt'> & { nextAttemptAt?: Date },
  claimLeaseMs?: number,
): Promise<string | null> {
  const lease = claimLeaseMs === undefined ? null : claimLeaseMs;
  const { rows } = await client.query<{ claim_token: string | null }>(
    `INSERT INTO relay_queue (job_id, original_event_id, mail_from, sender_domain, destination_domain, job,
       attempts, queued_at, next_attempt_at, expires_at, last_error, blob_key, claim_token, claimed_until,
       trace_headers)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, coalesce(lease.until, $9), $10, $11, $13,
            CASE WHEN lease.until IS NOT NULL THEN gen_random_uuid() END, lease.until, $14::jsonb
       FROM (SELECT now() + make_interval(secs => $12::double precision / 1000) AS until) lease
     ON CONFLICT (job_id) DO NOTHING
     RETURNING claim_token`,
    [
      job.jobId,
      job.originalEventId,
      job.mailFrom,
      senderDomain(job.mailFrom),
      job.destinationDomain,
      Buffer.from(job.job),
      job.attempts,
      job.queuedAt,
      job.nextAttemptAt ?? null,
      job.expiresAt,
      job.lastError,
      lease,
      job.blobKey,
      JSON.stringify(job.traceHeaders ?? {}),
    ],
  );
  return rows[0] ? (rows[0].claim_token ?? '') : null;
}

/** A job nobody holds, or whose holder's lease has run out. */
const UNCLAIMED = `(claimed_until IS NULL OR claimed_until <= now())`;

/**
 * Takes up to `limit` due jobs for this pod: SKIP LOCKED lets pods claim disjoint sets at once, and
 * the lease (`leaseMs`, longer than the attempt may take) keeps the claimed jobs away from the others
 * while this pod delivers, without holding a transaction open across SMTP sessions. Each claim gets
 * a fresh token (the fence of recordRelayOutcomes and rescheduleRelayJob). Counts the attempt.
 */
export async function claimDueRelayJobs(
  pool: Pool,
  options: { limit: number; leaseMs: number },
): Promise<RelayQueueEntry[]> {
  const { rows } = await pool.query<QueueRow>(
    `WITH due AS (
       SELECT job_id FROM relay_queue WHERE next_attempt_at <= now() AND ${UNCLAIMED}
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE relay_queue q
          SET claimed_until = now() + make_interval(secs => $2::double precision / 1000),
              claim_token = gen_random_uuid(),
              -- A relay that dies holding it: the job is due again when the lease ends.
              next_attempt_at = now() + make_interval(secs => $2::double precision / 1000),
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
 * True while `claim` still holds its job (same token, lease not run out). Checked before anything
 * leaves for the remote, so a holder that lost its claim does not send the message again.
 */
export async function holdsRelayClaim(pool: Pool, claim: RelayClaim): Promise<boolean> {
  const { rowCount } = await pool.query(
    'SELECT 1 FROM relay_queue WHERE job_id = $1 AND claim_token = $2 AND claimed_until > now()',
    [claim.jobId, claim.token],
  );
  return rowCount === 1;
}

/**
 * Extends `claim` to `leaseMs` from now (the holder's heartbeat while its attempt runs). True while
 * the claim is the job's: the same token, even past its lease, since a claim nobody has taken over
 * yet was never handed to anyone else (taking over always sets a new token). False once another
 * relay holds the job or it is gone: the holder must stop. The job's next attempt moves along, so
 * should the holder die it is due when the renewed lease ends.
 */
export async function renewRelayClaim(pool: Pool, claim: RelayClaim, leaseMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE relay_queue
        SET claimed_until = now() + make_interval(secs => $3::double precision / 1000),
            next_attempt_at = greatest(next_attempt_at, now() + make_interval(secs => $3::double precision / 1000))
      WHERE job_id = $1 AND claim_token = $2`,
    [claim.jobId, claim.token, leaseMs],
  );
  return rowCount === 1;
}

/**
 * Records final outcomes (idempotent per job and recipient), removes those recipients from the
 * queue, and the job itself once nobody is left. Works for jobs that were never queued too
 * (`claim` undefined). With a claim, nothing is written unless the claim still holds the job (a
 * row lock keeps it so until the commit); resolves false then: another relay owns the job now.
 */
export async function recordRelayOutcomes(
  pool: Pool,
  jobId: string,
  attempts: number,
  outcomes: RelayRecipientOutcome[],
  claim?: RelayClaim,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    if (claim && !(await lockClaimed(client, claim))) return false;
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
    return true;
  });
}

/**
 * Locks the job's row if `claim` still holds it. The lease is not checked here: a holder whose lease
 * ran out but whom nobody has replaced yet still owns the only attempt made, and its result is true.
 */
async function lockClaimed(client: PoolClient, claim: RelayClaim): Promise<boolean> {
  const { rowCount } = await client.query(
    'SELECT 1 FROM relay_queue WHERE job_id = $1 AND claim_token = $2 FOR UPDATE',
    [claim.jobId, claim.token],
  );
  return rowCount === 1;
}

/** The recipients of a job that already have a final outcome. */
export async function finishedRelayRecipients(pool: Pool, jobId: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ recipient: string }>(
    'SELECT recipient FROM relay_outcomes WHERE job_id = $1',
    [jobId],
  );
  return new Set(rows.map((r) => r.recipient));
}

/**
 * Gives a claimed job back, due at once, when its attempt failed before anything was sent (a backend
 * error reading the message): the next queue pass retries it instead of waiting out the lease.
 */
export async function releaseRelayClaim(pool: Pool, claim: RelayClaim): Promise<void> {
  await pool.query(
    // Nothing was decided by the remote, so the claim was not an attempt: the count its claim added
    // is taken back. Otherwise every pass through an outage of the blob store would count one, and
    // the job would come back from it at the end of its retry schedule (RELAY_RETRY_SCHEDULE is
    // indexed by attempts) with an attempt count in its outcome that no remote ever saw.
    `UPDATE relay_queue SET claim_token = NULL, claimed_until = NULL, next_attempt_at = now(), updated_at = now(),
            attempts = greatest(attempts - 1, 0)
      WHERE job_id = $1 AND claim_token = $2`,
    [claim.jobId, claim.token],
  );
}

/**
 * After another temporary failure: when to try next, and what each remaining recipient was told; the
 * claim ends here. False (nothing written) when `claim` no longer holds the job.
 */
export async function rescheduleRelayJob(
  pool: Pool,
  claim: RelayClaim,
  update: {
    nextAttemptAt: Date;
    lastError: string;
    replies: { recipient: string; reply: string }[];
    /** This attempt told the sender its mail is delayed. */
    delayNotified?: boolean;
  },
): Promise<boolean> {
  const { jobId } = claim;
  return inTransaction(pool, async (client) => {
    const updated = await client.query(
      `UPDATE relay_queue SET next_attempt_at = $3, last_error = $4, claim_token = NULL, claimed_until = NULL,
         delay_notified = delay_notified OR $5, updated_at = now() WHERE job_id = $1 AND claim_token = $2`,
      [jobId, claim.token, update.nextAttemptAt, update.lastError, update.delayNotified ?? false],
    );
    if (updated.rowCount !== 1) return false;
    for (const { recipient, reply } of update.replies) {
      await client.query(
        'UPDATE relay_queue_recipients SET last_reply = $3 WHERE job_id = $1 AND recipient = $2',
        [jobId, recipient, reply],
      );
    }
    return true;
  });
}

export async function relayQueueDepth(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM relay_queue');
  return Number(rows[0]!.n);
}

/**
 * Queued jobs per destination domain, the `limit` domains with most first: which remote sites are
 * deferring our mail (bounded, so a spam run to many domains cannot blow up the metric's series).
 */
export async function relayQueueByDomain(pool: Pool, limit: number): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ domain: string; n: string }>(
    `SELECT destination_domain AS domain, count(*) AS n FROM relay_queue
      GROUP BY destination_domain ORDER BY count(*) DESC, destination_domain LIMIT $1`,
    [limit],
  );
  return new Map(rows.map((row) => [row.domain, Number(row.n)]));
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

/** What an operator's action on a queued job did; `in-flight`: a relay holds it right now. */
export type RelayQueueAction<T> =
  { kind: 'done'; value: T } | { kind: 'in-flight'; claimedUntil: Date } | null;

/**
 * Makes a queued job due now; null when no such job is visible to the caller. A job a relay holds
 * right now is left alone (`in-flight`): making it due would hand it to a second relay while the
 * first one still talks to the remote, and that attempt's result decides its next time anyway.
 */
export async function retryRelayJobNow(
  pool: Pool,
  scope: RelayQueueScope,
  id: string,
): Promise<RelayQueueAction<RelayQueueEntry>> {
  const updated = await pool.query(
    `UPDATE relay_queue q SET next_attempt_at = now(), updated_at = now()
      WHERE ${SCOPE} AND q.id = $2 AND ${UNCLAIMED}`,
    [scope.tenantId, id],
  );
  const entry = await getRelayQueueEntry(pool, scope, id);
  if (!entry) return null;
  if (updated.rowCount !== 1 && entry.claimedUntil)
    return { kind: 'in-flight', claimedUntil: entry.claimedUntil };
  return { kind: 'done', value: entry };
}

/**
 * Gives up on a queued job without a bounce (an operator's decision); its recipients are recorded
 * as deleted so a redelivered bus job does not send it after all. Null when not visible; a job in
 * flight is left alone (its attempt may be delivering it right now: "deleted" would be untrue).
 */
export async function deleteRelayJob(
  pool: Pool,
  scope: RelayQueueScope,
  id: string,
): Promise<RelayQueueAction<true>> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ job_id: string; attempts: number; claimed_until: Date | null }>(
      `SELECT q.job_id, q.attempts, CASE WHEN q.claimed_until > now() THEN q.claimed_until END AS claimed_until
         FROM relay_queue q WHERE ${SCOPE} AND q.id = $2 FOR UPDATE`,
      [scope.tenantId, id],
    );
    const job = rows[0];
    if (!job) return null;
    if (job.claimed_until) return { kind: 'in-flight', claimedUntil: job.claimed_until };
    await client.query(
      `INSERT INTO relay_outcomes (job_id, recipient, outcome, reply, attempts)
       SELECT job_id, recipient, 'deleted', 'deleted by an administrator', $2 FROM relay_queue_recipients
        WHERE job_id = $1
       ON CONFLICT (job_id, recipient) DO NOTHING`,
      [job.job_id, job.attempts],
    );
    await client.query('DELETE FROM relay_queue WHERE job_id = $1', [job.job_id]);
    return { kind: 'done', value: true };
  });
}
