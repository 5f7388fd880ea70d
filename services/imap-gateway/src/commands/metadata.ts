import { metadataResponse } from '@correo/imap-proto';
import type { GetMetadataRequest, SetMetadataRequest } from '@correo/imap-proto';
import { findImapMailbox, readImapMetadata, writeImapMetadata } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';

/** The mailbox a METADATA command names: null for the server (""), else its id; undefined when there is none. */
async function annotated(ctx: AuthenticatedContext, mailbox: string): Promise<string | null | undefined> {
  if (mailbox === '') return null;
  const found = await findImapMailbox(ctx.services.pool, ctx.account.accountId, mailbox);
  return found ? found.id : undefined;
}

/**
 * GETMETADATA (RFC 5464 4.2): the entries asked for, with what lies below them to DEPTH; an asked-for
 * entry that has no value comes back as NIL (as Dovecot answers). Values over MAXSIZE are left out and
 * the largest of them is told in [METADATA LONGENTRIES n].
 */
export async function getMetadata(
  ctx: AuthenticatedContext,
  request: GetMetadataRequest,
): Promise<Completion> {
  const mailboxId = await annotated(ctx, request.mailbox);
  if (mailboxId === undefined) return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  const found = await readImapMetadata(
    ctx.services.pool,
    ctx.account.accountId,
    mailboxId,
    request.entries,
    request.depth,
  );
  const values: Array<{ entry: string; value: Buffer | null }> = [];
  let longest = 0;
  for (const { entry, value } of found) {
    if (request.maxSize !== null && value.length > request.maxSize) longest = Math.max(longest, value.length);
    else values.push({ entry, value });
  }
  const present = new Set(found.map((f) => f.entry));
  for (const entry of new Set(request.entries)) {
    // "/private" and "/shared" themselves never hold a value: only read below them.
    if (!present.has(entry) && entry.lastIndexOf('/') > 0) values.push({ entry, value: null });
  }
  values.sort((a, b) => (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0));
  if (values.length) await ctx.io.write(metadataResponse(request.mailbox, values, ctx.session.encodeOptions));
  if (longest > 0)
    return ok('GETMETADATA completed', { code: 'METADATA', kind: 'LONGENTRIES', value: longest });
  return ok('GETMETADATA completed');
}

/**
 * SETMETADATA (RFC 5464 4.3): all values or none; NIL deletes. Limits per account (IMAP_METADATA_*):
 * a value too large gets [METADATA MAXSIZE n], one entry too many [METADATA TOOMANY]. Other sessions
 * learn of it through the change feed (NOTIFY MailboxMetadataChange / ServerMetadataChange).
 */
export async function setMetadata(
  ctx: AuthenticatedContext,
  request: SetMetadataRequest,
): Promise<Completion> {
  const mailboxId = await annotated(ctx, request.mailbox);
  if (mailboxId === undefined) return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  const { config, pool, changes } = ctx.services;
  const outcome = await writeImapMetadata(
    { pool, changes },
    ctx.account.accountId,
    mailboxId,
    request.values,
    {
      maxEntries: config.metadataMaxEntries,
      maxSize: config.metadataMaxSize,
    },
  );
  if (outcome.kind === 'nonexistent')
    return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  if (outcome.kind === 'maxsize') {
    return no('A value is too large', { code: 'METADATA', kind: 'MAXSIZE', value: outcome.maxSize });
  }
  if (outcome.kind === 'toomany') return no('Too many annotations', { code: 'METADATA', kind: 'TOOMANY' });
  return ok('SETMETADATA completed');
}
