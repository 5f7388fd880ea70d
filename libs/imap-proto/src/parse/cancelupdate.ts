import type { Reader } from '../lexer/reader.js';
import { readStringText } from '../lexer/string.js';

export interface CancelUpdateRequest {
  command: 'CANCELUPDATE';
  /** The tags of the SEARCH / SORT RETURN (UPDATE) commands whose updates end. */
  tags: string[];
}

/** CANCELUPDATE SP tag-string *(SP tag-string) (RFC 5267 4.3.5); tag-string is a string. */
export function parseCancelUpdate(r: Reader): CancelUpdateRequest {
  r.sp('CANCELUPDATE');
  const tags: string[] = [];
  do tags.push(readStringText(r, 'a quoted tag'));
  while (r.trySp());
  r.expectEnd('CANCELUPDATE');
  return { command: 'CANCELUPDATE', tags };
}
