import type { Reader } from './reader.js';

const MAX_NUMBER = 0xffffffff;

function digits(r: Reader, what: string): string {
  const start = r.pos;
  while (r.peek() >= 0x30 && r.peek() <= 0x39) r.pos++;
  if (r.pos === start) r.fail(`Expected ${what}, found ${r.describeHere()}`);
  return r.bytes.subarray(start, r.pos).toString('latin1');
}

/** number: an unsigned 32-bit integer. */
export function readNumber(r: Reader, what = 'a number'): number {
  const text = digits(r, what);
  const value = text.length > 10 ? Infinity : Number(text);
  if (value > MAX_NUMBER) r.fail(`${what} ${text.slice(0, 20)} is too large`);
  return value;
}

/** nz-number: 1 to 2^32-1, without leading zeros. */
export function readNzNumber(r: Reader, what = 'a non-zero number'): number {
  if (r.peek() === 0x30) r.fail(`Expected ${what}, found ${r.describeHere()}`);
  return readNumber(r, what);
}

/** number64 of RFC 9051 (sizes), kept as a JS number: values past 2^53 are refused. */
export function readNumber64(r: Reader, what = 'a number'): number {
  const text = digits(r, what);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) r.fail(`${what} ${text.slice(0, 25)} is too large`);
  return value;
}

/** mod-sequence-value (RFC 7162): 1 to 2^63-1; a bigint since it outgrows a JS number. */
export function readModSeq(r: Reader, allowZero: boolean, what = 'a mod-sequence'): bigint {
  const text = digits(r, what);
  if (text.length > 19) r.fail(`${what} ${text.slice(0, 25)} is too large`);
  const value = BigInt(text);
  if (value > 0x7fffffffffffffffn) r.fail(`${what} ${text} is too large`);
  if (!allowZero && value === 0n) r.fail(`${what} must not be zero`);
  return value;
}
