import type { BodyStructure } from './types.js';

/** The part a numeric IMAP section path ([1, 2] for "1.2") names, by Dovecot's rules; null if none. */
export function findPart(root: BodyStructure, path: readonly number[]): BodyStructure | null {
  let part = root;
  for (let i = 0; i < path.length; i++) {
    const num = path[i]!;
    const more = i < path.length - 1;
    if (part.kind === 'multipart') {
      const next = part.parts[num - 1];
      if (!next) return null;
      part = next;
    } else if (num !== 1 || (more && part.kind !== 'message')) {
      // A non-multipart body only has part 1: itself.
      return null;
    }
    if (more && part.kind === 'message') part = part.body;
  }
  return part;
}

export type SectionText = 'HEADER' | 'TEXT' | 'MIME';

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The bytes of the raw message that BODY[<path>[.text]] returns (RFC 9051 6.4.5), for a ranged read
 * from the blob store. HEADER.FIELDS and HEADER.FIELDS.NOT filter the HEADER range. Returns null for a
 * section the message does not have (the caller answers with an empty string or NO, as it prefers).
 */
export function sectionRange(
  root: BodyStructure,
  path: readonly number[],
  text?: SectionText,
): ByteRange | null {
  if (path.length === 0) {
    const o = root.offsets;
    if (text === undefined) return { start: o.headerStart, end: o.bodyEnd };
    if (text === 'HEADER') return { start: o.headerStart, end: o.bodyStart };
    if (text === 'TEXT') return { start: o.bodyStart, end: o.bodyEnd };
    return null;
  }
  const part = findPart(root, path);
  if (!part) return null;
  if (text === undefined) return { start: part.offsets.bodyStart, end: part.offsets.bodyEnd };
  if (text === 'MIME') return { start: part.offsets.headerStart, end: part.offsets.bodyStart };
  if (part.kind !== 'message') return null;
  const inner = part.body.offsets;
  return text === 'HEADER'
    ? { start: inner.headerStart, end: inner.bodyStart }
    : { start: inner.bodyStart, end: inner.bodyEnd };
}

/** Parses "1.2.3" into [1, 2, 3]; null when it is not a part number path. */
export function parseSectionPath(section: string): number[] | null {
  if (section === '') return [];
  if (!/^[1-9][0-9]*(\.[1-9][0-9]*)*$/.test(section)) return null;
  return section.split('.').map(Number);
}
