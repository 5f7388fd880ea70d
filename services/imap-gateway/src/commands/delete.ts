import type { DeleteRequest } from '@correo/imap-proto';
import { deleteImapMailbox } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { announceMailboxListChange } from '../notifications.js';

export async function deleteMailbox(ctx: AuthenticatedContext, request: DeleteRequest): Promise<Completion> {
  if (request.mailbox === 'INBOX') return no('INBOX cannot be deleted', { code: 'CANNOT' });
  if (ctx.view?.name === request.mailbox) {
    return no('Unselect the mailbox before deleting it', { code: 'INUSE' });
  }
  const outcome = await deleteImapMailbox(ctx.services.pool, ctx.account.accountId, request.mailbox);
  if (outcome === 'nonexistent') return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  if (outcome === 'has-children') return no('Delete its children first', { code: 'HASCHILDREN' });
  await announceMailboxListChange(ctx);
  return ok('DELETE completed');
}
