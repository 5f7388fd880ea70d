import type { CreateRequest } from '@correo/imap-proto';
import { createImapMailbox } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { announceMailboxListChange } from '../notifications.js';
import { storedMailboxName } from '../mailbox-names.js';
import { mailboxObjectId } from '../object-ids.js';

const SPECIAL_USES = new Set(['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash']);

/** CREATE, with CREATE-SPECIAL-USE (RFC 6154 3): one special use per folder. */
export async function create(ctx: AuthenticatedContext, request: CreateRequest): Promise<Completion> {
  const name = storedMailboxName(request.mailbox);
  if (name === null) return no(`${request.mailbox} is not a valid mailbox name`, { code: 'CANNOT' });
  if (name === 'INBOX') return no('INBOX always exists', { code: 'ALREADYEXISTS' });
  const uses = request.specialUse.map((use) =>
    [...SPECIAL_USES].find((u) => u.toLowerCase() === use.toLowerCase()),
  );
  if (uses.some((use) => use === undefined) || uses.length > 1) {
    return no('Only one of \\All \\Archive \\Drafts \\Flagged \\Junk \\Sent \\Trash', { code: 'CANNOT' });
  }
  const outcome = await createImapMailbox(ctx.services.pool, ctx.account.accountId, name, uses[0] ?? null);
  if (outcome.kind === 'exists') return no(`${name} already exists`, { code: 'ALREADYEXISTS' });
  await announceMailboxListChange(ctx);
  return ok('CREATE completed', { code: 'MAILBOXID', id: mailboxObjectId(outcome.id) });
}
