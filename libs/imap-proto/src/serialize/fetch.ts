import type { BodyStructure, Envelope } from '@correo/mime';
import type { Section } from '../parse/section.js';
import { bodyStructureValue } from './bodystructure.js';
import { formatDateTime } from './date.js';
import type { EncodeOptions, ImapValue, LiteralStream, ResponsePart } from './encoder.js';
import { atom, messageData, nstr, num, str, untagged, untaggedParts } from './encoder.js';
import { envelopeValue } from './envelope.js';
import { formatSection } from './section.js';

export type FetchItem =
  | { item: 'UID'; uid: number }
  | { item: 'FLAGS'; flags: string[] }
  | { item: 'INTERNALDATE'; date: Date; offsetMinutes?: number }
  | { item: 'RFC822.SIZE'; size: number }
  | { item: 'MODSEQ'; modseq: number | bigint }
  | { item: 'ENVELOPE'; envelope: Envelope }
  | { item: 'BODY' | 'BODYSTRUCTURE'; structure: BodyStructure }
  /** BODY[section]<origin>: `origin` is the partial offset when the client asked for a range. */
  | { item: 'BODY[]'; section: Section; origin: number | null; data: Buffer | LiteralStream | null }
  | { item: 'BINARY[]'; part: number[]; origin: number | null; data: Buffer | LiteralStream | null }
  | { item: 'BINARY.SIZE'; part: number[]; size: number }
  /** SAVEDATE (RFC 8514): NIL for a message whose save date is not kept. */
  | { item: 'SAVEDATE'; date: Date | null }
  /** OBJECTID (RFC 8474): THREADID NIL when the message belongs to no thread the server tracks. */
  | { item: 'EMAILID'; id: string }
  | { item: 'THREADID'; id: string | null }
  /** PREVIEW (RFC 8970): NIL only under LAZY, when it is not at hand. */
  | { item: 'PREVIEW'; text: string | null }
  | { item: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT'; data: Buffer | LiteralStream | null };

function originSuffix(origin: number | null): string {
  return origin === null ? '' : `<${origin}>`;
}

function itemValues(f: FetchItem): ImapValue[] {
  switch (f.item) {
    case 'UID':
      return [atom('UID'), num(f.uid)];
    case 'FLAGS':
      return [atom('FLAGS'), f.flags.map(atom)];
    case 'INTERNALDATE':
      return [atom('INTERNALDATE'), str(formatDateTime(f.date, f.offsetMinutes ?? 0))];
    case 'RFC822.SIZE':
      return [atom('RFC822.SIZE'), num(f.size)];
    case 'MODSEQ':
      return [atom('MODSEQ'), [num(f.modseq)]];
    case 'ENVELOPE':
      return [atom('ENVELOPE'), envelopeValue(f.envelope)];
    case 'BODY':
    case 'BODYSTRUCTURE':
      return [atom(f.item), bodyStructureValue(f.structure, f.item === 'BODYSTRUCTURE')];
    case 'BODY[]':
      return [atom(`BODY[${formatSection(f.section)}]${originSuffix(f.origin)}`), messageData(f.data)];
    case 'BINARY[]': {
      const name = atom(`BINARY[${f.part.join('.')}]${originSuffix(f.origin)}`);
      // literal8 only when needed: plain literals are understood by more clients. Streamed data is
      // not seen before it goes out, so it is always literal8.
      if (f.data !== null && !Buffer.isBuffer(f.data))
        return [name, { type: 'streamed-literal', value: f.data, binary: true }];
      if (f.data !== null && f.data.includes(0)) return [name, { type: 'literal8', value: f.data }];
      return [name, messageData(f.data)];
    }
    case 'BINARY.SIZE':
      return [atom(`BINARY.SIZE[${f.part.join('.')}]`), num(f.size)];
    case 'SAVEDATE':
      return [atom('SAVEDATE'), f.date ? str(formatDateTime(f.date, 0)) : null];
    case 'EMAILID':
      return [atom('EMAILID'), [atom(f.id)]];
    case 'THREADID':
      return [atom('THREADID'), f.id === null ? null : [atom(f.id)]];
    case 'PREVIEW':
      return [atom('PREVIEW'), nstr(f.text)];
    case 'RFC822':
    case 'RFC822.HEADER':
    case 'RFC822.TEXT':
      return [atom(f.item), messageData(f.data)];
  }
}

/** `* n FETCH (UID 7 FLAGS (\Seen) ...)`, items in the order given. */
export function fetchResponse(sequence: number, items: FetchItem[], options: EncodeOptions = {}): Buffer {
  return untagged([num(sequence), atom('FETCH'), items.flatMap(itemValues)], options);
}

/** The same response in pieces, for items whose data is a LiteralStream the server pipes itself. */
export function fetchResponseParts(
  sequence: number,
  items: FetchItem[],
  options: EncodeOptions = {},
): ResponsePart[] {
  return untaggedParts([num(sequence), atom('FETCH'), items.flatMap(itemValues)], options);
}

/** The FETCH items a selected mailbox's view answers alone. */
export type ViewFetchItem = Extract<FetchItem, { item: 'UID' | 'FLAGS' | 'MODSEQ' }>;

/**
 * `* n FETCH (UID 7 FLAGS (\Seen))` CRLF as text, for items of atoms and numbers only: the bytes
 * fetchResponse writes for them (a property test holds the two together), without a value object per
 * token. `FETCH 1:* (UID FLAGS)`, the poll every client runs, is a line per message of the mailbox:
 * its encoding through the generic values was about 6% of the gateway thread's time in the IMAP
 * benchmark's profile (docs/performance.md, IMAP seventh round). Flags are written as atoms, as
 * fetchResponse does.
 */
export function viewFetchText(sequence: number, items: readonly ViewFetchItem[]): string {
  let text = `* ${sequence} FETCH (`;
  for (let i = 0; i < items.length; i++) {
    const f = items[i]!;
    if (i > 0) text += ' ';
    if (f.item === 'UID') text += `UID ${f.uid}`;
    else if (f.item === 'FLAGS') text += `FLAGS (${f.flags.join(' ')})`;
    else text += `MODSEQ (${f.modseq})`;
  }
  return `${text})\r\n`;
}
