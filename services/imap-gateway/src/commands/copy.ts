import { untaggedStatus } from '@correo/imap-proto';
import type { CopyRequest } from '@correo/imap-proto';
import { copyImapMessages, expungeMessages, findImapMailbox } from '@correo/store';
import type { Completion, SelectedContext } from '../command-context.js';
import { no, ok } from '../command-context.js';

/**
 * COPY and MOVE (RFC 6851) with UIDPLUS COPYUID. MOVE is the copy, then the store's expunge of the
 * sources: a crash between the two leaves a copy, never a loss.
 */
export async function copy(ctx: SelectedContext, request: CopyRequest): Promise<Completion> {
  const { session, services } = ctx;
  const view = ctx.view;
  const name = `${request.uid ? 'UID ' : ''}${request.command}`;
  const move = request.command === 'MOVE';
  if (move && view.readOnly) return no('The mailbox is read-only', { code: 'READ-ONLY' });
  const accountId = ctx.account.accountId;
  const target = await findImapMailbox(services.pool, accountId, request.mailbox);
  if (!target) return no(`No mailbox named ${request.mailbox}`, { code: 'TRYCREATE' });
  const uids = view.resolve(request.set, request.uid).filter((uid) => view.isLive(uid));
  if (uids.length === 0) return ok(`${name} completed: nothing to do`);
  const outcome = await copyImapMessages(services, {
    accountId,
    fromMailboxId: view.mailboxId,
    toMailboxId: target.id,
    uids,
  });
  if (outcome.kind === 'nonexistent') return no(`No mailbox named ${request.mailbox}`, { code: 'TRYCREATE' });
  if (target.id === view.mailboxId) session.dirty = true;
  const copyUid = {
    code: 'COPYUID' as const,
    uidValidity: outcome.uidvalidity,
    sourceUids: outcome.sourceUids,
    destinationUids: outcome.destinationUids,
  };
  if (!move) return outcome.sourceUids.length ? ok(`${name} completed`, copyUid) : ok(`${name} completed`);

  const out: Buffer[] = [];
  if (outcome.sourceUids.length) out.push(untaggedStatus('OK', 'Moved', copyUid));
  const expunged = await expungeMessages(services, {
    accountId,
    mailboxId: view.mailboxId,
    uids: outcome.sourceUids,
    kind: 'move',
  });
  view.markExpunged(expunged.expunged);
  out.push(...view.expungeResponses(session.qresync));
  await ctx.io.write(...out);
  return ok(`${name} completed`);
}
