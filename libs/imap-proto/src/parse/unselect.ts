import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface UnselectRequest {
  command: 'UNSELECT';
}

export function parseUnselect(r: Reader): UnselectRequest {
  expectNoArguments(r, 'UNSELECT');
  return { command: 'UNSELECT' };
}
