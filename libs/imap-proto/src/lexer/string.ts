import { isAstringChar, readRun } from './atom.js';
import type { Reader } from './reader.js';
import { BACKSLASH, CR, DQUOTE, LF } from './reader.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface LiteralValue {
  data: Buffer;
  /** Sent as literal8 (~{n}, RFC 3516): may hold NUL bytes. */
  binary: boolean;
}

/** quoted: DQUOTE *QUOTED-CHAR DQUOTE, where only \\ and \" are escapes. */
export function readQuoted(r: Reader): Buffer {
  r.expectChar(DQUOTE, 'a quoted string');
  const out: number[] = [];
  for (;;) {
    const b = r.peek();
    if (b === -1) r.fail('Unterminated quoted string');
    r.pos++;
    if (b === DQUOTE) return Buffer.from(out);
    if (b === BACKSLASH) {
      const escaped = r.peek();
      if (escaped !== DQUOTE && escaped !== BACKSLASH)
        r.fail('Only \\" and \\\\ may be escaped in a quoted string');
      r.pos++;
      out.push(escaped);
      continue;
    }
    if (b === CR || b === LF || b === 0) r.fail('A quoted string cannot hold CR, LF or NUL; use a literal');
    out.push(b);
  }
}

/**
 * literal / literal8: "{" n ["+"] "}" CRLF followed by n octets ("~{" for literal8). The receiver has
 * already gathered the octets, so they are read inline here.
 */
export function readLiteral(r: Reader, allowBinary: boolean): LiteralValue {
  const binary = r.tryChar(0x7e);
  if (binary && !allowBinary) r.fail('A binary literal (~{n}) is not allowed here');
  r.expectChar(0x7b, 'a literal');
  const start = r.pos;
  while (r.peek() >= 0x30 && r.peek() <= 0x39) r.pos++;
  const digits = r.bytes.subarray(start, r.pos).toString('latin1');
  if (digits === '' || digits.length > 15) r.fail('Invalid literal length');
  r.tryChar(0x2b);
  r.expectChar(0x7d, '"}" closing the literal length');
  if (!(r.tryChar(CR) && r.tryChar(LF))) r.fail('A literal length must end the line');
  const size = Number(digits);
  if (r.pos + size > r.bytes.length) r.fail('The literal is shorter than its announced length');
  const data = r.bytes.subarray(r.pos, r.pos + size);
  r.pos += size;
  if (!binary && data.includes(0)) r.fail('A literal cannot hold NUL bytes; use a binary literal (~{n})');
  return { data, binary };
}

/** string: quoted or literal. */
export function readString(r: Reader, what = 'a string'): Buffer {
  const b = r.peek();
  if (b === DQUOTE) return readQuoted(r);
  if (b === 0x7b) return readLiteral(r, false).data;
  return r.fail(`Expected ${what}, found ${r.describeHere()}`);
}

/** astring: 1*ASTRING-CHAR or string. */
export function readAstring(r: Reader, what = 'a string'): Buffer {
  const b = r.peek();
  if (b === DQUOTE || b === 0x7b) return readString(r, what);
  const atom = readRun(r, isAstringChar);
  if (atom === '') r.fail(`Expected ${what}, found ${r.describeHere()}`);
  return Buffer.from(atom, 'latin1');
}

/** nstring: string or NIL. */
export function readNstring(r: Reader, what = 'a string or NIL'): Buffer | null {
  if (r.tryKeyword('NIL')) return null;
  return readString(r, what);
}

/** Text a client sent as UTF-8 (RFC 9051 allows it in quoted strings); malformed UTF-8 is a syntax error. */
export function decodeUtf8(r: Reader, bytes: Buffer, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return r.fail(`${what} is not valid UTF-8`);
  }
}

export function readAstringText(r: Reader, what = 'a string'): string {
  return decodeUtf8(r, readAstring(r, what), what);
}

export function readStringText(r: Reader, what = 'a string'): string {
  return decodeUtf8(r, readString(r, what), what);
}
