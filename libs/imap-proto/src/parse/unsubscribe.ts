import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';

export interface UnsubscribeRequest {
  command: 'UNSUBSCRIBE';
  mailbox: string;
}

export function parseUnsubscribe(r: Reader): UnsubscribeRequest {
  r.sp('UNSUBSCRIBE');
  const mailbox = readMailbox(r);
  r.expectEnd('UNSUBSCRIBE');
  return { command: 'UNSUBSCRIBE', mailbox };
}
