import type { ExpungeRequest } from '@correo/imap-proto';
import type { Completion, SelectedContext } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { expungeDeleted } from '../expunge-deleted.js';

/** EXPUNGE and UID EXPUNGE (UIDPLUS); QRESYNC clients get VANISHED instead of EXPUNGE responses. */
export async function expunge(ctx: SelectedContext, request: ExpungeRequest): Promise<Completion> {
  const view = ctx.view;
  if (view.readOnly) return no('The mailbox is read-only', { code: 'READ-ONLY' });
  const only = request.uids ? view.resolve(request.uids, true) : null;
  await expungeDeleted(ctx, only);
  const responses = view.expungeResponses(ctx.session.qresync);
  if (responses.length) await ctx.io.write(...responses);
  return ok(`${request.uid ? 'UID EXPUNGE' : 'EXPUNGE'} completed`);
}
