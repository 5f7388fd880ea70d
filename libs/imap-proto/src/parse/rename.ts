import { readMailbox } from '../lexer/mailbox.js';
import type { Reader } from '../lexer/reader.js';

export interface RenameRequest {
  command: 'RENAME';
  from: string;
  to: string;
}

export function parseRename(r: Reader): RenameRequest {
  r.sp('RENAME');
  const from = readMailbox(r, 'the existing mailbox name', 'NONEXISTENT');
  r.sp('the existing mailbox name');
  const to = readMailbox(r, 'the new mailbox name', 'CANNOT');
  r.expectEnd('RENAME');
  return { command: 'RENAME', from, to };
}
