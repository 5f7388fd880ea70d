import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';

export interface DeleteRequest {
  command: 'DELETE';
  mailbox: string;
}

export function parseDelete(r: Reader): DeleteRequest {
  r.sp('DELETE');
  const mailbox = readMailbox(r, undefined, 'NONEXISTENT');
  r.expectEnd('DELETE');
  return { command: 'DELETE', mailbox };
}
