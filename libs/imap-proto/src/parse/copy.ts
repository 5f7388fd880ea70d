import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';
import type { SequenceSet } from '../lexer/sequence-set.js';
import { readSequenceSet } from '../lexer/sequence-set.js';

/** COPY and MOVE (RFC 6851) share one shape: which messages, and where to. */
export interface CopyRequest {
  command: 'COPY' | 'MOVE';
  uid: boolean;
  set: SequenceSet;
  mailbox: string;
}

export function parseCopy(r: Reader, command: 'COPY' | 'MOVE', uid: boolean): CopyRequest {
  r.sp(command);
  const set = readSequenceSet(r);
  r.sp('the message set');
  const mailbox = readMailbox(r, 'a destination mailbox', 'NONEXISTENT');
  r.expectEnd(command);
  return { command, uid, set, mailbox };
}
