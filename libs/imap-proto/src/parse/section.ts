import { readNumber, readNzNumber } from '../lexer/number.js';
import type { Reader } from '../lexer/reader.js';
import { readAstringText } from '../lexer/string.js';

/** A BODY[...] section (RFC 9051 6.4.5): a part path and what of it. */
export interface Section {
  /** Part numbers, e.g. [1, 2] for "1.2"; empty for the whole message. */
  part: number[];
  text: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME' | null;
  /** Field names for HEADER.FIELDS and HEADER.FIELDS.NOT, as the client wrote them. */
  fields: string[];
}

/** <origin.length>: a byte range of the section's content. */
export interface PartialRange {
  offset: number;
  length: number;
}

function readPartPath(r: Reader): number[] {
  const part: number[] = [];
  while (r.peek() >= 0x30 && r.peek() <= 0x39) {
    part.push(readNzNumber(r, 'a part number'));
    // "1.2" continues the path; "1.HEADER" goes on to the section text.
    const next = r.peek(1);
    if (r.peek() === 0x2e && next >= 0x30 && next <= 0x39) r.pos++;
    else break;
  }
  return part;
}

/** section: "[" [section-spec] "]". */
export function readSection(r: Reader): Section {
  r.expectChar(0x5b, '"["');
  const part = readPartPath(r);
  let text: Section['text'] = null;
  const fields: string[] = [];
  if (r.peek() !== 0x5d) {
    if (part.length > 0) r.expectChar(0x2e, '"." after the part number');
    const name = r.keyword('HEADER, HEADER.FIELDS, TEXT or MIME');
    if (name !== 'HEADER' && name !== 'HEADER.FIELDS' && name !== 'HEADER.FIELDS.NOT' && name !== 'TEXT') {
      if (name !== 'MIME' || part.length === 0) r.fail(`Unknown section ${name}`);
    }
    text = name as Section['text'];
    if (name === 'HEADER.FIELDS' || name === 'HEADER.FIELDS.NOT') {
      r.sp(name);
      r.expectChar(0x28, '"(" opening the header field names');
      do fields.push(readAstringText(r, 'a header field name'));
      while (r.trySp());
      r.expectChar(0x29, '")" closing the header field names');
    }
  }
  r.expectChar(0x5d, '"]" closing the section');
  return { part, text, fields };
}

/** section-binary: "[" [section-part] "]" (RFC 3516). */
export function readBinarySection(r: Reader): number[] {
  r.expectChar(0x5b, '"["');
  const part = readPartPath(r);
  r.expectChar(0x5d, '"]" closing the binary section');
  return part;
}

/** partial: "<" number "." nz-number ">". */
export function readPartial(r: Reader): PartialRange | null {
  if (!r.tryChar(0x3c)) return null;
  const offset = readNumber(r, 'a partial offset');
  r.expectChar(0x2e, '"." in the partial range');
  const length = readNzNumber(r, 'a partial length');
  r.expectChar(0x3e, '">" closing the partial range');
  return { offset, length };
}
