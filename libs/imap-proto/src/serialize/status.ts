import type { StatusItem } from '../parse/status-items.js';
import type { EncodeOptions, ImapValue } from './encoder.js';
import { atom, mailboxValue, num, untagged } from './encoder.js';

/** `* STATUS name (MESSAGES 3 UIDNEXT 9 ...)`, items in the order given; MAILBOXID is `MAILBOXID (id)`. */
export function statusResponse(
  mailbox: string,
  items: Partial<Record<StatusItem, number | bigint | string>>,
  options: EncodeOptions = {},
): Buffer {
  const values: ImapValue[] = [];
  for (const [item, value] of Object.entries(items)) {
    if (typeof value === 'string') values.push(atom(item), [atom(value)]);
    else if (value !== undefined) values.push(atom(item), num(value));
  }
  return untagged([atom('STATUS'), mailboxValue(mailbox, options), values], options);
}
