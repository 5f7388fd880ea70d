import { listResponse, statusResponse } from '@correo/imap-proto';
import type { ListEntry, ListRequest } from '@correo/imap-proto';
import {
  MAILBOX_DELIMITER,
  listImapMailboxes,
  listLingeringSubscriptions,
  readImapStatus,
} from '@correo/store';
import type { ImapMailbox } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { ok } from '../command-context.js';
import { statusItems } from '../mailbox-status.js';
import { listMatcher, parentsOfUnlistedSubscriptions, tooManyWildcards } from '../mailbox-names.js';

/** LIST with LIST-EXTENDED selection and return options, SPECIAL-USE, CHILDREN and LIST-STATUS. */
export async function list(ctx: AuthenticatedContext, request: ListRequest): Promise<Completion> {
  const { pool, config } = ctx.services;
  const options = ctx.session.encodeOptions;
  const accountId = ctx.account.accountId;
  if (request.patterns.length === 1 && request.patterns[0] === '' && !request.extended) {
    // RFC 9051 6.3.9: the empty pattern asks for the delimiter and the root.
    await ctx.io.write(
      listResponse({ name: '', delimiter: MAILBOX_DELIMITER, attributes: ['\\Noselect'] }, options),
    );
    return ok('LIST completed');
  }
  const refused = tooManyWildcards(ctx, request.reference, request.patterns);
  if (refused) return refused;
  const mailboxes = await listImapMailboxes(pool, accountId);
  // Every ancestor name of any mailbox: one pass instead of a scan per mailbox.
  const parents = new Set<string>();
  for (const { name } of mailboxes) {
    for (let i = name.indexOf(MAILBOX_DELIMITER); i !== -1; i = name.indexOf(MAILBOX_DELIMITER, i + 1)) {
      parents.add(name.slice(0, i));
    }
  }
  const matchers = request.patterns.map((pattern) => listMatcher(request.reference, pattern));
  const matchesAny = (name: string) => matchers.some((matches) => matches(name));
  const { selection, returns } = request;
  // Subscribed names whose mailbox was deleted (RFC 9051 6.3.7): only the SUBSCRIBED selection shows them.
  const lingeringNames =
    selection.subscribed && !selection.specialUse ? await listLingeringSubscriptions(pool, accountId) : [];
  const withChildInfo =
    selection.subscribed && selection.recursiveMatch
      ? parentsOfUnlistedSubscriptions(
          [...mailboxes, ...lingeringNames.map((name) => ({ name, subscribed: true }))],
          matchesAny,
        )
      : new Set<string>();

  const entries: { mailbox: ImapMailbox; entry: ListEntry }[] = [];
  for (const mailbox of mailboxes) {
    if (!matchesAny(mailbox.name)) continue;
    if (selection.specialUse && !mailbox.specialUse) continue;
    const attributes: string[] = [parents.has(mailbox.name) ? '\\HasChildren' : '\\HasNoChildren'];
    if (mailbox.specialUse) attributes.push(mailbox.specialUse);
    if (mailbox.subscribed && (selection.subscribed || returns.subscribed)) attributes.push('\\Subscribed');
    const entry: ListEntry = { name: mailbox.name, delimiter: MAILBOX_DELIMITER, attributes };
    // RECURSIVEMATCH: a name is listed, subscribed or not, when a subscribed descendant is not.
    if (withChildInfo.has(mailbox.name)) entry.childInfo = ['SUBSCRIBED'];
    else if (selection.subscribed && !mailbox.subscribed) continue;
    entries.push({ mailbox, entry });
  }

  // RFC 5258 3: subscribed names whose mailbox was deleted are still subscribed, and say they do not exist.
  const lingering: ListEntry[] = lingeringNames
    .filter(matchesAny)
    .map((name) => ({ name, delimiter: MAILBOX_DELIMITER, attributes: ['\\NonExistent', '\\Subscribed'] }));

  const statuses =
    returns.status && entries.length
      ? await readImapStatus(
          pool,
          accountId,
          entries.map((e) => e.mailbox.id),
        )
      : null;
  const out: Buffer[] = [];
  for (const { mailbox, entry } of entries) {
    out.push(listResponse(entry, options));
    const found = statuses?.get(mailbox.id);
    if (found && returns.status) {
      out.push(
        statusResponse(
          mailbox.name,
          statusItems(returns.status, found, config.appendLimit, mailbox.id),
          options,
        ),
      );
    }
  }
  for (const entry of lingering) out.push(listResponse(entry, options));
  if (out.length) await ctx.io.write(...out);
  return ok('LIST completed');
}
