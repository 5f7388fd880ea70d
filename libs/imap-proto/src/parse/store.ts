import { readFlag, readFlagList } from '../lexer/flags.js';
import { readModSeq } from '../lexer/number.js';
import type { Reader } from '../lexer/reader.js';
import type { SequenceSet } from '../lexer/sequence-set.js';
import { readSequenceSet } from '../lexer/sequence-set.js';

export interface StoreRequest {
  command: 'STORE';
  uid: boolean;
  set: SequenceSet;
  /** FLAGS replaces, +FLAGS adds, -FLAGS removes. */
  operation: 'replace' | 'add' | 'remove';
  /** .SILENT: no untagged FETCH for the changes this command made. */
  silent: boolean;
  flags: string[];
  /** CONDSTORE (RFC 7162): only change messages whose mod-sequence is not above this. */
  unchangedSince: bigint | null;
}

export function parseStore(r: Reader, uid: boolean): StoreRequest {
  r.sp('STORE');
  const set = readSequenceSet(r);
  r.sp('the message set');
  let unchangedSince: bigint | null = null;
  if (r.tryChar(0x28)) {
    r.expectKeyword('UNCHANGEDSINCE');
    r.sp('UNCHANGEDSINCE');
    unchangedSince = readModSeq(r, true);
    r.expectChar(0x29, '")" closing the STORE modifiers');
    r.sp('the STORE modifiers');
  }
  const operation = r.tryChar(0x2b) ? 'add' : r.tryChar(0x2d) ? 'remove' : 'replace';
  const item = r.keyword('FLAGS, +FLAGS or -FLAGS');
  if (item !== 'FLAGS' && item !== 'FLAGS.SILENT') r.fail(`Expected FLAGS, +FLAGS or -FLAGS, found ${item}`);
  r.sp(item);
  let flags: string[];
  if (r.peek() === 0x28) flags = readFlagList(r);
  else {
    flags = [];
    do flags.push(readFlag(r));
    while (r.trySp());
  }
  r.expectEnd('STORE');
  return { command: 'STORE', uid, set, operation, silent: item === 'FLAGS.SILENT', flags, unchangedSince };
}
