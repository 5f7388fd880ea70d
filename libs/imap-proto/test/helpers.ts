import assert from 'node:assert/strict';
import type { ImapRequest, ParseOptions } from '../src/index.js';
import { ParseError, parseCommand } from '../src/index.js';

/** Parses one command line written as text (literals inline) and returns its request. */
export function parse(line: string | Buffer, options: ParseOptions = {}): ImapRequest {
  return parseCommand(typeof line === 'string' ? Buffer.from(line, 'utf8') : line, options).request;
}

/** Asserts the line is refused with a ParseError whose message matches `message`. */
export function rejects(line: string, message: RegExp, options: ParseOptions = {}): ParseError {
  try {
    parseCommand(Buffer.from(line, 'utf8'), options);
  } catch (error) {
    assert.ok(error instanceof ParseError, `expected ParseError, got ${String(error)}`);
    assert.match(error.message, message);
    return error;
  }
  return assert.fail(`expected ${JSON.stringify(line)} to be refused`);
}

export const set = (...ranges: Array<[number | '*', number | '*'] | number | '*'>) => ({
  kind: 'set' as const,
  ranges: ranges.map((r) => (Array.isArray(r) ? { start: r[0], end: r[1] } : { start: r, end: r })),
});
