import type { Reader } from '../lexer/reader.js';
import { decodeUtf8, readNstring, readString } from '../lexer/string.js';

export interface IdRequest {
  command: 'ID';
  /** Field/value pairs in the client's order (RFC 2971), null for ID NIL. */
  params: Array<[field: string, value: string | null]> | null;
}

export function parseId(r: Reader): IdRequest {
  r.sp('ID');
  if (r.tryKeyword('NIL')) {
    r.expectEnd('ID');
    return { command: 'ID', params: null };
  }
  r.expectChar(0x28, '"(" or NIL');
  const params: Array<[string, string | null]> = [];
  if (!r.tryChar(0x29)) {
    do {
      const field = decodeUtf8(r, readString(r, 'an ID field name'), 'The ID field name');
      r.sp('the ID field name');
      const value = readNstring(r, 'an ID value or NIL');
      params.push([field, value === null ? null : decodeUtf8(r, value, 'The ID value')]);
    } while (r.trySp());
    r.expectChar(0x29, '")" closing the ID parameters');
  }
  r.expectEnd('ID');
  return { command: 'ID', params };
}
