import type { Reader } from '../lexer/reader.js';

/** Commands that take no arguments end right after their name. */
export function expectNoArguments(r: Reader, command: string): void {
  if (!r.atEnd) r.fail(`${command} takes no arguments`);
}
