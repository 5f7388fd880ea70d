import type { NotifyRequest } from '@correo/imap-proto';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { bad, no, ok } from '../command-context.js';
import { checkNotify, SessionNotifications, SUPPORTED_EVENTS } from '../notifications.js';

/**
 * NOTIFY (RFC 5465) on the account's change feed: the session reports changes of the mailboxes the
 * event groups name as they happen (between commands, during IDLE, or before a command's tagged
 * response). NOTIFY NONE turns it off; a new NOTIFY SET replaces the one before.
 */
export async function notify(ctx: AuthenticatedContext, request: NotifyRequest): Promise<Completion> {
  const { session, services } = ctx;
  if (request.set === null) {
    session.notifications = null;
    return ok('NOTIFY completed');
  }
  const check = checkNotify(request.set.groups);
  if (check.kind === 'bad') return bad(check.text);
  if (check.kind === 'badevent') {
    return no('Unsupported event', { code: 'BADEVENT', events: [...SUPPORTED_EVENTS] });
  }
  const notifications = await SessionNotifications.start(
    services.pool,
    ctx.account.accountId,
    check,
    services.config.notifyMaxPending,
  );
  if (request.set.status) notifications.initialStatus(ctx.view?.mailboxId ?? null);
  session.notifications = notifications;
  return ok('NOTIFY completed');
}
