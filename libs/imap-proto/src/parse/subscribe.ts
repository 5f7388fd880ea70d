import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';

export interface SubscribeRequest {
  command: 'SUBSCRIBE';
  mailbox: string;
}

export function parseSubscribe(r: Reader): SubscribeRequest {
  r.sp('SUBSCRIBE');
  const mailbox = readMailbox(r);
  r.expectEnd('SUBSCRIBE');
  return { command: 'SUBSCRIBE', mailbox };
}
