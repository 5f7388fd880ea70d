import type { RenameRequest } from '@correo/imap-proto';
import { renameImapMailbox } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { announceMailboxListChange } from '../notifications.js';
import { storedMailboxName } from '../mailbox-names.js';

/** RENAME, children included; renaming INBOX moves its messages to the new folder (RFC 9051 6.3.6). */
export async function rename(ctx: AuthenticatedContext, request: RenameRequest): Promise<Completion> {
  const to = storedMailboxName(request.to);
  if (to === null) return no(`${request.to} is not a valid mailbox name`, { code: 'CANNOT' });
  if (to === 'INBOX') {
    return no('Cannot rename to INBOX', { code: 'ALREADYEXISTS' });
  }
  if (to.startsWith(`${request.from}/`)) return no('Cannot move a mailbox into itself', { code: 'CANNOT' });
  const outcome = await renameImapMailbox(ctx.services.pool, ctx.account.accountId, request.from, to);
  if (outcome === 'nonexistent') return no(`No mailbox named ${request.from}`, { code: 'NONEXISTENT' });
  if (outcome === 'exists') return no(`${to} already exists`, { code: 'ALREADYEXISTS' });
  await announceMailboxListChange(ctx);
  return ok('RENAME completed');
}
