import { namespaceResponse } from '@correo/imap-proto';
import type { NamespaceRequest } from '@correo/imap-proto';
import { MAILBOX_DELIMITER } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';

/** One personal namespace at the root; no shared folders or other users' folders. */
export async function namespace(ctx: AuthenticatedContext, _request: NamespaceRequest): Promise<Completion> {
  await ctx.io.write(
    namespaceResponse([{ prefix: '', delimiter: MAILBOX_DELIMITER }], null, null, ctx.session.encodeOptions),
  );
  return ok('NAMESPACE completed');
}
