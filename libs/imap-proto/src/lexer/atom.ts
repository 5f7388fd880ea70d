import type { Reader } from './reader.js';

/** ATOM-CHAR of RFC 9051: any CHAR except atom-specials ( ) { SP CTL % * " \ ]. */
export function isAtomChar(b: number): boolean {
  if (b <= 0x20 || b >= 0x7f) return false;
  return (
    b !== 0x28 &&
    b !== 0x29 &&
    b !== 0x7b &&
    b !== 0x25 &&
    b !== 0x2a &&
    b !== 0x22 &&
    b !== 0x5c &&
    b !== 0x5d
  );
}

/** ASTRING-CHAR: ATOM-CHAR or "]". */
export function isAstringChar(b: number): boolean {
  return isAtomChar(b) || b === 0x5d;
}

/** list-char: ATOM-CHAR, the wildcards % and *, or "]". */
export function isListChar(b: number): boolean {
  return isAstringChar(b) || b === 0x25 || b === 0x2a;
}

/** TAG-CHAR: ASTRING-CHAR except "+" (a "+" line is a continuation). */
export function isTagChar(b: number): boolean {
  return isAstringChar(b) && b !== 0x2b;
}

export function readRun(r: Reader, accept: (b: number) => boolean): string {
  const start = r.pos;
  while (r.pos < r.bytes.length && accept(r.bytes[r.pos]!)) r.pos++;
  return r.bytes.subarray(start, r.pos).toString('latin1');
}

export function readAtom(r: Reader, what = 'an atom'): string {
  const atom = readRun(r, isAtomChar);
  if (atom === '') r.fail(`Expected ${what}, found ${r.describeHere()}`);
  return atom;
}

export function readTag(r: Reader): string {
  const tag = readRun(r, isTagChar);
  if (tag === '') r.fail(`Expected a tag, found ${r.describeHere()}`);
  r.tag = tag;
  return tag;
}
