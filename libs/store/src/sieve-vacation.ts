import type { Pool } from './pool.js';

/**
 * One vacation reply that is due unless the sender was answered within the period. The mda claims a
 * Sieve redirect the same way, so that a redelivered event is not charged twice for it: `sender` is
 * the redirect's address and `handle` a name of that event's redirect that no other event claims.
 */
export interface VacationClaim {
  accountId: string;
  /** The envelope sender the reply goes to (a redirect: its address); compared case-insensitively. */
  sender: string;
  /** The vacation series (RFC 5230 4.2: :handle, or a hash of the reply's text). */
  handle: string;
  /** The event whose delivery answers: its redelivery answers again with the same reply. */
  eventId: string;
  /** When the message was accepted (the reply's time, the same on every redelivery). */
  at: Date;
  /** RFC 5230 :days, already clamped, in seconds. */
  periodSeconds: number;
}

/**
 * What claimVacationReply found: `first`, this event may send the reply (no reply within the
 * period); `again`, this same event claimed it before and is being delivered again (send the same
 * reply again, but it was counted already); `taken`, another event answered the sender within the
 * period (send nothing).
 */
export type VacationClaimResult = 'first' | 'again' | 'taken';

/**
 * Claims the reply to `sender` (RFC 5230 4.2: once per sender per period) in one atomic statement.
 * Two events from one sender racing on two pods: one of them gets the row.
 */
export async function claimVacationReply(pool: Pool, claim: VacationClaim): Promise<VacationClaimResult> {
  const { rows } = await pool.query<{ previous: string | null }>({
    name: 'correo-sieve-vacation-claim',
    text: `WITH old AS (
             SELECT event_id FROM sieve_vacation_replies
              WHERE account_id = $1 AND sender = lower($2) AND handle = $3
           )
           INSERT INTO sieve_vacation_replies AS r (account_id, sender, handle, replied_at, event_id)
           VALUES ($1, lower($2), $3, $4, $5)
           ON CONFLICT (account_id, sender, handle) DO UPDATE
              SET replied_at = EXCLUDED.replied_at, event_id = EXCLUDED.event_id
            WHERE r.event_id = EXCLUDED.event_id
               OR r.replied_at <= EXCLUDED.replied_at - make_interval(secs => $6)
           RETURNING (SELECT event_id FROM old) AS previous`,
    values: [claim.accountId, claim.sender, claim.handle, claim.at, claim.eventId, claim.periodSeconds],
  });
  if (rows.length === 0) return 'taken';
  return rows[0]!.previous === claim.eventId ? 'again' : 'first';
}

/** Gives back this event's claim (its reply was not sent after all). */
export async function releaseVacationReply(
  pool: Pool,
  accountId: string,
  sender: string,
  handle: string,
  eventId: string,
): Promise<void> {
  await pool.query(
    `DELETE FROM sieve_vacation_replies
      WHERE account_id = $1 AND sender = lower($2) AND handle = $3 AND event_id = $4`,
    [accountId, sender, handle, eventId],
  );
}

/** Forgets replies older than `olderThan` (longer ago than any period): housekeeping. */
export async function pruneVacationReplies(pool: Pool, olderThan: Date): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM sieve_vacation_replies WHERE replied_at < $1', [
    olderThan,
  ]);
  return rowCount ?? 0;
}
