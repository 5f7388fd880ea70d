import type { CloseRequest, UnselectRequest } from '@correo/imap-proto';
import type { Completion, SelectedContext } from '../command-context.js';
import { ok } from '../command-context.js';
import { expungeDeleted } from '../expunge-deleted.js';

/** CLOSE expunges silently (when read-write); UNSELECT (RFC 3691) leaves the mailbox as it is. */
export async function close(
  ctx: SelectedContext,
  request: CloseRequest | UnselectRequest,
): Promise<Completion> {
  if (request.command === 'CLOSE' && !ctx.view.readOnly) await expungeDeleted(ctx, null);
  ctx.session.unselect(ctx.account);
  return ok(`${request.command} completed`);
}
