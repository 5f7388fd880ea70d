import { lsubResponse } from '@correo/imap-proto';
import type { LsubRequest } from '@correo/imap-proto';
import { MAILBOX_DELIMITER, listImapMailboxes, listLingeringSubscriptions } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';
import { listMatcher, parentsOfUnlistedSubscriptions, tooManyWildcards } from '../mailbox-names.js';

/** IMAP4rev1 LSUB: the subscribed folders matching the pattern. */
export async function lsub(ctx: AuthenticatedContext, request: LsubRequest): Promise<Completion> {
  const refused = tooManyWildcards(ctx, request.reference, [request.pattern]);
  if (refused) return refused;
  const { pool } = ctx.services;
  const mailboxes = await listImapMailboxes(pool, ctx.account.accountId);
  // Subscribed names whose mailbox was deleted: listed too, as names that cannot be selected.
  const lingering = await listLingeringSubscriptions(pool, ctx.account.accountId);
  const matches = listMatcher(request.reference, request.pattern);
  // RFC 3501 6.3.9: with "%", "foo" stands for a subscribed "foo/bar" the pattern does not reach, and is
  // \Noselect when "foo" itself is not subscribed.
  const parents = parentsOfUnlistedSubscriptions(
    [...mailboxes, ...lingering.map((name) => ({ name, subscribed: true }))],
    matches,
  );
  const out = mailboxes
    .filter((m) => matches(m.name) && (m.subscribed || parents.has(m.name)))
    .map((m) =>
      lsubResponse(
        { name: m.name, delimiter: MAILBOX_DELIMITER, attributes: m.subscribed ? [] : ['\\Noselect'] },
        ctx.session.encodeOptions,
      ),
    );
  for (const name of lingering.filter(matches)) {
    const entry = { name, delimiter: MAILBOX_DELIMITER, attributes: ['\\Noselect'] };
    out.push(lsubResponse(entry, ctx.session.encodeOptions));
  }
  if (out.length) await ctx.io.write(...out);
  return ok('LSUB completed');
}
