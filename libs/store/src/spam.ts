import type pg from 'pg';
import type { Pool } from './pool.js';

/** A domain's own spam thresholds (migration 0320); undefined = the operator's default. */
export interface DomainSpamThresholds {
  rejectScore?: number;
  junkScore?: number;
}

/** The thresholds of the domains named (lowercase A-labels) that have any; others are absent. */
export async function readDomainSpamThresholds(
  pool: Pool,
  domains: readonly string[],
): Promise<Map<string, DomainSpamThresholds>> {
  const found = new Map<string, DomainSpamThresholds>();
  if (domains.length === 0) return found;
  const { rows } = await pool.query<{ name: string; reject_score: number | null; junk_score: number | null }>(
    `SELECT d.name, s.reject_score, s.junk_score FROM domain_spam_settings s
     JOIN domains d ON d.id = s.domain_id WHERE d.name = ANY($1::text[])`,
    [[...new Set(domains.map((d) => d.toLowerCase()))]],
  );
  for (const row of rows) found.set(row.name, thresholds(row));
  return found;
}

export async function getDomainSpamSettings(pool: Pool, domainId: string): Promise<DomainSpamThresholds> {
  const { rows } = await pool.query<{ reject_score: number | null; junk_score: number | null }>(
    'SELECT reject_score, junk_score FROM domain_spam_settings WHERE domain_id = $1',
    [domainId],
  );
  return rows[0] ? thresholds(rows[0]) : {};
}

/** Replaces the domain's thresholds (both unset = back to the defaults). */
export async function putDomainSpamSettings(
  pool: Pool,
  domainId: string,
  settings: DomainSpamThresholds,
): Promise<DomainSpamThresholds> {
  const reject = settings.rejectScore ?? null;
  const junk = settings.junkScore ?? null;
  if (reject === null && junk === null) {
    await pool.query('DELETE FROM domain_spam_settings WHERE domain_id = $1', [domainId]);
    return {};
  }
  await pool.query(
    `INSERT INTO domain_spam_settings (domain_id, reject_score, junk_score) VALUES ($1, $2, $3)
     ON CONFLICT (domain_id) DO UPDATE
       SET reject_score = excluded.reject_score, junk_score = excluded.junk_score, updated_at = now()`,
    [domainId, reject, junk],
  );
  return getDomainSpamSettings(pool, domainId);
}

function thresholds(row: { reject_score: number | null; junk_score: number | null }): DomainSpamThresholds {
  return {
    ...(row.reject_score === null ? {} : { rejectScore: Number(row.reject_score) }),
    ...(row.junk_score === null ? {} : { junkScore: Number(row.junk_score) }),
  };
}

export type SpamClass = 'spam' | 'ham';

/**
 * What a COPY/MOVE teaches the spam filter: into the Junk mailbox (special use \Junk) from any other
 * is spam; out of Junk into any mailbox but Trash is ham (a user emptying Junk into Trash says
 * nothing about the message). Null: nothing to learn.
 */
export function trainingClass(fromSpecialUse: string | null, toSpecialUse: string | null): SpamClass | null {
  const fromJunk = fromSpecialUse === '\\Junk';
  const toJunk = toSpecialUse === '\\Junk';
  if (toJunk && !fromJunk) return 'spam';
  if (fromJunk && !toJunk && toSpecialUse !== '\\Trash') return 'ham';
  return null;
}

/** Queues training jobs inside the caller's transaction (the COPY that asked for them). */
export async function enqueueSpamTraining(
  client: pg.PoolClient,
  accountId: string,
  messageIds: readonly string[],
  spamClass: SpamClass,
): Promise<void> {
  if (messageIds.length === 0) return;
  await client.query(
    `INSERT INTO spam_training_jobs (account_id, message_id, class)
     SELECT $1, m, $3 FROM unnest($2::bigint[]) AS m`,
    [accountId, messageIds, spamClass],
  );
}

/** A claimed training job: learn `blobKey` as `spamClass`, then complete or fail it. */
export interface SpamTrainingJob {
  id: string;
  accountId: string;
  messageId: string;
  spamClass: SpamClass;
  blobKey: string;
  /** Including this one. */
  attempts: number;
}

/**
 * Claims up to `limit` due jobs for `leaseSeconds` (another pod skips them meanwhile; a pod that dies
 * holding them leaves them due again after the lease). No transaction stays open while Rspamd learns.
 */
export async function claimSpamTrainingJobs(
  pool: Pool,
  limit: number,
  leaseSeconds: number,
): Promise<SpamTrainingJob[]> {
  const { rows } = await pool.query<{
    id: string;
    account_id: string;
    message_id: string;
    class: SpamClass;
    blob_key: string;
    attempts: number;
  }>(
    `WITH due AS (
       SELECT id FROM spam_training_jobs WHERE next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
     )
     UPDATE spam_training_jobs j
        SET attempts = j.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
       FROM due, messages m
      WHERE j.id = due.id AND m.account_id = j.account_id AND m.id = j.message_id
     RETURNING j.id, j.account_id, j.message_id, j.class, m.blob_key, j.attempts`,
    [limit, leaseSeconds],
  );
  return rows.map((row) => ({
    id: row.id,
    accountId: row.account_id,
    messageId: row.message_id,
    spamClass: row.class,
    blobKey: row.blob_key,
    attempts: row.attempts,
  }));
}

export async function completeSpamTrainingJob(pool: Pool, id: string): Promise<void> {
  await pool.query('DELETE FROM spam_training_jobs WHERE id = $1', [id]);
}

/** Due again after `retryInSeconds`, with the error kept for the operator. */
export async function retrySpamTrainingJob(
  pool: Pool,
  id: string,
  error: string,
  retryInSeconds: number,
): Promise<void> {
  await pool.query(
    `UPDATE spam_training_jobs SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
     WHERE id = $1`,
    [id, error.slice(0, 1000), retryInSeconds],
  );
}
