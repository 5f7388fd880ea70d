import { readFlag } from '../lexer/flags.js';
import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';

export interface CreateRequest {
  command: 'CREATE';
  mailbox: string;
  /** Special-use attributes asked for with CREATE ... (USE (\Sent)) (RFC 6154), e.g. ["\\Sent"]. */
  specialUse: string[];
}

export function parseCreate(r: Reader): CreateRequest {
  r.sp('CREATE');
  const mailbox = readMailbox(r, undefined, 'CANNOT');
  const specialUse: string[] = [];
  if (r.trySp()) {
    r.expectChar(0x28, '"(" opening the CREATE parameters');
    r.expectKeyword('USE');
    r.sp('USE');
    r.expectChar(0x28, '"(" opening the special-use list');
    do {
      if (r.peek() !== 0x5c)
        r.fail(`Expected a special-use attribute such as \\Sent, found ${r.describeHere()}`);
      specialUse.push(readFlag(r));
    } while (r.trySp());
    r.expectChar(0x29, '")" closing the special-use list');
    r.expectChar(0x29, '")" closing the CREATE parameters');
  }
  r.expectEnd('CREATE');
  return { command: 'CREATE', mailbox, specialUse };
}
