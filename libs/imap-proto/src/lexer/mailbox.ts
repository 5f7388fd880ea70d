import { decodeMailboxName } from '../mutf7.js';
import { isListChar, readRun } from './atom.js';
import type { Reader } from './reader.js';
import { DQUOTE } from './reader.js';
import { decodeUtf8, readAstring, readString } from './string.js';

/**
 * What a well-formed name that is not valid modified UTF-7 gets: BAD (null), or, where a mailbox is
 * looked up or made, NO [NONEXISTENT] / NO [CANNOT], as no mailbox can have such a name.
 */
export type UndecodableName = 'NONEXISTENT' | 'CANNOT' | null;

/** Turns the wire form of a name into the stored one: UTF-8 under UTF8=ACCEPT, else modified UTF-7. */
function decodeName(r: Reader, bytes: Buffer, what: string, undecodable: UndecodableName = null): string {
  const text = decodeUtf8(r, bytes, what);
  if (r.options.utf8Accept) return text;
  const decoded = decodeMailboxName(text);
  if ('error' in decoded) return r.fail(decoded.error, undecodable);
  return decoded.name;
}

/** mailbox: "INBOX" (any case, always returned as INBOX) or an astring. */
export function readMailbox(r: Reader, what = 'a mailbox name', undecodable: UndecodableName = null): string {
  const name = decodeName(r, readAstring(r, what), what, undecodable);
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** list-mailbox: 1*list-char (the wildcards % and * included) or a string. */
export function readListMailbox(r: Reader, what = 'a mailbox pattern'): string {
  const b = r.peek();
  if (b === DQUOTE || b === 0x7b) return decodeName(r, readString(r, what), what);
  const atom = readRun(r, isListChar);
  if (atom === '') r.fail(`Expected ${what}, found ${r.describeHere()}`);
  return decodeName(r, Buffer.from(atom, 'latin1'), what);
}
