import { canonicalFlag } from '@correo/imap-proto';
import type { AppendRequest } from '@correo/imap-proto';
import { Readable } from 'node:stream';
import { appendImapMessages, findImapMailbox, writeReferencingStoredBlobs } from '@correo/store';
import type { ImapAppendRequest } from '@correo/store';
import type { CommandContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';
import { storeAppendedMessage } from '../message-facts.js';

/** APPEND (and MULTIAPPEND): blob, MIME analysis, then one transaction for all; APPENDUID (UIDPLUS). */
export async function append(ctx: CommandContext, request: AppendRequest): Promise<Completion> {
  const { session, services } = ctx;
  const accountId = session.account!.accountId;
  const limit = services.config.appendLimit;
  const mailbox = await findImapMailbox(services.pool, accountId, request.mailbox);
  if (!mailbox) return no(`No mailbox named ${request.mailbox}`, { code: 'TRYCREATE' });
  if (request.messages.some((m) => m.content.length > limit)) {
    return no(`Messages are limited to ${limit} octets`, { code: 'TOOBIG' });
  }
  if (request.messages.some((m) => m.content.length === 0)) return no('An empty message cannot be stored');
  const messages: ImapAppendRequest['messages'][number][] = [];
  for (const message of request.messages) {
    const facts = await storeAppendedMessage(
      services.blobs,
      message.content,
      message.internalDate ?? new Date(),
      limit,
    );
    if (message.internalZone !== undefined) facts.internalZone = message.internalZone;
    const flags = (message.flags ?? []).map(canonicalFlag).filter((flag) => flag !== '\\Recent');
    messages.push({ facts, flags });
  }
  // The same bytes may have been expunged earlier and collected between our put and our insert: then
  // they are stored again and the insert retried (libs/store blob-collection.ts).
  const outcome = await writeReferencingStoredBlobs(
    services.pool,
    async (blobKey) => {
      const index = messages.findIndex((m) => m.facts.blobKey === blobKey);
      if (index === -1) throw new Error(`APPEND was refused a blob it did not store: ${blobKey}`);
      await services.blobs.put(Readable.from([request.messages[index]!.content]), { maxBytes: limit });
    },
    () => appendImapMessages(services.pool, { accountId, mailboxId: mailbox.id, messages }),
    messages.length,
  );
  if (outcome.kind === 'nonexistent') return no(`No mailbox named ${request.mailbox}`, { code: 'TRYCREATE' });
  if (outcome.kind === 'over-quota') return no('The mailbox is over its quota', { code: 'OVERQUOTA' });
  await services.changes.publish(accountId, {
    mailboxId: mailbox.id,
    uid: outcome.uids[outcome.uids.length - 1]!,
    modseq: outcome.modseq,
    kind: 'append',
  });
  if (session.view?.mailboxId === mailbox.id) session.dirty = true;
  return ok('APPEND completed', { code: 'APPENDUID', uidValidity: outcome.uidvalidity, uids: outcome.uids });
}
