import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';
import type { StatusItem } from './status-items.js';
import { readStatusItems } from './status-items.js';

export interface StatusRequest {
  command: 'STATUS';
  mailbox: string;
  items: StatusItem[];
}

export function parseStatus(r: Reader): StatusRequest {
  r.sp('STATUS');
  const mailbox = readMailbox(r, undefined, 'NONEXISTENT');
  r.sp('the mailbox name');
  const items = readStatusItems(r);
  r.expectEnd('STATUS');
  return { command: 'STATUS', mailbox, items };
}
