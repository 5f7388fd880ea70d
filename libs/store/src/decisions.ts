import { domainToASCII } from 'node:url';
import type { Pool } from './pool.js';

/*
 * The per-message decision record (migrations/0330_mail_decisions.sql): why mail was refused,
 * delayed, scored or filed to Junk, written by smtp-ingress and the mda, read by admin-api.
 */

export type DecisionStage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'delivery';
export type DecisionOutcome = 'rejected' | 'tempfailed' | 'greylisted' | 'junk' | 'accepted';

export interface Decision {
  /** Default: when it is written. */
  at?: Date;
  service: 'smtp-ingress' | 'mda';
  listener?: string;
  stage: DecisionStage;
  outcome: DecisionOutcome;
  /** A short stable code: 'dnsbl', 'limit:ip-messages', 'greylist', 'dmarc-quarantine'. */
  reason: string;
  /** The reply sent or the explanation, for a human. */
  detail: string;
  clientIp?: string;
  helo?: string;
  /** undefined: the session had not given MAIL FROM; '' is the null reverse-path. */
  mailFrom?: string;
  recipients?: readonly string[];
  messageId?: string;
  eventId?: string;
  score?: number;
  symbols?: Record<string, unknown>;
}

export interface RecordedDecision {
  id: string;
  decidedAt: Date;
  service: string;
  listener: string;
  stage: DecisionStage;
  outcome: DecisionOutcome;
  reason: string;
  detail: string;
  clientIp: string;
  helo: string;
  mailFrom: string | null;
  recipients: string[];
  messageId: string | null;
  eventId: string | null;
  score: number | null;
  symbols: Record<string, unknown>;
}

/** The port smtp-ingress and the mda write through: recording never blocks or fails the mail path. */
export interface DecisionLog {
  record(decision: Decision): void;
  /** Waits until everything recorded so far is written (tests, shutdown). */
  flush(): Promise<void>;
}

/** For deployments and tests that keep no record. */
export const noDecisionLog: DecisionLog = { record() {}, async flush() {} };

// Bounds on client-chosen text, so that a hostile HELO or address cannot make a row large.
const clip = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

function recipientDomain(address: string): string {
  const at = address.lastIndexOf('@');
  const domain = at < 0 ? '' : address.slice(at + 1).toLowerCase();
  return domainToASCII(domain) || domain;
}

/** Writes decisions in one statement. */
export async function recordDecisions(pool: Pool, decisions: readonly Decision[]): Promise<void> {
  if (decisions.length === 0) return;
  const rows = decisions.map((d) => {
    // Lowercased, so that a filter by recipient matches however the client spelt it.
    const recipients = (d.recipients ?? []).slice(0, 100).map((r) => clip(r.toLowerCase(), 400));
    return {
      decided_at: (d.at ?? new Date()).toISOString(),
      service: d.service,
      listener: d.listener ?? '',
      stage: d.stage,
      outcome: d.outcome,
      reason: clip(d.reason, 100),
      detail: clip(d.detail, 1000),
      client_ip: clip(d.clientIp ?? '', 100),
      helo: clip(d.helo ?? '', 300),
      mail_from: d.mailFrom === undefined ? null : clip(d.mailFrom, 400),
      recipients,
      recipient_domains: [...new Set(recipients.map(recipientDomain).filter((x) => x !== ''))],
      message_id: d.messageId === undefined ? null : clip(d.messageId, 1000),
      event_id: d.eventId ?? null,
      score: d.score ?? null,
      symbols: d.symbols ?? {},
    };
  });
  await pool.query(
    `INSERT INTO mail_decisions (decided_at, service, listener, stage, outcome, reason, detail, client_ip,
                                 helo, mail_from, recipients, recipient_domains, message_id, event_id,
                                 score, symbols)
     SELECT decided_at, service, listener, stage, outcome, reason, detail, client_ip, helo, mail_from,
            recipients, recipient_domains, message_id, event_id, score, symbols
       FROM jsonb_to_recordset($1::jsonb) AS r(decided_at timestamptz, service text, listener text,
            stage text, outcome text, reason text, detail text, client_ip text, helo text, mail_from text,
            recipients text[], recipient_domains text[], message_id text, event_id text,
            score double precision, symbols jsonb)`,
    [JSON.stringify(rows)],
  );
}

export interface DecisionQuery {
  messageId?: string;
  eventId?: string;
  recipient?: string;
  clientIp?: string;
  since?: Date;
  limit: number;
}

/**
 * Newest first. A tenant (`tenantId` set) sees the decisions about recipients at its domains only:
 * a refusal at connect time names no recipient and is the operator's alone.
 */
export async function listDecisions(
  pool: Pool,
  scope: { tenantId: string | null },
  query: DecisionQuery,
): Promise<RecordedDecision[]> {
  const { rows } = await pool.query<RecordedDecision>(
    `SELECT d.id::text, d.decided_at AS "decidedAt", d.service, d.listener, d.stage, d.outcome, d.reason,
            d.detail, d.client_ip AS "clientIp", d.helo, d.mail_from AS "mailFrom", d.recipients,
            d.message_id AS "messageId", d.event_id AS "eventId", d.score, d.symbols
       FROM mail_decisions d
      WHERE ($2::text IS NULL OR d.message_id = $2)
        AND ($3::text IS NULL OR d.event_id = $3)
        AND ($4::text IS NULL OR d.recipients @> ARRAY[$4::text])
        AND ($5::text IS NULL OR d.client_ip = $5)
        AND ($6::timestamptz IS NULL OR d.decided_at >= $6)
        AND ($1::bigint IS NULL
             OR EXISTS (SELECT 1 FROM domains t
                         WHERE t.tenant_id = $1 AND t.name = ANY (d.recipient_domains)))
      ORDER BY d.decided_at DESC, d.id DESC
      LIMIT $7`,
    [
      scope.tenantId,
      query.messageId ?? null,
      query.eventId ?? null,
      query.recipient ?? null,
      query.clientIp ?? null,
      query.since?.toISOString() ?? null,
      query.limit,
    ],
  );
  return rows;
}

/** Deletes the decisions made before `before`; returns how many. */
export async function pruneDecisions(pool: Pool, before: Date): Promise<number> {
  const result = await pool.query('DELETE FROM mail_decisions WHERE decided_at < $1', [before.toISOString()]);
  return result.rowCount ?? 0;
}

export interface DecisionWriterOptions {
  /** Decisions held while a write is under way; beyond it new ones are dropped (and reported). */
  maxPending?: number;
  /** A failed write (its decisions are lost, the mail is not) or decisions dropped when full. */
  onLost?: (count: number, error?: Error) => void;
}

/**
 * The PostgreSQL DecisionLog: decisions are queued and written in batches, one write at a time, so
 * the SMTP reply never waits for the database and a burst becomes a few multi-row inserts. The queue
 * is bounded: memory stays bounded however fast decisions come.
 */
export class DecisionWriter implements DecisionLog {
  private pending: Decision[] = [];
  private writing: Promise<void> | undefined;
  private readonly maxPending: number;

  constructor(
    private readonly pool: Pool,
    private readonly options: DecisionWriterOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 1000;
  }

  record(decision: Decision): void {
    if (this.pending.length >= this.maxPending) {
      this.options.onLost?.(1);
      return;
    }
    this.pending.push(decision);
    this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    // Let the decisions of this tick join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, 200);
      try {
        await recordDecisions(this.pool, batch);
      } catch (error) {
        this.options.onLost?.(batch.length, error as Error);
      }
    }
    this.writing = undefined;
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }
}
