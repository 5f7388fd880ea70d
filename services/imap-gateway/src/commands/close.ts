import type { CloseRequest, UnselectRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';
import { expungeDeleted } from '../expunge-deleted.js';

/** CLOSE expunges silently (when read-write); UNSELECT (RFC 3691) leaves the mailbox as it is. */
export async function close(
  ctx: CommandContext,
  request: CloseRequest | UnselectRequest,
): Promise<Completion> {
  if (request.command === 'CLOSE' && !ctx.session.view!.readOnly) await expungeDeleted(ctx, null);
  ctx.session.unselect();
  return ok(`${request.command} completed`);
}
