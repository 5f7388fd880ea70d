import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface CheckRequest {
  command: 'CHECK';
}

export function parseCheck(r: Reader): CheckRequest {
  expectNoArguments(r, 'CHECK');
  return { command: 'CHECK' };
}
