import { readListMailbox, readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';

export interface LsubRequest {
  command: 'LSUB';
  reference: string;
  pattern: string;
}

export function parseLsub(r: Reader): LsubRequest {
  r.sp('LSUB');
  const reference = readMailbox(r, 'a reference name');
  r.sp('the reference name');
  const pattern = readListMailbox(r);
  r.expectEnd('LSUB');
  return { command: 'LSUB', reference, pattern };
}
