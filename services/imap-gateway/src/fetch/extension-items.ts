import type { FetchAttribute, FetchItem } from '@correo/imap-proto';
import { PREVIEW_READ_OCTETS, previewPart, previewText } from '@correo/mime';
import { keepImapPreviews, readImapMessageExtras } from '@correo/store';
import type { ImapMessageExtras, ImapMessageRow } from '@correo/store';
import type { SelectedContext } from '../command-context.js';
import { emailObjectId, threadObjectId } from '../object-ids.js';
import { readSpan } from './body-section.js';

type ExtensionAttribute = { kind: 'SAVEDATE' | 'EMAILID' | 'THREADID' } | { kind: 'PREVIEW'; lazy: boolean };

export function isExtensionAttribute(attribute: FetchAttribute): attribute is ExtensionAttribute {
  return (
    attribute.kind === 'SAVEDATE' ||
    attribute.kind === 'EMAILID' ||
    attribute.kind === 'THREADID' ||
    attribute.kind === 'PREVIEW'
  );
}

/** PREVIEW without LAZY may read a message's first text part: the bodystructure says where it is. */
export function needsStructureForPreview(attribute: FetchAttribute): boolean {
  return attribute.kind === 'PREVIEW' && !attribute.lazy;
}

/**
 * SAVEDATE, EMAILID, THREADID and PREVIEW of one FETCH batch: one query for all, only when asked for.
 * A PREVIEW not kept yet is made from its first text part (one ranged read of a few KiB, never the
 * whole message) and kept, so each message's blob is read for it once; PREVIEW (LAZY) gives NIL
 * instead of reading (RFC 8970 4).
 */
export class ExtensionItems {
  private constructor(
    private readonly extras: Map<number, ImapMessageExtras>,
    private readonly previews: Map<number, string>,
  ) {}

  static async read(
    ctx: SelectedContext,
    rows: ImapMessageRow[],
    attributes: FetchAttribute[],
  ): Promise<ExtensionItems | null> {
    if (!attributes.some(isExtensionAttribute)) return null;
    const { pool, blobs } = ctx.services;
    const accountId = ctx.account.accountId;
    const extras = await readImapMessageExtras(
      pool,
      accountId,
      ctx.view.mailboxId,
      rows.map((row) => row.uid),
    );
    const previews = new Map<number, string>();
    if (attributes.some(needsStructureForPreview)) {
      const made = new Map<string, string>();
      for (const row of rows) {
        const extra = extras.get(row.uid);
        if (!extra || extra.preview !== null) continue;
        const text = made.get(extra.messageId) ?? (await makePreview(blobs, row));
        made.set(extra.messageId, text);
        previews.set(row.uid, text);
      }
      await keepImapPreviews(pool, accountId, made);
    }
    return new ExtensionItems(extras, previews);
  }

  /** False for a message expunged between the batch's two reads: it is left out, as if read after. */
  has(row: ImapMessageRow): boolean {
    return this.extras.has(row.uid);
  }

  item(row: ImapMessageRow, attribute: ExtensionAttribute): FetchItem {
    const extra = this.extras.get(row.uid)!;
    switch (attribute.kind) {
      case 'SAVEDATE':
        return { item: 'SAVEDATE', date: extra.savedAt };
      case 'EMAILID':
        return { item: 'EMAILID', id: emailObjectId(extra.messageId) };
      case 'THREADID':
        return { item: 'THREADID', id: threadObjectId(extra.threadRootId) };
      case 'PREVIEW':
        return { item: 'PREVIEW', text: extra.preview ?? this.previews.get(row.uid) ?? null };
    }
  }
}

async function makePreview(
  blobs: SelectedContext['services']['blobs'],
  row: ImapMessageRow,
): Promise<string> {
  const structure = row.bodystructure;
  const part = structure ? previewPart(structure) : null;
  if (!part) return '';
  const limit = part.subtype === 'html' ? PREVIEW_READ_OCTETS.html : PREVIEW_READ_OCTETS.plain;
  const { bodyStart, bodyEnd } = part.offsets;
  const end = Math.min(bodyEnd, bodyStart + limit);
  const raw = await readSpan(blobs, row.blobKey, { start: bodyStart, end });
  return previewText(raw, part, end === bodyEnd);
}
