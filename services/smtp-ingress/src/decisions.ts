import type { SMTPServerSession } from 'smtp-server';
import type { Limits } from '@correo/limits';
import { DecisionWriter, type Pool } from '@correo/store';
import type { Decision, DecisionLog, DecisionOutcome, DecisionStage } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { ingressMetrics } from './metrics.js';
import { senderCheckScore, senderChecks } from './session-checks.js';
import type { SmtpReply } from './smtp-reply.js';

export interface IngressDecisionsOptions {
  log: DecisionLog;
  limits: Limits;
  /** Refusals recorded per client address per minute (SMTP_DECISIONS_PER_IP_PER_MINUTE); 0: none. */
  perIpPerMinute: number;
  logger: Logger;
}

/** What a refusal was about beyond the session: the recipient refused at RCPT. */
export interface DecisionFacts {
  /** The MAIL FROM refused (the session's envelope does not have it then). */
  mailFrom?: string;
  recipient?: string;
  symbols?: Record<string, unknown>;
}

/**
 * Every decision of smtp-ingress is visible three ways (docs/spam.md): counted by outcome and reason
 * (correo_smtp_decisions_total, all of them), logged with the reason, and recorded for admin-api's
 * GET /v1/decisions. A refusal flood from one address must not become a write flood: beyond
 * perIpPerMinute refusals per address (counted across pods) the rest are counted only, and logged at
 * debug level.
 */
export class IngressDecisions {
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly options: IngressDecisionsOptions) {}

  /** Waits until every decision so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all(this.writing);
    await this.options.log.flush();
  }

  /** A refusal sent to the client at `stage`. */
  refused(
    listener: string,
    stage: DecisionStage,
    reply: SmtpReply,
    session: SMTPServerSession,
    facts: DecisionFacts = {},
  ): void {
    const outcome: DecisionOutcome =
      reply.reason === 'greylisted' ? 'greylisted' : reply.responseCode >= 500 ? 'rejected' : 'tempfailed';
    this.decide(listener, session, {
      stage,
      outcome,
      reason: reply.reason,
      detail: `${reply.responseCode} ${reply.message}`,
      ...(facts.mailFrom === undefined ? {} : { mailFrom: facts.mailFrom }),
      ...(facts.recipient === undefined ? {} : { recipients: [facts.recipient] }),
      ...(facts.symbols === undefined ? {} : { symbols: facts.symbols }),
    });
  }

  /** Any decision; session facts (client, HELO, envelope, sender-check score) are filled in. */
  decide(
    listener: string,
    session: SMTPServerSession,
    decision: Pick<Decision, 'stage' | 'outcome' | 'reason' | 'detail'> & Partial<Decision>,
  ): void {
    ingressMetrics.decisions.inc({
      listener,
      stage: decision.stage,
      outcome: decision.outcome,
      reason: decision.reason,
    });
    const checks = senderChecks(session);
    const envelope = session.envelope;
    const full: Decision = {
      service: 'smtp-ingress',
      listener,
      clientIp: session.remoteAddress,
      helo: session.hostNameAppearsAs || '',
      ...(envelope?.mailFrom ? { mailFrom: envelope.mailFrom.address } : {}),
      recipients: envelope?.rcptTo.map((rcpt) => rcpt.address) ?? [],
      ...(checks.checks.length > 0
        ? {
            score: senderCheckScore(checks),
            symbols: Object.fromEntries(checks.checks.map((check) => [check.symbol, check.score])),
          }
        : {}),
      ...decision,
    };
    const writing = this.write(full).finally(() => this.writing.delete(writing));
    this.writing.add(writing);
  }

  private async write(decision: Decision): Promise<void> {
    const { logger, limits, perIpPerMinute } = this.options;
    const fields = {
      stage: decision.stage,
      outcome: decision.outcome,
      reason: decision.reason,
      detail: decision.detail,
      clientIp: decision.clientIp,
      recipients: decision.recipients,
    };
    const refusal = decision.outcome !== 'accepted' && decision.outcome !== 'junk';
    if (refusal) {
      let within = perIpPerMinute > 0;
      if (within) {
        try {
          const recent = await limits.increment(`smtp:decisions:${decision.clientIp}`, 60_000);
          within = recent <= perIpPerMinute;
        } catch {
          // Without the shared count the DecisionWriter's own bound still holds.
        }
      }
      if (!within) {
        ingressMetrics.decisionsNotRecorded.inc();
        logger.debug(fields, 'smtp decision (over the per-address record cap)');
        return;
      }
    }
    logger.info(fields, 'smtp decision');
    this.options.log.record(decision);
  }
}

/** The store-backed DecisionLog of a deployment: losses are counted and logged, never thrown. */
export function createDecisionWriter(pool: Pool, logger: Logger): DecisionLog {
  return new DecisionWriter(pool, {
    onLost(count, error) {
      ingressMetrics.decisionsNotRecorded.inc(count);
      logger.warn({ err: error, count }, 'decisions not recorded');
    },
  });
}
