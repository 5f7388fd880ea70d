import { continuation, isIdleDone, untaggedStatus } from '@correo/imap-proto';
import type { IdleRequest } from '@correo/imap-proto';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { bad, ok } from '../command-context.js';
import { imapMetrics } from '../metrics.js';

/**
 * IDLE (RFC 2177): changes announced on the account's notify channel (from any pod) are read from the
 * store and pushed at once, with what NOTIFY (RFC 5465) reports about other mailboxes. A keepalive "* OK" holds NAT state; idling pauses the autologout timer.
 */
export async function idle(ctx: AuthenticatedContext, _request: IdleRequest): Promise<Completion> {
  const { session, io, services } = ctx;
  await io.write(continuation('idling'));
  io.setIdling(true);
  let pushing: Promise<void> = Promise.resolve();
  const queue = (work: () => Promise<void>) => {
    pushing = pushing.then(work).catch((error: Error) => {
      services.logger.debug({ error: error.message }, 'IDLE update not sent');
    });
  };
  // A change heard of is re-read unforced, so the read may be shared with every other session of the
  // mailbox that heard the same (a delivery wakes them all).
  session.onChange = () => queue(() => session.pushUpdates({ idling: true }));
  if (session.state === 'selected') queue(() => session.sync({ force: true, expungesAllowed: true }));
  const keepalive = setInterval(
    () => queue(() => io.write(untaggedStatus('OK', 'Still here'))),
    services.config.idleKeepaliveMs,
  );
  let line: Buffer;
  imapMetrics.idleSessions.inc();
  try {
    line = await io.readLine();
  } finally {
    imapMetrics.idleSessions.dec();
    clearInterval(keepalive);
    session.onChange = null;
    io.setIdling(false);
    await pushing;
  }
  if (!isIdleDone(line)) return bad('Expected DONE to end IDLE');
  return ok('IDLE terminated');
}
