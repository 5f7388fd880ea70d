import { renewRelayClaim } from '@correo/store';
import type { Pool, RelayClaim } from '@correo/store';
import type { Logger } from '@correo/telemetry';

/** A claim kept alive while its holder works the job. */
export interface ClaimHeartbeat {
  /**
   * Aborts when this relay can no longer count on the claim: another relay holds the job now, or
   * the lease is about to run out without a renewal (the database unreachable). The attempt stops
   * then (it is part of its deadline), so it never sends while someone else may have the job.
   */
  signal: AbortSignal;
  stop(): void;
}

/**
 * Renews `claim` every third of `leaseMs` (RELAY_CLAIM_LEASE) from `claimedAt` on, so that the lease
 * can be short: a relay that dies leaves its jobs to the others about one lease later, while a live
 * relay's long attempt (a slow remote MTA, a big body read from S3) keeps its job however long the
 * attempt takes. The expiry is reckoned from when each renewal was sent (the database's lease starts
 * later, never earlier), and the signal aborts a sixth of a lease before it, leaving the attempt
 * time to stop before another relay may take the job.
 */
export function holdClaim(
  pool: Pool,
  claim: RelayClaim,
  leaseMs: number,
  logger: Logger,
  claimedAt = Date.now(),
): ClaimHeartbeat {
  const controller = new AbortController();
  let heldUntil = claimedAt + leaseMs;
  let lastRenewal = claimedAt;
  let renewing = false;
  const margin = leaseMs / 6;
  const tick = () => {
    if (controller.signal.aborted) return;
    const now = Date.now();
    if (now >= heldUntil - margin) {
      controller.abort(new Error(`the claim's lease could not be renewed within ${leaseMs} ms`));
      return;
    }
    if (renewing || now - lastRenewal < leaseMs / 3) return;
    renewing = true;
    const sent = now;
    renewRelayClaim(pool, claim, leaseMs)
      .then((held) => {
        lastRenewal = sent;
        if (held) heldUntil = sent + leaseMs;
        else controller.abort(new Error('claim lost: another relay holds the job now'));
      })
      .catch((error: unknown) => {
        // The database away for a moment: tried again at the next tick, until the margin is reached.
        logger.warn({ jobId: claim.jobId, error: (error as Error).message }, 'claim renewal failed');
      })
      .finally(() => (renewing = false));
  };
  const timer = setInterval(tick, Math.max(50, leaseMs / 12));
  timer.unref();
  return {
    signal: controller.signal,
    stop: () => clearInterval(timer),
  };
}
