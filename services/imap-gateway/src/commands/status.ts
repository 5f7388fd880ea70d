import { statusResponse } from '@correo/imap-proto';
import type { StatusRequest } from '@correo/imap-proto';
import { findImapMailbox, readImapStatus } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { statusItems } from '../mailbox-status.js';

export async function status(ctx: AuthenticatedContext, request: StatusRequest): Promise<Completion> {
  const { pool, config } = ctx.services;
  const accountId = ctx.account.accountId;
  const mailbox = await findImapMailbox(pool, accountId, request.mailbox);
  const found = mailbox && (await readImapStatus(pool, accountId, [mailbox.id])).get(mailbox.id);
  if (!mailbox || !found) return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  await ctx.io.write(
    statusResponse(
      mailbox.name,
      statusItems(request.items, found, config.appendLimit, mailbox.id),
      ctx.session.encodeOptions,
    ),
  );
  return ok('STATUS completed');
}
