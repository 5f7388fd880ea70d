import { lsubResponse } from '@correo/imap-proto';
import type { LsubRequest } from '@correo/imap-proto';
import { MAILBOX_DELIMITER, listImapMailboxes } from '@correo/store';
import type { CommandContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';
import { listMatcher, tooManyWildcards } from '../mailbox-names.js';

/** IMAP4rev1 LSUB: the subscribed folders matching the pattern. */
export async function lsub(ctx: CommandContext, request: LsubRequest): Promise<Completion> {
  const refused = tooManyWildcards(ctx, request.reference, [request.pattern]);
  if (refused) return refused;
  const mailboxes = await listImapMailboxes(ctx.services.pool, ctx.session.account!.accountId);
  const matches = listMatcher(request.reference, request.pattern);
  const out = mailboxes
    .filter((m) => m.subscribed && matches(m.name))
    .map((m) =>
      lsubResponse({ name: m.name, delimiter: MAILBOX_DELIMITER, attributes: [] }, ctx.session.encodeOptions),
    );
  if (out.length) await ctx.io.write(...out);
  return ok('LSUB completed');
}
