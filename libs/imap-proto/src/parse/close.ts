import type { Reader } from '../lexer/reader.js';
import { expectNoArguments } from './no-arguments.js';

export interface CloseRequest {
  command: 'CLOSE';
}

export function parseClose(r: Reader): CloseRequest {
  expectNoArguments(r, 'CLOSE');
  return { command: 'CLOSE' };
}
