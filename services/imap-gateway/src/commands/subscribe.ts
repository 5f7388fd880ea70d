import type { SubscribeRequest, UnsubscribeRequest } from '@correo/imap-proto';
import { setImapSubscription } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { announceMailboxListChange } from '../notifications.js';

/** SUBSCRIBE and UNSUBSCRIBE: the subscription is a property of an existing folder. */
export async function subscribe(
  ctx: AuthenticatedContext,
  request: SubscribeRequest | UnsubscribeRequest,
): Promise<Completion> {
  const subscribed = request.command === 'SUBSCRIBE';
  const done = await setImapSubscription(
    ctx.services.pool,
    ctx.account.accountId,
    request.mailbox,
    subscribed,
  );
  if (!done) return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  await announceMailboxListChange(ctx);
  return ok(`${request.command} completed`);
}
