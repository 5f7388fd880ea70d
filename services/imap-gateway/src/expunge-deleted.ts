import { expungeMessages } from '@correo/store';
import type { SelectedContext } from './command-context.js';

/**
 * Removes the selected mailbox's \Deleted messages (only those the client knows of, and within
 * `onlyUids` for UID EXPUNGE), through the store's one expunge. Returns the UIDs removed; the view
 * holds them as pending expunges for the caller to report (EXPUNGE) or drop (CLOSE).
 *
 * The candidates come from the view, brought up to date first when a change was announced (as FETCH
 * FLAGS answers from it): a search of the store cost a round trip per EXPUNGE. The store removes a
 * candidate only if it still holds \Deleted under the account lock, so another session's -FLAGS that
 * the view has not heard of yet is respected; a \Deleted set elsewhere and not heard of yet waits for
 * the next EXPUNGE, as it would have had it landed a moment later.
 */
export async function expungeDeleted(ctx: SelectedContext, onlyUids: number[] | null): Promise<number[]> {
  const { services, session } = ctx;
  const view = ctx.view;
  const accountId = ctx.account.accountId;
  // False when the mailbox is gone: nothing to remove, the next update says BYE.
  if (!(await session.catchUp())) return [];
  const allowed = onlyUids ? new Set(onlyUids) : null;
  const uids = view.liveUidsFlagged('\\Deleted').filter((uid) => !allowed || allowed.has(uid));
  if (uids.length === 0) return [];
  const result = await expungeMessages(services, {
    accountId,
    mailboxId: view.mailboxId,
    uids,
    onlyDeleted: true,
  });
  view.markExpunged(result.expunged);
  view.noteOwnChange(result.modseq);
  return result.expunged;
}
