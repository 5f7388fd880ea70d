import { readAtom } from '../lexer/atom.js';
import type { Reader } from '../lexer/reader.js';

export interface EnableRequest {
  command: 'ENABLE';
  /** Uppercased, e.g. CONDSTORE, QRESYNC, UTF8=ACCEPT, IMAP4REV2. */
  capabilities: string[];
}

export function parseEnable(r: Reader): EnableRequest {
  const capabilities: string[] = [];
  r.sp('ENABLE');
  do capabilities.push(readAtom(r, 'a capability name').toUpperCase());
  while (r.trySp());
  r.expectEnd('ENABLE');
  return { command: 'ENABLE', capabilities };
}
