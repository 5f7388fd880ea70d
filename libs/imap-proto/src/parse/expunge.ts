import type { Reader } from '../lexer/reader.js';
import type { SequenceSet } from '../lexer/sequence-set.js';
import { readSequenceSet } from '../lexer/sequence-set.js';

/** EXPUNGE, or UID EXPUNGE (RFC 4315) limited to `uids`. */
export interface ExpungeRequest {
  command: 'EXPUNGE';
  uid: boolean;
  /** Only for UID EXPUNGE: the UIDs that may be expunged. */
  uids: SequenceSet | null;
}

export function parseExpunge(r: Reader, uid: boolean): ExpungeRequest {
  if (!uid) {
    if (!r.atEnd) r.fail('EXPUNGE takes no arguments');
    return { command: 'EXPUNGE', uid, uids: null };
  }
  r.sp('UID EXPUNGE');
  const uids = readSequenceSet(r);
  r.expectEnd('UID EXPUNGE');
  return { command: 'EXPUNGE', uid, uids };
}
