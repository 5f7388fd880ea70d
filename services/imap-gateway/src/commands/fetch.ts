import { fetchResponseParts, vanishedResponse, viewFetchText } from '@correo/imap-proto';
import type {
  FetchAttribute,
  FetchItem,
  FetchRequest,
  LiteralStream,
  ViewFetchItem,
} from '@correo/imap-proto';
import { StoredShapeError } from '@correo/mime';
import { readImapMessages, readImapVanished, storeImapFlags } from '@correo/store';
import type { ImapMessageRow, ImapMessageState } from '@correo/store';
import type { Completion, SelectedContext } from '../command-context.js';
import { BrokenResponseError, bad, no, ok } from '../command-context.js';
import { readSection } from '../fetch/body-section.js';
import {
  UnknownTransferEncodingError,
  binarySectionSize,
  readBinarySection,
} from '../fetch/binary-section.js';
import { ExtensionItems, isExtensionAttribute, needsStructureForPreview } from '../fetch/extension-items.js';

/** Responses are written together up to this many bytes. */
const FLUSH_BYTES = 256 * 1024;

const WHOLE = { part: [], text: null, fields: [] };
const HEADER = { part: [], text: 'HEADER' as const, fields: [] };
const TEXT = { part: [], text: 'TEXT' as const, fields: [] };

function setsSeen(attribute: FetchAttribute): boolean {
  return (
    (attribute.kind === 'BODY[]' && !attribute.peek) ||
    (attribute.kind === 'BINARY[]' && !attribute.peek) ||
    attribute.kind === 'RFC822' ||
    attribute.kind === 'RFC822.TEXT'
  );
}

function needsStructure(attribute: FetchAttribute): boolean {
  if (attribute.kind === 'BODY' || attribute.kind === 'BODYSTRUCTURE') return true;
  if (attribute.kind === 'RFC822.HEADER' || attribute.kind === 'RFC822.TEXT') return true;
  if (attribute.kind === 'BINARY[]' || attribute.kind === 'BINARY.SIZE') return attribute.part.length > 0;
  if (needsStructureForPreview(attribute)) return true;
  return (
    attribute.kind === 'BODY[]' && (attribute.section.part.length > 0 || attribute.section.text !== null)
  );
}

/**
 * The attributes once each, in the order first asked: `BODY.PEEK[] BODY.PEEK[] ...` must not read the
 * body once per repeat. BODY[s] and BODY.PEEK[s] answer as the same item; the non-PEEK one wins so
 * \Seen is still set.
 */
function distinctAttributes(attributes: FetchAttribute[]): FetchAttribute[] {
  const byKey = new Map<string, FetchAttribute>();
  for (const attribute of attributes) {
    const key = JSON.stringify({ ...attribute, peek: undefined });
    const seen = byKey.get(key);
    if (!seen || ('peek' in seen && seen.peek && 'peek' in attribute && !attribute.peek)) {
      byKey.set(key, attribute);
    }
  }
  return [...byKey.values()];
}

/**
 * FETCH and UID FETCH, with CONDSTORE CHANGEDSINCE and QRESYNC VANISHED. The store is read in batches
 * of IMAP_FETCH_BATCH messages (one query each, JSON columns only when asked for); body sections are
 * ranged reads of the blob, one message at a time, so memory stays bounded by the largest section.
 */
export async function fetch(ctx: SelectedContext, request: FetchRequest): Promise<Completion> {
  const { session, services } = ctx;
  const view = ctx.view;
  const name = request.uid ? 'UID FETCH' : 'FETCH';
  if (request.vanished && (!request.uid || !session.qresync || request.changedSince === null)) {
    return bad('VANISHED needs UID FETCH, CHANGEDSINCE and an enabled QRESYNC');
  }
  const changedSince = request.changedSince === null ? null : Number(request.changedSince);
  if (changedSince !== null || request.attributes.some((a) => a.kind === 'MODSEQ'))
    session.enabled.add('CONDSTORE');
  const accountId = ctx.account.accountId;

  if (request.vanished && changedSince !== null) {
    const vanished = await readImapVanished(
      services.pool,
      view.mailboxId,
      changedSince,
      view.uidRanges(request.set),
    );
    if (vanished.length) await ctx.io.write(vanishedResponse(vanished, true));
  }

  const attributes = distinctAttributes(request.attributes);
  const maxAttributes = services.config.maxFetchAttributes;
  if (attributes.length > maxAttributes) {
    return bad(`A FETCH may ask for at most ${maxAttributes} different items`, { code: 'LIMIT' });
  }
  const uids = view.resolve(request.set, request.uid).filter((uid) => view.isLive(uid));
  const marksSeen = !view.readOnly && attributes.some(setsSeen);
  const wantsFlags = attributes.some((a) => a.kind === 'FLAGS');
  const wantsModseq = changedSince !== null || attributes.some((a) => a.kind === 'MODSEQ');
  const options = {
    envelope: attributes.some((a) => a.kind === 'ENVELOPE'),
    bodystructure: attributes.some(needsStructure),
  };

  if (changedSince === null && attributes.every((a) => VIEW_ATTRIBUTES.has(a.kind))) {
    await fetchFromView(ctx, uids, attributes, request.uid);
    return ok(`${name} completed`);
  }

  for (let i = 0; i < uids.length; i += services.config.fetchBatch) {
    const batch = uids.slice(i, i + services.config.fetchBatch);
    const rows =
      changedSince === null
        ? await readRows(ctx, batch, options)
        : await readImapMessages(services.pool, accountId, view.mailboxId, batch, options);
    const extensions = await ExtensionItems.read(ctx, rows, attributes);
    const seenNow = marksSeen ? await markSeen(ctx, rows) : new Set<number>();
    // A keyword the client was not told of gets FLAGS / PERMANENTFLAGS before the FETCH that shows it.
    const pending: Buffer[] =
      wantsFlags || marksSeen ? view.announceKeywords(rows.map((row) => row.flags)) : [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pending.length) await ctx.io.write(...pending.splice(0));
      pendingBytes = 0;
    };
    for (const row of rows) {
      const n = view.numberOf(row.uid);
      // CHANGEDSINCE is judged on the stored MODSEQ, fresher than the view's.
      if (!n || (changedSince !== null && row.modseq <= changedSince)) continue;
      if (extensions && !extensions.has(row)) continue;
      const items: FetchItem[] = [];
      if (request.uid) items.push({ item: 'UID', uid: row.uid });
      for (const attribute of attributes) {
        if (attribute.kind === 'UID' && request.uid) continue;
        if (extensions && isExtensionAttribute(attribute)) items.push(extensions.item(row, attribute));
        else {
          try {
            items.push(await fetchItem(ctx, row, attribute));
          } catch (error) {
            // RFC 3516 4.3: nothing of the message is sent; the command ends NO [UNKNOWN-CTE].
            if (!(error instanceof UnknownTransferEncodingError)) throw error;
            await flush();
            return no(`${error.message} in UID ${row.uid}`, { code: 'UNKNOWN-CTE' });
          }
        }
      }
      if (seenNow.has(row.uid) && !wantsFlags) {
        items.push({ item: 'FLAGS', flags: view.shownFlags(row.uid, row.flags) });
      }
      if (
        !attributes.some((a) => a.kind === 'MODSEQ') &&
        (wantsModseq || (seenNow.has(row.uid) && session.condstore))
      ) {
        items.push({ item: 'MODSEQ', modseq: row.modseq });
      }
      for (const part of fetchResponseParts(n, items, session.encodeOptions)) {
        if (Buffer.isBuffer(part)) {
          pending.push(part);
          pendingBytes += part.length;
        } else {
          await flush();
          await streamLiteral(ctx, part);
        }
      }
      // One write per batch for small responses; big bodies go out as they come, so memory stays bounded.
      if (pendingBytes >= FLUSH_BYTES) await flush();
    }
    await flush();
  }
  return ok(`${name} completed`);
}

/** What the mailbox view holds for every message: a FETCH of only these needs no SQL. */
const VIEW_ATTRIBUTES = new Set<FetchAttribute['kind']>(['UID', 'FLAGS', 'MODSEQ']);

/**
 * FETCH of UID, FLAGS and MODSEQ (the "what changed" poll every client runs: `FETCH 1:* (UID FLAGS)`)
 * answered from the selected mailbox's view, as Dovecot answers it from its index. The view is first
 * brought up to date when a change was announced, so the answer is as fresh as the store's.
 */
async function fetchFromView(
  ctx: SelectedContext,
  uids: number[],
  attributes: FetchAttribute[],
  byUid: boolean,
): Promise<void> {
  const { session, view } = ctx;
  await session.catchUp();
  const states: ImapMessageState[] = [];
  for (const uid of uids) {
    const state = view.isLive(uid) ? view.stateOf(uid) : undefined;
    if (state) states.push(state);
  }
  const out: Buffer[] = attributes.some((a) => a.kind === 'FLAGS')
    ? view.announceKeywords(states.map((state) => state.flags))
    : [];
  // The lines as one text, turned into bytes once per flush (atoms and numbers only: viewFetchText).
  let text = '';
  for (const state of states) {
    const n = view.numberOf(state.uid);
    if (!n) continue;
    const items: ViewFetchItem[] = [];
    if (byUid) items.push({ item: 'UID', uid: state.uid });
    for (const attribute of attributes) {
      if (attribute.kind === 'UID') {
        if (!byUid) items.push({ item: 'UID', uid: state.uid });
      } else if (attribute.kind === 'FLAGS') {
        items.push({ item: 'FLAGS', flags: view.shownFlags(state.uid, state.flags) });
      } else items.push({ item: 'MODSEQ', modseq: state.modseq });
    }
    text += viewFetchText(n, items);
    if (text.length >= FLUSH_BYTES) {
      out.push(Buffer.from(text, 'utf8'));
      text = '';
      await ctx.io.write(...out.splice(0));
    }
  }
  if (text) out.push(Buffer.from(text, 'utf8'));
  if (out.length) await ctx.io.write(...out);
}

/**
 * The rows of one batch: from the process's message cache and the session's view (brought up to date
 * first, as for FLAGS from the view) when they hold every message of it, else one read of the store,
 * kept in the cache. CHANGEDSINCE always reads the store (it judges the stored MODSEQ).
 */
async function readRows(
  ctx: SelectedContext,
  uids: number[],
  options: { envelope: boolean; bodystructure: boolean },
): Promise<ImapMessageRow[]> {
  const { session, services, view } = ctx;
  const cache = services.messageCache;
  await session.catchUp();
  const rows: ImapMessageRow[] = [];
  for (const uid of uids) {
    const state = view.isLive(uid) ? view.stateOf(uid) : undefined;
    const facts = state && cache.get(view.mailboxId, view.uidvalidity, uid, options);
    if (!state || !facts) break;
    rows.push({ ...facts, uid, modseq: state.modseq, flags: state.flags });
  }
  if (rows.length === uids.length) return rows;
  const read = await readImapMessages(services.pool, ctx.account.accountId, view.mailboxId, uids, options);
  for (const row of read) cache.put(view.mailboxId, view.uidvalidity, row);
  return read;
}

/**
 * Pipes a big section from the blob store to the socket, one chunk at a time: each write waits for
 * the socket to drain, so a slow reader holds back the blob stream instead of filling memory.
 */
async function streamLiteral(ctx: SelectedContext, literal: LiteralStream): Promise<void> {
  let sent = 0;
  for await (const chunk of await literal.open()) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, literal.size - sent));
    if (bytes.length) await ctx.io.write(bytes);
    sent += bytes.length;
  }
  // The "{n}" is out: a blob shorter than its record cannot be answered any more, only cut off.
  if (sent !== literal.size)
    throw new BrokenResponseError(`blob ended after ${sent} of ${literal.size} octets`);
}

/** BODY[] without PEEK, RFC822 and RFC822.TEXT set \Seen (RFC 9051 6.4.5); the rows get the new flags. */
async function markSeen(ctx: SelectedContext, rows: ImapMessageRow[]): Promise<Set<number>> {
  const unseen = rows.filter((row) => !row.flags.includes('\\Seen')).map((row) => row.uid);
  if (unseen.length === 0) return new Set();
  const view = ctx.view;
  const accountId = ctx.account.accountId;
  const result = await storeImapFlags(ctx.services, {
    accountId,
    mailboxId: view.mailboxId,
    uids: unseen,
    operation: 'add',
    flags: ['\\Seen'],
  });
  view.noteOwnFlags(result.changed);
  view.noteOwnChange(result.changed[0]?.modseq);
  const byUid = new Map(result.changed.map((s) => [s.uid, s]));
  for (const row of rows) {
    const state = byUid.get(row.uid);
    if (state) {
      row.flags = state.flags;
      row.modseq = state.modseq;
    }
  }
  return new Set(byUid.keys());
}

/** What ENVELOPE and BODYSTRUCTURE are served from; a row without it cannot answer them. */
function stored<T>(value: T | null | undefined, what: StoredShapeError['what'], uid: number): T {
  if (value === null || value === undefined) throw new StoredShapeError(what, `none stored for UID ${uid}`);
  return value;
}

async function fetchItem(
  ctx: SelectedContext,
  row: ImapMessageRow,
  attribute: FetchAttribute,
): Promise<FetchItem> {
  const blobs = ctx.services.blobs;
  const message = {
    blobKey: row.blobKey,
    size: row.size,
    structure: row.bodystructure ?? null,
  };
  switch (attribute.kind) {
    case 'UID':
      return { item: 'UID', uid: row.uid };
    case 'FLAGS':
      return { item: 'FLAGS', flags: ctx.view.shownFlags(row.uid, row.flags) };
    case 'INTERNALDATE':
      return { item: 'INTERNALDATE', date: row.internalDate };
    case 'RFC822.SIZE':
      return { item: 'RFC822.SIZE', size: row.size };
    case 'MODSEQ':
      return { item: 'MODSEQ', modseq: row.modseq };
    case 'ENVELOPE':
      return { item: 'ENVELOPE', envelope: stored(row.envelope, 'envelope', row.uid) };
    case 'BODY':
    case 'BODYSTRUCTURE':
      return { item: attribute.kind, structure: stored(message.structure, 'bodystructure', row.uid) };
    case 'RFC822':
      return { item: 'RFC822', data: await readSection(blobs, message, WHOLE, null, ctx.services.bodyCache) };
    case 'RFC822.HEADER':
      return {
        item: 'RFC822.HEADER',
        data: await readSection(blobs, message, HEADER, null, ctx.services.bodyCache),
      };
    case 'RFC822.TEXT':
      return {
        item: 'RFC822.TEXT',
        data: await readSection(blobs, message, TEXT, null, ctx.services.bodyCache),
      };
    case 'BINARY[]':
      return {
        item: 'BINARY[]',
        part: attribute.part,
        origin: attribute.partial ? attribute.partial.offset : null,
        data: await readBinarySection(blobs, message, attribute.part, attribute.partial),
      };
    case 'BINARY.SIZE':
      return {
        item: 'BINARY.SIZE',
        part: attribute.part,
        size: await binarySectionSize(blobs, message, attribute.part),
      };
    case 'BODY[]':
      return {
        item: 'BODY[]',
        section: attribute.section,
        origin: attribute.partial ? attribute.partial.offset : null,
        data: await readSection(blobs, message, attribute.section, attribute.partial, ctx.services.bodyCache),
      };
    default:
      throw new Error(`unexpected fetch attribute ${attribute.kind}`);
  }
}
