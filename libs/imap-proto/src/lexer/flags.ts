import { isAtomChar, readAtom } from './atom.js';
import type { Reader } from './reader.js';
import { BACKSLASH, SP } from './reader.js';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'];
const byLower = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** System flags in their canonical spelling; keywords keep the client's case. */
export function canonicalFlag(flag: string): string {
  return flag.startsWith('\\') ? (byLower.get(flag.toLowerCase()) ?? flag) : flag;
}

/** flag: "\" atom (system flag or flag-extension) or a keyword atom. */
export function readFlag(r: Reader): string {
  if (r.tryChar(BACKSLASH)) {
    if (!isAtomChar(r.peek())) r.fail(`Expected a flag name after "\\", found ${r.describeHere()}`);
    return canonicalFlag(`\\${readAtom(r, 'a flag name')}`);
  }
  return readAtom(r, 'a flag');
}

/** flag-list: "(" [flag *(SP flag)] ")". */
export function readFlagList(r: Reader): string[] {
  r.expectChar(0x28, '"(" opening a flag list');
  const flags: string[] = [];
  if (r.tryChar(0x29)) return flags;
  do flags.push(readFlag(r));
  while (r.tryChar(SP));
  r.expectChar(0x29, '")" closing the flag list');
  return flags;
}
