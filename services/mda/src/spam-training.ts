import { buffer } from 'node:stream/consumers';
import type { BlobStore } from '@correo/blobs';
import {
  claimSpamTrainingJobs,
  completeSpamTrainingJob,
  retrySpamTrainingJob,
  type Pool,
  type SpamTrainingJob,
} from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { mdaMetrics } from './metrics.js';
import { startPeriodic } from './periodic.js';

/*
 * Rspamd learns from the user (docs/spam.md, "Training"): a COPY/MOVE into Junk queues the message as
 * spam, out of Junk as ham (libs/store copyImapMessages, in the command's own transaction). This loop
 * works that queue against Rspamd's controller (/learnspam, /learnham), so the IMAP command never
 * waits on Rspamd and a learn survives a crash or an Rspamd outage (retried with back-off).
 */

export interface SpamTrainingSettings {
  /** Rspamd's controller, e.g. http://127.0.0.1:11334. */
  controllerUrl: string;
  password: string;
  /** How often the queue is looked at. */
  intervalMs: number;
  /** One learn request (upload and answer). */
  timeoutMs: number;
  /** Failed learns of one message before it is dropped (logged, counted). */
  maxAttempts: number;
}

export interface SpamTraining {
  /** Works every due job now; resolves to how many Rspamd learned (not those it skipped). */
  runOnce(): Promise<number>;
  close(): Promise<void>;
}

/** Jobs claimed per round, and how long a claim keeps other pods off them. */
const BATCH = 20;
const LEASE_SECONDS = 300;

export function startSpamTraining(deps: {
  pool: Pool;
  blobs: BlobStore;
  logger: Logger;
  settings: SpamTrainingSettings;
}): SpamTraining {
  const { pool, blobs, settings } = deps;
  const logger = deps.logger.child({ component: 'spam-training' });
  let closed = false;

  /** 'learned' (200, or 208: it had learned this message before) or 'skipped' (204: too little text). */
  async function learn(job: SpamTrainingJob): Promise<'learned' | 'skipped'> {
    // Whole in memory: one message at a time per pod (smtp-ingress caps its size).
    const body = await buffer(await blobs.get(job.blobKey));
    const response = await fetch(new URL(`/learn${job.spamClass}`, settings.controllerUrl), {
      method: 'POST',
      headers: { Password: settings.password },
      body,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    const answer = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${answer.slice(0, 200)}`);
    // Rspamd's learn condition may also decline (Bayes already sure of the class): done either way.
    return response.status === 204 ? 'skipped' : 'learned';
  }

  async function work(): Promise<number> {
    let learned = 0;
    for (;;) {
      const jobs = await claimSpamTrainingJobs(pool, BATCH, LEASE_SECONDS);
      for (const job of jobs) {
        const fields = {
          jobId: job.id,
          accountId: job.accountId,
          messageId: job.messageId,
          class: job.spamClass,
        };
        try {
          const outcome = await learn(job);
          await completeSpamTrainingJob(pool, job.id);
          mdaMetrics.spamTraining.inc({ class: job.spamClass, outcome });
          logger.info({ ...fields, outcome }, 'spam filter trained');
          if (outcome === 'learned') learned++;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (job.attempts >= settings.maxAttempts) {
            await completeSpamTrainingJob(pool, job.id);
            mdaMetrics.spamTraining.inc({ class: job.spamClass, outcome: 'given_up' });
            logger.error({ ...fields, attempts: job.attempts, error: message }, 'spam training given up');
          } else {
            // 30 s, 1 min, 2 min ... at most an hour.
            const retryIn = Math.min(3600, 30 * 2 ** (job.attempts - 1));
            await retrySpamTrainingJob(pool, job.id, message, retryIn);
            mdaMetrics.spamTraining.inc({ class: job.spamClass, outcome: 'retry' });
            logger.warn(
              { ...fields, attempts: job.attempts, retryIn, error: message },
              'spam training failed: will retry',
            );
          }
        }
      }
      if (jobs.length < BATCH || closed) return learned;
    }
  }

  const periodic = startPeriodic(settings.intervalMs, work, (error: unknown) =>
    logger.warn({ err: error }, 'spam training round failed'),
  );
  return {
    runOnce: () => periodic.runOnce(),
    async close() {
      // A long queue stops after the batch in hand.
      closed = true;
      await periodic.close();
    },
  };
}
