import { fetchResponse } from '@correo/imap-proto';
import type { FetchItem, StoreRequest } from '@correo/imap-proto';
import { storeImapFlags } from '@correo/store';
import type { Completion, SelectedContext } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { refuseKeywords } from '../keywords.js';

/** STORE and UID STORE: FLAGS, +FLAGS, -FLAGS (.SILENT), with CONDSTORE UNCHANGEDSINCE. */
export async function store(ctx: SelectedContext, request: StoreRequest): Promise<Completion> {
  const { session, services } = ctx;
  const view = ctx.view;
  const name = request.uid ? 'UID STORE' : 'STORE';
  if (view.readOnly) return no('The mailbox is read-only', { code: 'READ-ONLY' });
  if (request.operation !== 'remove') {
    const refused = await refuseKeywords(ctx, view.mailboxId, request.flags);
    if (refused) return refused;
  }
  if (request.unchangedSince !== null) session.enabled.add('CONDSTORE');
  const uids = view.resolve(request.set, request.uid).filter((uid) => view.isLive(uid));
  const accountId = ctx.account.accountId;
  const result = await storeImapFlags(services, {
    accountId,
    mailboxId: view.mailboxId,
    uids,
    operation: request.operation,
    flags: request.flags,
    unchangedSince: request.unchangedSince === null ? null : Number(request.unchangedSince),
  });
  view.noteOwnFlags(result.current.filter((s) => !result.modified.includes(s.uid)));
  view.noteOwnChange(result.changed[0]?.modseq);
  const changed = new Set(result.changed.map((s) => s.uid));
  const modified = new Set(result.modified);
  const out: Buffer[] = request.silent ? [] : view.announceKeywords(result.current.map((s) => s.flags));
  for (const state of result.current) {
    if (modified.has(state.uid)) continue;
    // .SILENT still owes a CONDSTORE client the new MODSEQ of what it changed (RFC 7162 3.1.3).
    const silentModseq = request.silent && session.condstore && changed.has(state.uid);
    if (request.silent && !silentModseq) continue;
    const items: FetchItem[] = [];
    if (request.uid) items.push({ item: 'UID', uid: state.uid });
    if (!request.silent) items.push({ item: 'FLAGS', flags: view.shownFlags(state.uid, state.flags) });
    if (session.condstore) items.push({ item: 'MODSEQ', modseq: state.modseq });
    out.push(fetchResponse(view.numberOf(state.uid), items));
  }
  if (out.length) await ctx.io.write(...out);
  if (modified.size) {
    const numbers = request.uid ? [...modified] : [...modified].map((uid) => view.numberOf(uid));
    return ok(`Conditional ${name} failed for some messages`, { code: 'MODIFIED', numbers });
  }
  return ok(`${name} completed`);
}
