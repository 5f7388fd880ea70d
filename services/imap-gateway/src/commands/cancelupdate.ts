import type { CancelUpdateRequest } from '@correo/imap-proto';
import type { Completion, SelectedContext } from '../command-context.js';
import { bad, ok } from '../command-context.js';

/** CANCELUPDATE (RFC 5267 4.3.5): the named results are no longer kept updated. */
export function cancelUpdate(ctx: SelectedContext, request: CancelUpdateRequest): Promise<Completion> {
  const unknown = request.tags.filter((tag) => !ctx.view.updateContexts.has(tag));
  if (unknown.length)
    return Promise.resolve(bad(`No result kept updated for tag ${unknown[0]!.slice(0, 40)}`));
  for (const tag of request.tags) ctx.view.updateContexts.delete(tag);
  return Promise.resolve(ok('CANCELUPDATE completed'));
}
