import { canonicalFlag } from '@correo/imap-proto';
import type { AppendRequest } from '@correo/imap-proto';
import { Readable } from 'node:stream';
import { appendImapMessages, writeReferencingStoredBlobs } from '@correo/store';
import type { ImapAppendRequest, ImapMailbox, StoredBody } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { bad, no, ok } from '../command-context.js';
import { refuseKeywords } from '../keywords.js';
import { heldMessageFacts, storeAppendedMessage, streamedMessageFacts } from '../message-facts.js';

/** APPEND (and MULTIAPPEND): blob, MIME analysis, then one transaction for all; APPENDUID (UIDPLUS). */
export async function append(ctx: AuthenticatedContext, request: AppendRequest): Promise<Completion> {
  const { session, services } = ctx;
  const accountId = ctx.account.accountId;
  const limit = services.config.appendLimit;
  // The session's lookup of the name (no statement when it looked it up before); the APPEND's statement
  // checks the name again, and a mailbox renamed or deleted since is looked up once more.
  let mailbox = await session.findMailbox(ctx.account, request.mailbox);
  if (!mailbox) return no(`No mailbox named ${request.mailbox}`, { code: 'TRYCREATE' });
  // A streamed literal reads as {0} in the command: its octets are in the upload, in the same order.
  const uploads = [...ctx.uploads];
  const parts = request.messages.map((message) => ({
    message,
    upload: message.content.length === 0 ? uploads.shift() : undefined,
  }));
  const size = (p: (typeof parts)[number]) => p.upload?.size ?? p.message.content.length;
  if (parts.some((p) => size(p) > limit)) {
    return no(`Messages are limited to ${limit} octets`, { code: 'TOOBIG' });
  }
  if (parts.some((p) => size(p) === 0)) return no('An empty message cannot be stored');
  if (parts.some((p) => p.upload?.containsNul && !p.message.binary)) {
    return bad('A literal cannot hold NUL bytes; use a binary literal (~{n})');
  }
  const refused = await refuseKeywords(
    ctx,
    mailbox.id,
    request.messages.flatMap((m) => m.flags ?? []),
  );
  if (refused) return refused;
  const messages: ImapAppendRequest['messages'][number][] = [];
  // Small bodies held in memory are kept in PostgreSQL by the APPEND's statement (no blob file).
  const bodies: StoredBody[] = [];
  for (const { message, upload } of parts) {
    const internalDate = message.internalDate ?? new Date();
    const inDatabase = !upload && message.content.length <= services.config.databaseBodyBytes;
    const facts = upload
      ? await streamedMessageFacts(upload, internalDate)
      : inDatabase
        ? await heldMessageFacts(message.content, internalDate)
        : await storeAppendedMessage(services.blobs, message.content, internalDate, limit);
    if (inDatabase) bodies.push({ blobKey: facts.blobKey, bytes: message.content });
    if (message.internalZone !== undefined) facts.internalZone = message.internalZone;
    const flags = (message.flags ?? []).map(canonicalFlag).filter((flag) => flag !== '\\Recent');
    messages.push({ facts, flags });
  }
  // Into the mailbox this session has selected read-write: an IMAP4rev1 session claims the messages as
  // \Recent in the APPEND itself (see appendImapMessages), and the view takes them without a re-read.
  const selected = (target: ImapMailbox) =>
    ctx.view?.mailboxId === target.id && !ctx.view.readOnly ? ctx.view : null;
  let claimRecentFrom: number | undefined;
  // The same bytes may have been expunged earlier and collected between our put and our insert: then
  // they are stored again and the insert retried (libs/store blob-collection.ts).
  const file = (target: ImapMailbox) => {
    const view = selected(target);
    claimRecentFrom = view && !session.rev2 ? view.uidnext : undefined;
    return writeReferencingStoredBlobs(
      services.pool,
      async (blobKey) => {
        const part = parts[messages.findIndex((m) => m.facts.blobKey === blobKey)];
        if (!part) throw new Error(`APPEND was refused a blob it did not store: ${blobKey}`);
        const { message, upload } = part;
        // A streamed body is no longer held: it cannot be stored again, the client sends it again.
        if (upload) throw new StreamedBlobCollected();
        // A body kept in the database is written again by the retried statement itself.
        if (bodies.some((b) => b.blobKey === blobKey)) return;
        await services.blobs.put(Readable.from([message.content]), { maxBytes: limit });
      },
      () =>
        appendImapMessages(services, {
          accountId,
          mailboxId: target.id,
          mailboxName: target.name,
          messages,
          claimRecentFrom,
          bodies,
        }),
      messages.length,
    );
  };
  let outcome;
  try {
    outcome = await file(mailbox);
    if (outcome.kind === 'nonexistent') {
      mailbox = await session.findMailbox(ctx.account, request.mailbox, true);
      if (mailbox) {
        const refusedThere = await refuseKeywords(
          ctx,
          mailbox.id,
          request.messages.flatMap((m) => m.flags ?? []),
        );
        if (refusedThere) return refusedThere;
        outcome = await file(mailbox);
      }
    }
  } catch (error) {
    if (!(error instanceof StreamedBlobCollected)) throw error;
    return no('The stored message was collected before it was filed; send it again', {
      code: 'UNAVAILABLE',
    });
  }
  if (outcome.kind === 'nonexistent' || !mailbox)
    return no(`No mailbox named ${request.mailbox}`, { code: 'TRYCREATE' });
  if (outcome.kind === 'over-quota') return no('The mailbox is over its quota', { code: 'OVERQUOTA' });
  // The bytes just stored: a client reads back what it appended (a Sent copy, a draft) from memory.
  for (const body of bodies) services.bodyCache.put(body.blobKey, body.bytes);
  const view = selected(mailbox);
  if (ctx.view?.mailboxId === mailbox.id) {
    const held =
      view !== null &&
      (claimRecentFrom === undefined || outcome.recentClaimed) &&
      view.noteOwnAppend(
        outcome.uids,
        outcome.modseq,
        messages.map((m) => [...new Set(m.flags)].sort()),
        outcome.recentClaimed,
      );
    if (!held) {
      if (outcome.recentClaimed) view?.noteClaimedAhead(outcome.uids);
      session.dirty = true;
    }
  }
  return ok('APPEND completed', { code: 'APPENDUID', uidValidity: outcome.uidvalidity, uids: outcome.uids });
}

/** The collector removed a streamed APPEND body between its upload and its insert (a rare race). */
class StreamedBlobCollected extends Error {}
