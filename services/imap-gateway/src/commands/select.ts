import {
  existsResponse,
  fetchResponse,
  flagsResponse,
  recentResponse,
  untaggedStatus,
  vanishedResponse,
} from '@correo/imap-proto';
import type { SelectRequest } from '@correo/imap-proto';
import type { ImapMailboxSnapshot } from '@correo/store';
import { claimImapRecent, openImapMailbox, readImapVanished } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { bad, no, ok } from '../command-context.js';
import { MailboxView, SYSTEM_FLAGS } from '../mailbox-view.js';
import { mailboxObjectId } from '../object-ids.js';

/** SELECT and EXAMINE, with the CONDSTORE parameter and QRESYNC resynchronisation (RFC 7162 3.2.5). */
export async function select(ctx: AuthenticatedContext, request: SelectRequest): Promise<Completion> {
  const { session, services } = ctx;
  const accountId = ctx.account.accountId;
  if (request.qresync && !session.qresync) return bad('Enable QRESYNC before using it with SELECT');
  // The session's lookup of the name (no statement when it looked it up before and heard of no change
  // to the account's mailboxes since); reading the mailbox checks the name again.
  let mailbox = await session.findMailbox(ctx.account, request.mailbox);
  const previous = ctx.view;
  // SELECT of the mailbox already selected (read-write), as clients that poll by re-selecting do: the
  // view, brought up to date as FETCH FLAGS would (a statement only when a change was heard of), is the
  // snapshot, instead of reading every message's UID, flags and MODSEQ again. New messages the catch-up
  // claimed as \Recent are this SELECT's claim, as the store's first unclaimed UID had them.
  let reopened: { snapshot: ImapMailboxSnapshot; recent: number[] } | null = null;
  if (previous && mailbox?.id === previous.mailboxId && !previous.readOnly && request.command === 'SELECT') {
    const uidnextBefore = previous.uidnext;
    if (await session.catchUp()) {
      reopened = { snapshot: previous.reopened(), recent: previous.recentFrom(uidnextBefore) };
    }
  }
  let snapshot = reopened?.snapshot ?? null;
  if (!reopened && mailbox) {
    snapshot = await openImapMailbox(services.pool, accountId, mailbox.id, mailbox.name);
    if (!snapshot) {
      // Renamed or deleted since the session looked it up: the name may now be another mailbox's.
      mailbox = await session.findMailbox(ctx.account, request.mailbox, true);
      if (mailbox) snapshot = await openImapMailbox(services.pool, accountId, mailbox.id, mailbox.name);
    }
  }
  if (previous) {
    session.unselect(ctx.account);
    // RFC 7162 3.2.11 / RFC 9051: the previous mailbox is closed before the new one's data comes.
    await ctx.io.write(untaggedStatus('OK', 'Previous mailbox closed', { code: 'CLOSED' }));
  }
  if (request.condstore) session.enabled.add('CONDSTORE');
  if (!mailbox) return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  if (!snapshot) return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  const readOnly = request.command === 'EXAMINE';
  const keywords = snapshot.keywords;
  const view = new MailboxView(mailbox.id, mailbox.name, readOnly, snapshot.uidvalidity, snapshot, keywords);

  if (!session.rev2) {
    // \Recent: SELECT takes the messages no session has seen yet; EXAMINE shows them, claiming nothing.
    // With none unclaimed when the snapshot was read, SELECT writes nothing (the mark only moves up).
    if (reopened) for (const uid of reopened.recent) view.markRecent(uid, uid + 1);
    else if (readOnly) view.markRecent(snapshot.firstRecentUid, snapshot.uidnext);
    else if (snapshot.firstRecentUid < snapshot.uidnext) {
      const claimed = await claimImapRecent(
        services.pool,
        accountId,
        mailbox.id,
        snapshot.uidnext,
        snapshot.firstRecentUid,
      );
      view.markRecent(claimed.from, claimed.to);
    }
  }

  const out: Buffer[] = [flagsResponse([...SYSTEM_FLAGS, ...keywords]), existsResponse(view.exists)];
  if (!session.rev2) {
    out.push(recentResponse(view.recentCount));
    const firstUnseen = snapshot.messages.findIndex((m) => !m.flags.includes('\\Seen'));
    if (firstUnseen >= 0) {
      out.push(untaggedStatus('OK', 'First unseen', { code: 'UNSEEN', value: firstUnseen + 1 }));
    }
  }
  out.push(
    untaggedStatus('OK', readOnly ? 'No permanent flags' : 'Flags permitted', {
      code: 'PERMANENTFLAGS',
      flags: readOnly ? [] : [...SYSTEM_FLAGS, '\\*'],
    }),
    untaggedStatus('OK', 'UIDs valid', { code: 'UIDVALIDITY', value: snapshot.uidvalidity }),
    untaggedStatus('OK', 'Predicted next UID', { code: 'UIDNEXT', value: snapshot.uidnext }),
    untaggedStatus('OK', 'Highest', { code: 'HIGHESTMODSEQ', value: snapshot.highestmodseq }),
    untaggedStatus('OK', 'Mailbox id', { code: 'MAILBOXID', id: mailboxObjectId(mailbox.id) }),
  );
  const resync = request.qresync;
  if (resync && resync.uidValidity === snapshot.uidvalidity) {
    const since = Number(resync.modseq);
    const known = resync.knownUids?.kind === 'set' ? view.uidRanges(resync.knownUids) : null;
    const vanished = await readImapVanished(services.pool, mailbox.id, since, known);
    if (vanished.length) out.push(vanishedResponse(vanished, true));
    for (const [i, m] of snapshot.messages.entries()) {
      if (m.modseq <= since) continue;
      out.push(
        fetchResponse(i + 1, [
          { item: 'UID', uid: m.uid },
          { item: 'FLAGS', flags: view.shownFlags(m.uid, m.flags) },
          { item: 'MODSEQ', modseq: m.modseq },
        ]),
      );
    }
  }
  await ctx.io.write(...out);
  session.select(ctx.account, view);
  return ok(`${request.command} completed`, { code: readOnly ? 'READ-ONLY' : 'READ-WRITE' });
}
