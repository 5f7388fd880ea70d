import { expungeMessages, searchImapMailbox } from '@correo/store';
import type { SelectedContext } from './command-context.js';

/**
 * Removes the selected mailbox's \Deleted messages (only those the client knows of, and within
 * `onlyUids` for UID EXPUNGE), through the store's one expunge. Returns the UIDs removed; the view
 * holds them as pending expunges for the caller to report (EXPUNGE) or drop (CLOSE).
 */
export async function expungeDeleted(ctx: SelectedContext, onlyUids: number[] | null): Promise<number[]> {
  const { services } = ctx;
  const view = ctx.view;
  const accountId = ctx.account.accountId;
  const deleted = await searchImapMailbox(services.pool, accountId, view.mailboxId, {
    kind: 'flag',
    flag: '\\Deleted',
    set: true,
  });
  const allowed = onlyUids ? new Set(onlyUids) : null;
  const uids = deleted.map((m) => m.uid).filter((uid) => view.isLive(uid) && (!allowed || allowed.has(uid)));
  if (uids.length === 0) return [];
  const result = await expungeMessages(services, { accountId, mailboxId: view.mailboxId, uids });
  view.markExpunged(result.expunged);
  view.noteOwnChange(result.modseq);
  return result.expunged;
}
